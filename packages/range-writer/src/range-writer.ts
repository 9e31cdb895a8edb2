import { BmapkitError, holdChunk, releaseChunk, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { DirectRing } from './direct-ring.js';
import { DirectStage } from './direct-stage.js';
import { writevFully, type PositionedFile } from './positioned.js';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './write-errors.js';

export type DestinationKind = 'file' | 'char' | 'block';

export interface RangeWriterOptions {
  /** How the destination is named in messages. */
  dest: string;
  /** Block size and ranges, to name the blocks a failed write was for. */
  bmap: Pick<Bmap, 'ranges' | 'blockSize'>;
  /** The image size when known: a regular file is cut to it before and after writing, so holes stay holes. */
  imageSize?: number;
  /**
   * file: truncated to 0 and sized first, sized again and fsynced at the end.
   * block: never truncated; fsynced every `syncEvery` bytes and at the end.
   * char (/dev/null): written only.
   */
  kind: DestinationKind;
  /**
   * fsync after this many bytes (default 6 MiB for buffered block devices, as
   * the reference; with `afterSync`, for any destination). Writes with
   * O_DIRECT leave no dirty page cache behind for a Ctrl-C to wait on, so
   * they are synced only at the end (and for `afterSync`).
   */
  syncEvery?: number;
  /**
   * The handle is O_DIRECT: data is staged in aligned buffers of this sector
   * size (edges read from `reader`), `stageBytes` each (default 4 MiB),
   * `depth` of them (default 2: one fills while the other is written).
   */
  direct?: { sectorSize: number; reader?: PositionedFile; stageBytes?: number; depth?: number };
  /** Transient errors (EIO, EBUSY) are retried (default 3 times, from 100 ms, x4 each). */
  retry?: Partial<RetryPolicy>;
  /**
   * Chunks queued while a write is in flight (default: up to QUEUE_BYTES of
   * them): decoding and hashing go on meanwhile.
   */
  queueDepth?: number;
  /** Called once all data is written, just before the final fsync (to say so). */
  beforeSync?: () => void;
  /**
   * After each fsync, the chunks it made durable, in order (for read-back
   * verification). Runs while writing goes on; the writer waits for the
   * previous call before starting the next, and for the last one at close.
   */
  afterSync?: (chunks: ImageChunk[]) => Promise<void>;
}

export interface RangeWriter extends WritableStream<ImageChunk> {
  /** Bytes written so far. */
  readonly bytesWritten: () => number;
  /** One past the highest byte written: the image size when it was not known. */
  readonly end: () => number;
  /** Writes one chunk again and fsyncs it (read-back verification found it wrong). */
  readonly rewrite: (chunk: ImageChunk) => Promise<void>;
}

const BLOCK_SYNC_EVERY = 6 << 20;
/**
 * Contiguous chunks are gathered into one pwritev of up to this many bytes
 * (when the handle has writev). Each positioned write is a trip through the
 * thread pool: 771 MiB into tmpfs here took 2.45 s in 128 KiB writes awaited
 * one by one, 0.58 s in 1 MiB writes (/tmp/wr.mjs in the session-3 note).
 */
const GATHER_BYTES = 1 << 20;

/**
 * Bytes of chunks queued by default. Counted in bytes, not chunks: with the
 * decoder running ahead on its own thread, 8 chunks of up to 1 MiB (and 16
 * in selectRanges) held 20 MB more at peak for no gain in speed (bench .zst
 * copy: 2.06-2.45 s, 160-168 MB; 1.95-2.14 s, 137-140 MB).
 */
const QUEUE_BYTES = 4 << 20;

/** Bytes of one O_DIRECT stage (see DirectRing for the measurement). */
const STAGE_BYTES = 4 << 20;

/**
 * Writes ImageChunks at their offsets into an open destination: only mapped
 * data is written, with positioned writes, so holes stay holes in a file and
 * old content stays in a device's unmapped blocks.
 */
export function rangeWriter(handle: PositionedFile, options: RangeWriterOptions): RangeWriter {
  const { dest, bmap, kind } = options;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const syncEvery = options.syncEvery ?? ((kind === 'block' && options.direct === undefined) || options.afterSync !== undefined ? BLOCK_SYNC_EVERY : Infinity);
  let written = 0;
  let end = 0;
  let sinceSync = 0;
  /** Chunks written since the last fsync (kept only for afterSync). */
  let unsynced: ImageChunk[] = [];
  let check: Promise<void> | undefined;

  const blocks = (offset: number, length: number) =>
    `writing blocks ${Math.floor(offset / bmap.blockSize)}-${Math.floor((offset + Math.max(length, 1) - 1) / bmap.blockSize)}`;
  const put = (data: Uint8Array[], position: number, length: number) =>
    withRetries(() => writevFully(handle, data, position), retry, dest, blocks(position, length));

  /**
   * A lent chunk (ImageChunk.lease) is held from the moment it arrives, so
   * that its bytes cannot go back to their pool while they are written (a
   * chunk that arrives already given back is CHUNK_LEASE, never a short
   * write); once written (or staged), the writer's claim and the stream's
   * are released: with afterSync, once its batch has been checked.
   */
  const giveBack = (chunks: ImageChunk[]) => {
    for (const c of chunks) {
      releaseChunk(c);
      releaseChunk(c);
    }
  };
  const release = (chunks: ImageChunk[]) => {
    if (options.afterSync === undefined) giveBack(chunks);
  };

  let gathered: Uint8Array[] = [];
  let gatheredChunks: ImageChunk[] = [];
  let gatheredAt = 0;
  let gatheredBytes = 0;
  /** Gathered writes in flight (disjoint ranges, so their order does not matter). */
  const writing: Array<Promise<void>> = [];
  /** Starts the gathered write; waits until at most `leave` writes are in flight. */
  const flushGathered = async (leave = 0) => {
    if (gatheredBytes > 0) {
      const chunks = gatheredChunks;
      const p = put(gathered, gatheredAt, gatheredBytes).then(() => release(chunks));
      p.catch(() => undefined); // awaited below or by the next flush
      writing.push(p);
      gathered = [];
      gatheredChunks = [];
      gatheredBytes = 0;
    }
    while (writing.length > leave) await writing.shift();
  };
  // never retried: a failed fsync has already dropped the pages it could not
  // write, and the kernel reports that once, so a second fsync "succeeds" over
  // lost data (a buffered copy to a loop device on a full tmpfs exited 0 so)
  const sync = () => withRetries(() => handle.sync(), { ...retry, retries: 0 }, dest, 'synchronizing');
  const d = options.direct;
  const ring = d === undefined ? undefined : new DirectRing(d.sectorSize, d.stageBytes ?? STAGE_BYTES, d.depth ?? 2, d.reader, (data, position) => put([data], position, data.byteLength));

  /** Resolves once no write or read-back check is in flight. */
  const settled = () => Promise.allSettled([...writing, check, ring?.settled()]);

  const flushStage = async () => {
    await ring?.flush();
    await flushGathered();
  };

  const writeChunk = async (chunk: ImageChunk) => {
    if (ring !== undefined) {
      await ring.place(chunk.offset, chunk.data); // copied into the stages
      return release([chunk]);
    }
    if (handle.writev === undefined) {
      await put([chunk.data], chunk.offset, chunk.data.byteLength);
      return release([chunk]);
    }
    const len = chunk.data.byteLength;
    // one gathered write may go on while the next is gathered; flushStage waits for all
    if (gatheredBytes > 0 && (chunk.offset !== gatheredAt + gatheredBytes || gatheredBytes + len > GATHER_BYTES)) await flushGathered(1);
    if (gatheredBytes === 0) gatheredAt = chunk.offset;
    gathered.push(chunk.data);
    gatheredChunks.push(chunk);
    gatheredBytes += len;
    if (gatheredBytes >= GATHER_BYTES) await flushGathered(1);
  };

  /** fsync, then hand what it made durable to afterSync (after the previous call is done). */
  const syncAndCheck = async () => {
    await flushStage();
    await sync();
    sinceSync = 0;
    if (options.afterSync === undefined) return;
    const batch = unsynced;
    unsynced = [];
    if (check !== undefined) await check;
    check = options.afterSync(batch).then(() => giveBack(batch));
    check.catch(() => undefined); // surfaced by the next await
  };

  const stream = new WritableStream<ImageChunk>(
    {
      async start() {
        if (kind !== 'file') return;
        try {
          await handle.truncate(0);
          if (options.imageSize !== undefined) await handle.truncate(options.imageSize);
        } catch (e) {
          throw new BmapkitError('DEST_IO', `cannot truncate file '${dest}': ${(e as Error).message}`, { cause: e });
        }
      },
      async write(chunk) {
        const { offset, data } = chunk; // data is detached once the writer gives a lent buffer back
        const length = data.byteLength;
        try {
          holdChunk(chunk);
          if (sinceSync >= syncEvery && kind !== 'char') await syncAndCheck();
          await writeChunk(chunk);
        } catch (e) {
          await settled(); // a failed write errors the stream: the others must be over before anyone closes the descriptor
          throw e;
        }
        if (options.afterSync !== undefined) unsynced.push(chunk);
        written += length;
        sinceSync += length;
        end = Math.max(end, offset + length);
      },
      async close() {
        await flushStage().catch(async (e: unknown) => {
          await settled();
          throw e;
        });
        if (kind === 'char') {
          options.beforeSync?.(); // nothing to truncate or sync (the reference skips /dev/null's fsync)
          return;
        }
        if (kind === 'file') {
          try {
            await handle.truncate(options.imageSize ?? end);
          } catch (e) {
            throw new BmapkitError('DEST_IO', `cannot truncate file '${dest}': ${(e as Error).message}`, { cause: e });
          }
        }
        options.beforeSync?.();
        await syncAndCheck();
        await check;
      },
      async abort() {
        // the pipe gave up (an error upstream, a cancel): no write may still
        // be in flight once the stream has settled, or the caller could close
        // (and the process reuse) the descriptor under it
        await settled();
      },
    },
    options.queueDepth !== undefined ? { highWaterMark: options.queueDepth } : { highWaterMark: QUEUE_BYTES, size: (chunk: ImageChunk) => Math.max(1, chunk.data.byteLength) },
  );

  const rewrite = async (chunk: ImageChunk) => {
    if (options.direct === undefined) {
      await put([chunk.data], chunk.offset, chunk.data.byteLength);
    } else {
      const one = new DirectStage(options.direct.sectorSize, Math.ceil((chunk.data.byteLength + 2 * options.direct.sectorSize) / 4096) * 4096, options.direct.reader);
      one.place(chunk.offset, chunk.data);
      const sealed = (await one.seal())!;
      await put([sealed.data], sealed.position, sealed.data.byteLength);
    }
    await sync();
  };

  return Object.assign(stream, { bytesWritten: () => written, end: () => end, rewrite });
}
