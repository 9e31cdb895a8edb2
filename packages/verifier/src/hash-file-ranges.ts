import { availableParallelism } from 'node:os';
import { BmapkitError, rangeByteSpan, requireHashName, type Bmap } from '@bmapkit/bmap-format';
import { open } from 'node:fs/promises';
import { canDigestFiles, digestFileRanges, digestFileStep, DigestCancel, hashBegin, type DigestError } from '@bmapkit/native';

export interface HashFileRangesOptions {
  /** ChecksumType as in a bmap (default sha256). */
  algorithm?: string;
  /** Ranges hashed at once on the pool (default one more than the cores, at most 4; small jobs use fewer). */
  workers?: number;
  /** Called as each range's digest is known (any order), e.g. for progress or to compare it at once. */
  onDigest?: (range: number, hex: string) => void;
  /**
   * Keep the digests and resolve with them (default true). false: resolve
   * with an empty array, the digests having gone to onDigest only, so that
   * a million ranges cost no million strings.
   */
  keep?: boolean;
  /** Told the bytes processed so far, about ten times a second and at the end. */
  onProgress?: (bytes: number) => void;
  /**
   * Stops the work: no range is started after it fires, and a range being
   * hashed stops within 8 MiB; the promise then
   * rejects with the signal's reason once no thread touches the files.
   */
  signal?: AbortSignal;
}

/**
 * Small ranges go to the pool together, up to this many bytes or ranges a
 * job: one job per range cost ~0.1 ms each, so a bmap of a million 512-byte
 * ranges took 118 s to verify.
 */
const BATCH_BYTES = 4 << 20;
const BATCH_RANGES = 4096;

/** Below this much mapped data one pool job at a time is enough. */
const BYTES_PER_WORKER = 32 << 20;

/**
 * Hashes every range of a local file (the image for `create`, a written
 * destination for verification), whole ranges at a time, largest first, in
 * the native addon on the libuv pool with Node's OpenSSL, a regular file
 * read through read-only mappings. Parallelism is across ranges; one giant
 * range is one hash chain on one core. Without the addon (`canHashFiles()`
 * false) it fails with NATIVE_UNAVAILABLE: the stream stages (readExtents,
 * then generateChecksums or verifyChecksums on node:crypto) are the fallback.
 */
export async function hashFileRanges(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
  options: HashFileRangesOptions = {},
): Promise<string[]> {
  const algorithm = requireHashName(options.algorithm ?? 'sha256', 'checksums');
  if (!canDigestFiles(algorithm)) {
    throw new BmapkitError('NATIVE_UNAVAILABLE', `hashing '${path}' in place needs bmapkit's native addon with ${algorithm}; read it with readExtents and hash the chunks instead`);
  }
  const n = bmap.ranges.length;
  const keep = options.keep !== false;
  const digests = new Array<string>(keep ? n : 0);
  if (n === 0) return digests;
  const done = new BigInt64Array(new SharedArrayBuffer(8));
  const cancel = new DigestCancel();
  let hashed = 0;
  const record = (range: number, hex: string) => {
    if (keep) digests[range] = hex;
    hashed += 1;
    options.onDigest?.(range, hex);
  };
  const signal = options.signal;
  signal?.throwIfAborted();
  const onAbort = () => cancel.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const progress = options.onProgress === undefined ? undefined : setInterval(() => options.onProgress!(Number(Atomics.load(done, 0))), 100);
  try {
    // a window of ranges at a time: the per-range arrays stay small whatever the bmap's size
    const buffers = { spans: new ArrayBuffer(Math.min(n, WINDOW_RANGES) * 16), order: new ArrayBuffer(Math.min(n, WINDOW_RANGES) * 4) };
    for (let base = 0; base < n && !cancel.cancelled; base += WINDOW_RANGES) {
      const job = windowJob(bmap, base, Math.min(WINDOW_RANGES, n - base), options, buffers);
      await hashOnPool({ ...job, path, algorithm, done, record, options, cancel });
    }
  } catch (e) {
    signal?.throwIfAborted(); // a cancelled job's failure is the abort
    throw e;
  } finally {
    if (progress !== undefined) clearInterval(progress);
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  options.onProgress?.(Number(Atomics.load(done, 0)));
  if (hashed !== n) throw new Error(`internal error: ${n - hashed} of ${n} ranges were not hashed`);
  return digests;
}

/** Ranges hashed per round: the spans and order of one round take 20 bytes a range. */
const WINDOW_RANGES = 1 << 18;

/** The spans of ranges [base, base+count), and their order: largest first. */
function windowJob(
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
  base: number,
  count: number,
  options: HashFileRangesOptions,
  buffers: { spans: ArrayBuffer; order: ArrayBuffer },
): Pick<RangesJob, 'bmap' | 'base' | 'spans' | 'order' | 'slots'> {
  // the same memory for every window: nothing per window for the GC to find
  const spans = new Float64Array(buffers.spans, 0, count * 2);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const { start, end } = rangeByteSpan(bmap.ranges.at(base + i)!, bmap);
    spans[2 * i] = start;
    spans[2 * i + 1] = end;
    total += end - start;
  }
  const order = new Int32Array(buffers.order, 0, count);
  for (let k = 0; k < count; k++) order[k] = k;
  order.sort((a, b) => spans[2 * b + 1]! - spans[2 * b]! - (spans[2 * a + 1]! - spans[2 * a]!));
  // one more job than cores: while one waits between steps (a trip through
  // the main thread), another keeps the core busy (create 0.61 -> 0.56 s here)
  const wanted = options.workers ?? Math.min(4, availableParallelism() + 1);
  const slots = Math.max(1, Math.min(wanted, count, Math.ceil(total / BYTES_PER_WORKER)));
  return { bmap, base, spans, order, slots };
}

