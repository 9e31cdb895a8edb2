import type { Bmap, ImageChunk } from '@bmapkit/bmap-format';
import { RangeHasher, type RangeHasherOptions } from './range-hasher.js';

/** A range whose bytes do not hash to the bmap's checksum. */
export interface RangeMismatch {
  range: number;
  first: number;
  last: number;
  expected: string;
  actual: string;
}

/** The ranges whose digest (by index; undefined = not hashed) differs from the bmap's checksum. */
export function compareDigests(bmap: Pick<Bmap, 'ranges'>, digests: ReadonlyArray<string | undefined>): RangeMismatch[] {
  const out: RangeMismatch[] = [];
  bmap.ranges.forEach((r, range) => {
    const actual = digests[range];
    if (r.checksum !== undefined && actual !== undefined && actual !== r.checksum) {
      out.push({ range, first: r.first, last: r.last, expected: r.checksum, actual });
    }
  });
  return out;
}

/**
 * Hashes every range of a stream of ImageChunks (a decompressed image cut by
 * selectRanges) and resolves with the digests by range index: for checking
 * a compressed image against a bmap, where every mismatch is reported rather
 * than the first one failing the stream.
 */
export async function digestStream(
  chunks: ReadableStream<ImageChunk>,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  options: Pick<RangeHasherOptions, 'workers'> & { onChunk?: (chunk: ImageChunk) => void } = {},
): Promise<string[]> {
  const digests = new Array<string>(bmap.ranges.length);
  const hasher = new RangeHasher(bmap, (i, hex) => (digests[i] = hex), { ...options, algorithm: bmap.checksumType ?? 'sha256' });
  try {
    for await (const chunk of chunks as unknown as AsyncIterable<ImageChunk>) {
      options.onChunk?.(chunk);
      await hasher.add(chunk);
    }
    await hasher.finish();
  } catch (e) {
    await hasher.abort();
    throw e;
  }
  return digests;
}
