import { BmapkitError, requireHashName, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { openFileSource, readExtents } from '@bmapkit/extent-source';
import { digestStream } from './compare.js';
import { canHashFiles, hashFileRanges } from './hash-file-ranges.js';
import type { HashEngine } from './range-hasher.js';

/** One range's digest. */
export interface RangeDigest {
  /** Index into bmap.ranges. */
  range: number;
  /** Lowercase hex, as a bmap's checksums. */
  hex: string;
}

export interface RangeDigestsOptions {
  /**
   * native: the addon's pool hashes the file where it lies (a regular file
   * through read-only mappings, the page cache hashed in place, no copy);
   * js: readExtents, then node:crypto on the calling thread. auto (the
   * default): native when the addon loads and has the algorithm.
   */
  engine?: HashEngine;
  /** Told the bytes hashed so far, about ten times a second and at the end. */
  onProgress?: (bytes: number) => void;
  /**
   * Stops the hashing as cancelling the stream does; the stream then errors
   * with the signal's reason, once no thread touches the file any more.
   */
  signal?: AbortSignal;
}

/**
 * The source stage of `create` and `verify`: every mapped range of a local
 * file or device hashed, each digest a chunk of the stream as soon as it is
 * known (any order; ranges hashed in parallel, largest first). The
 * algorithm is the bmap's checksumType (default sha256). Cancelling the
 * stream (or aborting `signal`) stops the hashing; the cancel resolves (the
 * stream errors) once no thread touches the file.
 * A file shorter than the bmap says is IMAGE_TRUNCATED; one that cannot be
 * read, IMAGE_READ (or IMAGE_OPEN).
 */
export function rangeDigests(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  options: RangeDigestsOptions = {},
): ReadableStream<RangeDigest> {
  const algorithm = requireHashName(bmap.checksumType ?? 'sha256', 'checksums');
  const engine = options.engine ?? 'auto';
  const native = engine !== 'js' && canHashFiles(algorithm);
  if (engine === 'native' && !native) {
    throw new BmapkitError('NATIVE_UNAVAILABLE', `hashing '${path}' with the native engine needs bmapkit's native addon with ${algorithm}; use the 'js' engine`);
  }
  const cancel = new AbortController();
  const signal = options.signal === undefined ? cancel.signal : AbortSignal.any([cancel.signal, options.signal]);
  let running: Promise<void> = Promise.resolve();
  return new ReadableStream<RangeDigest>(
    {
      start(controller) {
        const onDigest = (range: number, hex: string) => controller.enqueue({ range, hex });
        running = (native ? inPlace(path, bmap, algorithm, onDigest, signal, options) : streamed(path, bmap, onDigest, signal, options)).then(
          () => {
            if (!cancel.signal.aborted) controller.close();
          },
          (e: unknown) => {
            if (!cancel.signal.aborted) controller.error(e);
          },
        );
      },
      async cancel(reason) {
        cancel.abort(reason);
        await running;
      },
    },
    // digests are small, and the hashing cannot wait for a reader: every one is queued
    { highWaterMark: Number.POSITIVE_INFINITY },
  );
}

async function inPlace(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
  algorithm: string,
  onDigest: (range: number, hex: string) => void,
  signal: AbortSignal,
  options: RangeDigestsOptions,
): Promise<void> {
  await hashFileRanges(path, bmap, { algorithm, keep: false, onDigest, signal, ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }) });
}

/** Without the addon: the bytes read by readExtents, hashed by node:crypto. */
async function streamed(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  onDigest: (range: number, hex: string) => void,
  signal: AbortSignal,
  options: RangeDigestsOptions,
): Promise<void> {
  // an abort cancels readExtents (which closes the file once its reads are done) and fails the hashing
  const chunks = readExtents(await openFileSource(path), bmap.ranges, bmap).pipeThrough(new TransformStream<ImageChunk, ImageChunk>(), { signal });
  let bytes = 0;
  let told = 0;
  const progress = options.onProgress;
  await digestStream(chunks, bmap, {
    engine: 'js',
    onDigest,
    ...(progress === undefined
      ? {}
      : {
          onChunk: (c) => {
            bytes += c.data.byteLength;
            if (Date.now() - told >= 100) {
              told = Date.now();
              progress(bytes);
            }
          },
        }),
  });
  progress?.(bytes);
}