/** A window of ranges as spans, largest first, and where the results go. */
interface RangesJob {
  path: string;
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>;
  /** Index in bmap.ranges of the window's first range (spans and order count from it). */
  base: number;
  /** [start, end) of range i at 2i, 2i+1. */
  spans: Float64Array;
  /** Range indices, largest first. */
  order: Int32Array;
  /** Ranges hashed at a time: jobs on the pool. */
  slots: number;
  algorithm: string;
  /** Bytes hashed so far (shared, for progress). */
  done: BigInt64Array;
  /** Takes each range's digest. */
  record: (range: number, hex: string) => void;
  options: HashFileRangesOptions;
  /** Set when the caller gives up: every thread stops within one window. */
  cancel: DigestCancel;
}

/**
 * The addon hashes each range on a libuv pool
 * thread with Node's OpenSSL, reading a regular file through mappings,
 * `slots` ranges at a time, largest first. No worker threads to start
 * (~60 ms for two here) and no second JavaScript heap each (create's peak
 * RSS 141 MB -> 73 MB; raw copy see the session-3 note).
 */
async function hashOnPool(job: RangesJob): Promise<void> {
  const { path, bmap } = job;
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw readError(path, (e as Error).message, (e as NodeJS.ErrnoException).code, e);
  }
  let claimed = 0;
  let failure: unknown;
  /** The next job's ranges: one large range, or consecutive small ones up to BATCH_BYTES (one pool job for many). */
  const claim = (): number[] => {
    const batch: number[] = [];
    let bytes = 0;
    while (claimed < job.order.length && batch.length < BATCH_RANGES) {
      const i = job.order[claimed]!;
      const size = job.spans[2 * i + 1]! - job.spans[2 * i]!;
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push(i);
      bytes += size;
      claimed += 1;
    }
    return batch;
  };
  const slot = async (): Promise<void> => {
    while (failure === undefined && !job.cancel.cancelled && claimed < job.order.length) {
      const batch = claim();
      const spans = new Float64Array(2 * batch.length);
      batch.forEach((i, k) => spans.set([job.spans[2 * i]!, job.spans[2 * i + 1]!], 2 * k));
      let hexes: string[];
      try {
        hexes = spans[1]! - spans[0]! > STEP_BYTES ? await inSteps(handle.fd, spans[0]!, spans[1]!, job) : await digestFileRanges(handle.fd, spans, job.algorithm, job.done, job.cancel);
      } catch (e) {
        const err = e as DigestError;
        (err.hexes ?? []).forEach((hex, k) => job.record(job.base + batch[k]!, hex));
        const i = job.base + batch[err.index ?? 0]!;
        if (err.code === 'ECANCELED') failure ??= e;
        else if (err.code === 'ESHORT') failure ??= truncated(path, bmap, i, err.offset!);
        else failure ??= readError(path, err.message, err.code, e);
        continue;
      }
      hexes.forEach((hex, k) => job.record(job.base + batch[k]!, hex));
    }
  };
  try {
    // every slot settles before the files are closed: a job still running must not see its fd reused
    await Promise.all(Array.from({ length: job.slots }, slot));
  } finally {
    await handle.close();
  }
  if (failure !== undefined) throw failure;
}

/**
 * A range longer than this is hashed in steps of this size, one pool job
 * each, its hash context carried from one to the next: no job holds a
 * thread for more than ~8 MiB of work (a 1 GiB range was one job of ~0.6 s).
 */
const STEP_BYTES = 8 << 20;

/** One long range [start, end), STEP_BYTES at a time (each step sees a cancel before each window, the first included). */
async function inSteps(fd: number, start: number, end: number, job: RangesJob): Promise<string[]> {
  const context = hashBegin(job.algorithm);
  for (let at = start; ; at += STEP_BYTES) {
    const stop = Math.min(end, at + STEP_BYTES);
    const hex = await digestFileStep(fd, at, stop, job.algorithm, context, stop === end, job.done, job.cancel);
    if (stop === end) return [hex!];
  }
}

/** The image (or destination being verified) could not be read. */
function readError(path: string, message: string, errno: string | undefined, cause?: unknown): BmapkitError {
  return new BmapkitError('IMAGE_READ', `cannot read '${path}': ${message}`, { cause, details: { errno } });
}

function truncated(path: string, bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>, index: number, at: number): BmapkitError {
  const r = bmap.ranges.at(index)!;
  return new BmapkitError(
    'IMAGE_TRUNCATED',
    `'${path}' ends at byte ${at}, inside blocks ${r.first}-${r.last}; it is shorter than ${bmap.imageSize} bytes (did it change while being read?)`,
    { details: { path, range: index, available: at, expected: bmap.imageSize } },
  );
}

/** Whether hashFileRanges can hash `algorithm` here (the addon loads and its OpenSSL has it). */
export function canHashFiles(algorithm = 'sha256'): boolean {
  return canDigestFiles(requireHashName(algorithm, 'checksums'));
}
