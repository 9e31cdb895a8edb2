import { BmapkitError, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { RangeHasher, type RangeHasherOptions } from './range-hasher.js';

export interface VerifyOptions extends Pick<RangeHasherOptions, 'engine' | 'maxInFlight'> {
  /** How the image is named in messages. */
  image: string;
  /** Told each range whose digest matched the bmap's, as it is hashed. */
  onRange?: (range: number) => void;
}

/**
 * Hashes each range as its chunks pass and fails with RANGE_CHECKSUM
 * (range, expected, calculated, image) when a digest differs from the bmap's.
 * Chunks pass on unchanged and at once, so writing goes on while hashing;
 * a mismatch stops the stream at the next chunk, or at the end at the latest.
 * Ranges without a checksum pass unhashed. The algorithm is the bmap's.
 */
export function verifyChecksums(bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>, options: VerifyOptions): TransformStream<ImageChunk, ImageChunk> {
  let failure: BmapkitError | undefined;
  const hasher = new RangeHasher(
    bmap,
    (index, hex) => {
      const r = bmap.ranges.at(index)!;
      if (hex === r.checksum) options.onRange?.(index);
      else if (failure === undefined) {
        failure = new BmapkitError(
          'RANGE_CHECKSUM',
          `checksum mismatch for blocks range ${r.first}-${r.last}: calculated ${hex}, should be ${r.checksum} (image file ${options.image})`,
          { details: { range: index, first: r.first, last: r.last, expected: r.checksum, actual: hex, image: options.image } },
        );
      }
    },
    { ...options, algorithm: bmap.checksumType ?? 'sha256' },
  );
  const fail = async (e: unknown): Promise<never> => {
    await hasher.abort();
    throw e;
  };
  return new TransformStream<ImageChunk, ImageChunk>(
    {
      transform(chunk, controller) {
        if (failure !== undefined) return fail(failure);
        if (bmap.ranges.at(chunk.range)?.checksum === undefined) return controller.enqueue(chunk);
        return hasher.passOn(chunk, controller, (e) => {
          throw e;
        });
      },
      async flush() {
        try {
          await hasher.finish();
        } catch (e) {
          return fail(e);
        }
        if (failure !== undefined) throw failure;
      },
    },
    { highWaterMark: 4 },
    { highWaterMark: 4 },
  );
}
