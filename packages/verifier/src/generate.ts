import { BmapkitError, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { RangeHasher, type RangeHasherOptions } from './range-hasher.js';

export interface GenerateOptions extends RangeHasherOptions {
  /** Called with (rangeIndex, hex digest) as each range is hashed. */
  onDigest?: (range: number, hex: string) => void;
}

/** A pass-through stage that computes every range's checksum on the way. */
export interface ChecksumGenerator extends TransformStream<ImageChunk, ImageChunk> {
  /** One hex digest per range, by range index; resolves when the stream has flushed. */
  readonly digests: Promise<string[]>;
}

/**
 * Hashes each range's bytes (any node:crypto algorithm, sha256 by default)
 * on worker threads and passes the chunks on unchanged. Parallelism is across
 * ranges: a range is one hash chain and stays on one worker.
 */
export function generateChecksums(
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
  options: GenerateOptions = {},
): ChecksumGenerator {
  const digests: string[] = new Array<string>(bmap.ranges.length);
  const hasher = new RangeHasher(
    bmap,
    (range, hex) => {
      digests[range] = hex;
      options.onDigest?.(range, hex);
    },
    options,
  );
  let resolve!: (d: string[]) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<string[]>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  done.catch(() => undefined);
  const stage = new TransformStream<ImageChunk, ImageChunk>({
    transform(chunk, controller) {
      return hasher.passOn(chunk, controller, (e) => {
        reject(e);
        throw e;
      });
    },
    async flush() {
      try {
        await hasher.finish();
        const missing = digests.findIndex((d) => d === undefined);
        if (missing !== -1 || digests.length !== bmap.ranges.length) {
          const r = bmap.ranges.at(missing === -1 ? digests.length : missing)!;
          throw new BmapkitError(
            'IMAGE_TRUNCATED',
            `no data arrived for blocks ${r.first}-${r.last}; the image ended before its last mapped range`,
          );
        }
        resolve(digests);
      } catch (e) {
        reject(e);
        throw e;
      }
    },
  });
  return Object.assign(stage, { digests: done });
}
