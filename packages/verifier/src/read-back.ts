import { createHash, type Hash } from 'node:crypto';
import { BmapkitError, rangeByteSpan, requireHashName, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { alignedBuffer, dropCache } from '@bmapkit/native';

/** What read-back needs of the destination, opened a second time read-only (a FileHandle has it). */
export interface ReadBackFile {
  readonly fd: number;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

export interface ReadBackOptions {
  /** The destination, read-only, O_DIRECT when `direct`. */
  reader: ReadBackFile;
  /** The reader is O_DIRECT (aligned reads). Otherwise the page cache is dropped before each read. */
  direct: boolean;
  /** Geometry and, when present, the range checksums the read-back bytes must match. */
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>;
  /** How the destination is named in messages. */
  dest: string;
  /** Writes a chunk again and makes it durable (the range writer's `rewrite`). */
  rewrite: (chunk: ImageChunk) => Promise<void>;
  /** Rewrites of a chunk that reads back wrong before giving up (default 3). */
  retries?: number;
  /** Told about each chunk that read back wrong, and the attempt (1 = the first rewrite). */
  onMismatch?: (chunk: ImageChunk, attempt: number) => void;
}

export interface ReadBack {
  /** Reads back chunks that were just written and fsynced, in order; rewrites bad ones. */
  check(chunks: ImageChunk[]): Promise<void>;
  /** Bytes read back so far and chunks rewritten. */
  stats(): { bytes: number; rewrites: number };
}

const ALIGN = 4096;

/**
 * Read-back verification: after the writer fsyncs a batch, read it back from
 * the medium (O_DIRECT, or after dropping the page cache), compare it byte
 * for byte with what was written, rewrite a chunk that differs up to
 * `retries` times, then fail with DEST_VERIFY naming its blocks. The bytes
 * read back are also hashed per range and checked against the bmap's
 * checksum, so the medium is proved to hold the bmap's data, not merely what
 * this process handed to the kernel.
 */
export function readBack(options: ReadBackOptions): ReadBack {
  const { bmap, dest, reader } = options;
  const retries = options.retries ?? 3;
  const algorithm = bmap.checksumType === undefined ? undefined : requireHashName(bmap.checksumType);
  let bytes = 0;
  let rewrites = 0;
  let hashing: { range: number; hash: Hash; next: number; end: number } | undefined;

  const blocks = (c: ImageChunk) => `${Math.floor(c.offset / bmap.blockSize)}-${Math.floor((c.offset + c.data.byteLength - 1) / bmap.blockSize)}`;

  /** Reads [start, end) of the medium. */
  const read = async (start: number, end: number): Promise<Uint8Array> => {
    const from = options.direct ? start - (start % ALIGN) : start;
    const to = options.direct ? Math.ceil(end / ALIGN) * ALIGN : end;
    if (!options.direct) dropCache(reader.fd, from, to - from);
    const buf = options.direct ? alignedBuffer(to - from, ALIGN) : new Uint8Array(to - from);
    let done = 0;
    while (from + done < end) {
      let n: number;
      try {
        ({ bytesRead: n } = await reader.read(buf, done, buf.byteLength - done, from + done));
      } catch (e) {
        throw new BmapkitError('DEST_IO', `cannot read back bytes ${from + done}-${end - 1} of '${dest}': ${(e as Error).message}`, { cause: e });
      }
      if (n === 0) throw new BmapkitError('DEST_VERIFY', `'${dest}' ends at byte ${from + done}, before the data written up to byte ${end}`);
      done += n;
    }
    return buf.subarray(start - from, end - from);
  };

  const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

  const hashRange = (chunk: ImageChunk, data: Uint8Array) => {
    const r = bmap.ranges.at(chunk.range);
    if (algorithm === undefined || r?.checksum === undefined) return;
    if (hashing?.range !== chunk.range) {
      const span = rangeByteSpan(r, bmap);
      hashing = { range: chunk.range, hash: createHash(algorithm), next: span.start, end: span.end };
    }
    if (chunk.offset !== hashing.next) {
      throw new BmapkitError('CHUNK_ORDER', `read-back of range #${chunk.range} got byte ${chunk.offset}, expected ${hashing.next}; chunks must come in order`);
    }
    hashing.hash.update(data);
    hashing.next += data.byteLength;
    if (hashing.next >= hashing.end) {
      const hex = hashing.hash.digest('hex');
      hashing = undefined;
      if (hex !== r.checksum) {
        throw new BmapkitError(
          'DEST_VERIFY',
          `blocks range ${r.first}-${r.last} read back from '${dest}' has checksum ${hex}, the bmap says ${r.checksum}; the destination does not hold the image`,
          { details: { range: chunk.range, first: r.first, last: r.last, expected: r.checksum, actual: hex } },
        );
      }
    }
  };

  const checkChunk = async (chunk: ImageChunk, got: Uint8Array) => {
    let data = got;
    for (let attempt = 1; !equal(data, chunk.data); attempt++) {
      if (attempt > retries) {
        throw new BmapkitError(
          'DEST_VERIFY',
          `blocks ${blocks(chunk)} of '${dest}' read back different from what was written, ${retries} rewrites did not help; the medium may be failing (or fake-capacity)`,
          { details: { offset: chunk.offset, length: chunk.data.byteLength, range: chunk.range } },
        );
      }
      options.onMismatch?.(chunk, attempt);
      rewrites++;
      await options.rewrite(chunk);
      data = await read(chunk.offset, chunk.offset + chunk.data.byteLength);
    }
    hashRange(chunk, data);
    bytes += data.byteLength;
  };

  return {
    async check(chunks) {
      // contiguous chunks are read back with one read
      let i = 0;
      while (i < chunks.length) {
        let j = i + 1;
        let end = chunks[i]!.offset + chunks[i]!.data.byteLength;
        while (j < chunks.length && chunks[j]!.offset === end && end - chunks[i]!.offset < 16 << 20) {
          end += chunks[j]!.data.byteLength;
          j++;
        }
        const start = chunks[i]!.offset;
        const span = await read(start, end);
        for (const c of chunks.slice(i, j)) await checkChunk(c, span.subarray(c.offset - start, c.offset - start + c.data.byteLength));
        i = j;
      }
    },
    stats: () => ({ bytes, rewrites }),
  };
}
