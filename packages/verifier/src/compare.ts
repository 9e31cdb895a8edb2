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

/**
 * Compares digests with the bmap's checksums as they come (any order), and
 * keeps only the ones that differ: for a million ranges, no million strings.
 * `onMatch` is told each range whose digest matched.
 */
export function digestChecker(
  bmap: Pick<Bmap, 'ranges'>,
  onMatch?: (range: number) => void,
): { check: (range: number, hex: string) => void; mismatches: () => RangeMismatch[] } {
  const out: RangeMismatch[] = [];
  return {
    check(range, actual) {
      const r = bmap.ranges.at(range);
      if (r?.checksum === undefined) return;
      if (actual === r.checksum) onMatch?.(range);
      else out.push({ range, first: r.first, last: r.last, expected: r.checksum, actual });
    },
    mismatches: () => out.sort((a, b) => a.range - b.range),
  };
}

/** The ranges whose digest (by index; undefined = not hashed) differs from the bmap's checksum. */
export function compareDigests(bmap: Pick<Bmap, 'ranges'>, digests: ReadonlyArray<string | undefined>): RangeMismatch[] {
  const out: RangeMismatch[] = [];
  let range = 0;
  for (const r of bmap.ranges) {
    const actual = digests[range];
    if (r.checksum !== undefined && actual !== undefined && actual !== r.checksum) {
      out.push({ range, first: r.first, last: r.last, expected: r.checksum, actual });
    }
    range += 1;
  }
  return out;
}

/**
 * Hashes every range of a stream of ImageChunks (a decompressed image cut by
 * selectRanges) and resolves with the digests by range index (or hands
 * each to `onDigest` and resolves with none): for checking
 * a compressed image against a bmap, where every mismatch is reported rather
 * than the first one failing the stream.
 */
export async function digestStream(
  chunks: ReadableStream<ImageChunk>,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  options: Pick<RangeHasherOptions, 'engine'> & { onChunk?: (chunk: ImageChunk) => void; onDigest?: (range: number, hex: string) => void } = {},
): Promise<string[]> {
  // with onDigest the digests go there only (a million ranges, no million strings kept)
  const digests = new Array<string>(options.onDigest === undefined ? bmap.ranges.length : 0);
  const take = options.onDigest ?? ((i: number, hex: string) => (digests[i] = hex));
  const hasher = new RangeHasher(bmap, take, { ...options, algorithm: bmap.checksumType ?? 'sha256' });
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
