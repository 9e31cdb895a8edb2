import { load } from './index.js';

/**
 * True when the addon can hash file ranges itself with this node:crypto
 * algorithm name (through the OpenSSL inside Node).
 */
export function canDigestFiles(algorithm: string): boolean {
  const addon = load();
  return addon !== undefined && addon.digestAvailable(algorithm);
}

/**
 * A flag that stops running digest jobs: `cancel()` makes each stop within
 * one window (at most 8 MiB of work) with code ECANCELED, so that a 1 GiB
 * range never holds a pool thread after the caller has given up.
 */
export class DigestCancel {
  /** Shared with the pool threads. */
  readonly flag = new Int32Array(new SharedArrayBuffer(4));
  cancel(): void {
    Atomics.store(this.flag, 0, 1);
  }
  get cancelled(): boolean {
    return Atomics.load(this.flag, 0) !== 0;
  }
}

/** A failed digest job: code (errno name, ESHORT, ECANCELED), where (`offset`), and which span (`index`). */
export type DigestError = Error & { code?: string; offset?: number; index?: number; hexes?: string[] };

/**
 * Hashes byte ranges of an open file on a libuv pool thread, all in one job
 * (`spans`: [start, end) pairs), and resolves with their hex digests in
 * order. A regular file is hashed straight from the page cache through
 * read-only mappings, neighbouring small ranges sharing one; anything else
 * is read. A file that shrinks meanwhile, or a page that cannot be read,
 * fails the job (code ESHORT with `offset` where the file now ends, or
 * EIO), never the process; the error says which span (`index`) and carries
 * the digests done before it (`hexes`). `done`, if given, counts the bytes
 * hashed as it goes (Atomics.load it for progress). `cancel` stops the job
 * within one window (code ECANCELED).
 */
export function digestFileRanges(fd: number, spans: Float64Array, algorithm: string, done?: BigInt64Array, cancel?: DigestCancel): Promise<string[]> {
  const addon = load();
  if (addon === undefined) return Promise.reject(new Error('the native addon is not available'));
  return new Promise((resolve, reject) => {
    addon.digestRanges(fd, spans, algorithm, done ?? null, (error, hexes) => (error !== null ? reject(Object.assign(error, { hexes })) : resolve(hexes)), cancel?.flag ?? null);
  });
}

/**
 * One step of a long range: hashes [start, end) of `fd` into `context` (from
 * hashBegin(algorithm)) on a pool thread, so that a range of any size is hashed in
 * steps of bounded work (the caller checks for a cancel between them); with
 * `finish` the hash ends and its hex digest is the result, else undefined.
 * Errors as digestFileRanges (index 0). A context must not be in two jobs at once.
 */
export function digestFileStep(
  fd: number,
  start: number,
  end: number,
  algorithm: string,
  context: HashContext,
  finish: boolean,
  done?: BigInt64Array,
  cancel?: DigestCancel,
): Promise<string | undefined> {
  const addon = load();
  if (addon === undefined) return Promise.reject(new Error('the native addon is not available'));
  return new Promise((resolve, reject) => {
    addon.digestRanges(
      fd,
      Float64Array.of(start, end),
      algorithm,
      done ?? null,
      (error, hexes) => (error !== null ? reject(Object.assign(error, { hexes })) : resolve(hexes[0])),
      cancel?.flag ?? null,
      context,
      finish,
    );
  });
}

/** digestFileRanges for one range [start, end). */
export function digestFileRange(fd: number, start: number, end: number, algorithm: string, done?: BigInt64Array, cancel?: DigestCancel): Promise<string> {
  return digestFileRanges(fd, Float64Array.of(start, end), algorithm, done, cancel).then((h) => h[0]!);
}

/** An OpenSSL hash context living in the addon (see hashRun). */
export type HashContext = object & { readonly __hashContext?: never };

/** A fresh hash context for a node:crypto algorithm name (check canDigestFiles first). */
export function hashBegin(algorithm: string): HashContext {
  const addon = load();
  if (addon === undefined) throw new Error('the native addon is not available');
  return addon.hashBegin(algorithm);
}

/**
 * Runs hashing on a libuv pool thread: each item, in order, feeds bytes to
 * its context, or (null) ends it. Resolves with the hex digests of the
 * ended contexts, in item order. The bytes are read in place, not copied:
 * they must not change until the promise settles, and a context must not
 * be in two runs at once.
 */
export function hashRun(items: Array<[HashContext, Uint8Array | null]>): Promise<string[]> {
  const addon = load();
  if (addon === undefined) return Promise.reject(new Error('the native addon is not available'));
  return new Promise((resolve, reject) => addon.hashRun(items, (error, hexes) => (error !== null ? reject(error) : resolve(hexes))));
}
