import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { BmapkitError, rangeByteSpan, requireHashName, type Bmap } from '@bmapkit/bmap-format';
import { open, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { canDigestFiles, copyFileRange, digestFileRange, DigestCancel } from '@bmapkit/native';
import { DEFAULT_RETRY, TRANSIENT_WRITE_ERRORS, writeFailure } from '@bmapkit/range-writer';
import { FILE_HASH_WORKER_SOURCE } from './file-hash-worker-source.js';

export interface HashFileRangesOptions {
  /** ChecksumType as in a bmap (default sha256). */
  algorithm?: string;
  /** Worker threads (default one per core, at most 4; small jobs use fewer). */
  workers?: number;
  /** Bytes per read (default 256 KiB: fits the CPU cache, so data is hashed while still hot). */
  chunkSize?: number;
  /** Called as each range's digest is known (any order), e.g. for progress. */
  onDigest?: (range: number, hex: string) => void;
  /**
   * Also write every byte read to this existing file at the same offset: the
   * fused read-hash-write path for copying a raw local image to a regular
   * file (each worker reads, hashes and writes its ranges; nothing crosses
   * threads). The caller sizes, syncs and compares the digests.
   */
  copyTo?: {
    path: string;
    /** How the destination is named in messages. */
    dest: string;
    /** fsync after each worker has written this many bytes (block devices: 6 MiB, so Ctrl-C is quick); default never. */
    syncEvery?: number;
    /** Further tries of a write failing with a transient error (range-writer's list; default 3, from 100 ms, x4). */
    retries?: number;
  };
  /** Told the bytes processed so far, about ten times a second and at the end. */
  onProgress?: (bytes: number) => void;
  /**
   * Stops the work: no range is started after it fires, and a range being
   * hashed stops within 8 MiB (1 MiB on worker threads); the promise then
   * rejects with the signal's reason once no thread touches the files.
   */
  signal?: AbortSignal;
  /**
   * Hash in the native addon, a regular file through read-only mappings
   * (default, when the addon can hash with Node's OpenSSL); false: worker
   * threads with positioned reads into buffers. A mapped file must not
   * shrink meanwhile: a page past its new end is a SIGBUS, where a read
   * would have been short.
   */
  map?: boolean;
}

/** Below this much mapped data one worker is enough: starting more costs more than it saves. */
const BYTES_PER_WORKER = 32 << 20;

/**
 * Hashes every range of a local file (the image for `create`, a written
 * destination for read-back verification), whole ranges at a time, largest
 * first: in the native addon on the libuv pool (hashOnPool), or, with
 * `map: false` or without the addon, on worker threads that each open the
 * file, claim ranges from a shared counter and read them with positioned
 * reads: no chunk is copied between threads. Parallelism is across ranges;
 * one giant range is one hash chain on one core.
 */
export async function hashFileRanges(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
  options: HashFileRangesOptions = {},
): Promise<string[]> {
  const algorithm = requireHashName(options.algorithm ?? 'sha256', 'checksums');
  const n = bmap.ranges.length;
  const digests = new Array<string>(n);
  if (n === 0) return digests;
  const spans = new Float64Array(new SharedArrayBuffer(n * 16));
  let total = 0;
  bmap.ranges.forEach((r, i) => {
    const { start, end } = rangeByteSpan(r, bmap);
    spans[2 * i] = start;
    spans[2 * i + 1] = end;
    total += end - start;
  });
  const order = new Int32Array(new SharedArrayBuffer(n * 4));
  const indices = Array.from({ length: n }, (_, i) => i).sort((a, b) => spans[2 * b + 1]! - spans[2 * b]! - (spans[2 * a + 1]! - spans[2 * a]!));
  order.set(indices);
  const wanted = options.workers ?? Math.min(4, availableParallelism());
  const workers = Math.max(1, Math.min(wanted, n, Math.ceil(total / BYTES_PER_WORKER)));
  const done = new BigInt64Array(new SharedArrayBuffer(8));
  const cancel = new DigestCancel();
  const job: RangesJob = { path, bmap, spans, order, slots: workers, algorithm, done, digests, options, cancel };
  const signal = options.signal;
  signal?.throwIfAborted();
  const onAbort = () => cancel.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const progress = options.onProgress === undefined ? undefined : setInterval(() => options.onProgress!(Number(Atomics.load(done, 0))), 100);
  try {
    await (options.map !== false && canDigestFiles(algorithm) ? hashOnPool(job) : hashOnWorkers(job));
  } catch (e) {
    signal?.throwIfAborted(); // a cancelled job's failure is the abort
    throw e;
  } finally {
    if (progress !== undefined) clearInterval(progress);
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  options.onProgress?.(Number(Atomics.load(done, 0)));
  const missing = digests.findIndex((d) => d === undefined);
  if (missing !== -1) throw new Error(`internal error: range #${missing} was not hashed`);
  return digests;
}

/** What both ways of hashing get: the ranges as spans, largest first, and where the results go. */
interface RangesJob {
  path: string;
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>;
  /** [start, end) of range i at 2i, 2i+1 (shared with the workers). */
  spans: Float64Array;
  /** Range indices, largest first (shared with the workers). */
  order: Int32Array;
  /** Ranges hashed at a time: workers, or jobs on the pool. */
  slots: number;
  algorithm: string;
  /** Bytes hashed so far (shared, for progress). */
  done: BigInt64Array;
  digests: string[];
  options: HashFileRangesOptions;
  /** Set when the caller gives up: every thread stops within one window. */
  cancel: DigestCancel;
}

/**
 * `slots` worker threads each open the file, claim ranges from a shared
 * counter and read them with positioned reads (and, with copyTo, write
 * them): no chunk is copied between threads.
 */
async function hashOnWorkers(job: RangesJob): Promise<void> {
  const { path, bmap, options, digests } = job;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const workerData = {
    path,
    spans: job.spans,
    order: job.order,
    next,
    algorithm: job.algorithm,
    chunkSize: options.chunkSize ?? 256 << 10,
    copyTo: options.copyTo?.path ?? null,
    syncEvery: options.copyTo?.syncEvery ?? 0,
    retries: options.copyTo?.retries ?? DEFAULT_RETRY.retries,
    delayMs: DEFAULT_RETRY.delayMs,
    transient: TRANSIENT_WRITE_ERRORS,
    done: job.done,
    cancel: job.cancel.flag,
  };
  const pool: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: job.slots }, () => {
        const w = new Worker(FILE_HASH_WORKER_SOURCE, { eval: true, workerData });
        pool.push(w);
        return new Promise<void>((resolve, reject) => {
          w.on('message', (m: [string, ...unknown[]]) => {
            if (m[0] === 'digests') {
              const list = m[1] as Array<number | string>;
              for (let k = 0; k < list.length; k += 2) {
                digests[list[k] as number] = list[k + 1] as string;
                options.onDigest?.(list[k] as number, list[k + 1] as string);
              }
            } else if (m[0] === 'done') resolve();
            else if (m[0] === 'cancelled') reject(new Error('cancelled'));
            else if (m[0] === 'short') reject(truncated(path, bmap, m[1] as number, m[2] as number));
            else if (m[0] === 'werror') reject(writeError(options.copyTo!, m[1] as string, m[2] as string, bmap.ranges[m[3] as number]!, m[5] as number));
            else reject(readError(path, m[2] as string, m[1] as string | undefined));
          });
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hashing worker exited with status ${code}`))));
        });
      }),
    );
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

/**
 * The addon hashes (and, with copyTo, writes) each range on a libuv pool
 * thread with Node's OpenSSL, reading a regular file through mappings,
 * `slots` ranges at a time, largest first. No worker threads to start
 * (~60 ms for two here) and no second JavaScript heap each (create's peak
 * RSS 141 MB -> 73 MB; raw copy see the session-3 note).
 */
async function hashOnPool(job: RangesJob): Promise<void> {
  const { path, bmap } = job;
  const copyTo = job.options.copyTo;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw readError(path, (e as Error).message, (e as NodeJS.ErrnoException).code, e);
  }
  let out: FileHandle | undefined;
  if (copyTo !== undefined) {
    try {
      out = await open(copyTo.path, fsConstants.O_WRONLY);
    } catch (e) {
      await handle.close();
      throw writeFailure(e, copyTo.dest, 'opening it for writing', 1);
    }
  }
  const transient = Int32Array.from(TRANSIENT_WRITE_ERRORS.map((name) => osConstants.errno[name as keyof typeof osConstants.errno] ?? -1));
  let claimed = 0;
  let failure: unknown;
  const slot = async (): Promise<void> => {
    let unsynced = 0;
    while (failure === undefined && !job.cancel.cancelled && claimed < job.order.length) {
      const i = job.order[claimed++]!;
      const start = job.spans[2 * i]!;
      const end = job.spans[2 * i + 1]!;
      try {
        let hex: string;
        if (out === undefined) {
          hex = await digestFileRange(handle.fd, start, end, job.algorithm, job.done, job.cancel);
        } else {
          const copy = { fd: out.fd, syncEvery: copyTo!.syncEvery ?? 0, unsynced, retries: copyTo!.retries ?? DEFAULT_RETRY.retries, delayMs: DEFAULT_RETRY.delayMs, transient };
          ({ hex, unsynced } = await copyFileRange(handle.fd, start, end, job.algorithm, copy, job.done, job.cancel));
        }
        job.digests[i] = hex;
        job.options.onDigest?.(i, hex);
      } catch (e) {
        const err = e as NodeJS.ErrnoException & { offset?: number; tries?: number };
        if (err.code === 'ECANCELED') failure ??= e;
        else if (err.code === 'ESHORT') failure ??= truncated(path, bmap, i, err.offset!);
        else if (out !== undefined && /^(write|fsync):/.test(err.message)) failure ??= writeError(copyTo!, err.code ?? 'EIO', err.message.replace(/^(write|fsync): /, ''), bmap.ranges[i]!, err.tries ?? 1);
        else failure ??= readError(path, err.message, err.code, e);
      }
    }
  };
  try {
    // every slot settles before the files are closed: a job still running must not see its fd reused
    await Promise.all(Array.from({ length: job.slots }, slot));
  } finally {
    await handle.close();
    await out?.close();
  }
  if (failure !== undefined) throw failure;
}

/** The image (or destination being verified) could not be read. */
function readError(path: string, message: string, errno: string | undefined, cause?: unknown): BmapkitError {
  return new BmapkitError('IMAGE_READ', `cannot read '${path}': ${message}`, { cause, details: { errno } });
}

function truncated(path: string, bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>, index: number, at: number): BmapkitError {
  const r = bmap.ranges[index]!;
  return new BmapkitError(
    'IMAGE_TRUNCATED',
    `'${path}' ends at byte ${at}, inside blocks ${r.first}-${r.last}; it is shorter than ${bmap.imageSize} bytes (did it change while being read?)`,
    { details: { path, range: index, available: at, expected: bmap.imageSize } },
  );
}

/** A worker's failed write, reported as the range writer reports one. */
function writeError(to: { dest: string }, code: string, message: string, r: { first: number; last: number }, tries: number): BmapkitError {
  return writeFailure(Object.assign(new Error(message), { code }), to.dest, `writing blocks ${r.first}-${r.last}`, tries);
}
