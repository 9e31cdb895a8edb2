import type { Bmap } from '@bmapkit/bmap-format';
import { rangeDigests, type RangeDigest } from '@bmapkit/verifier';

/**
 * Every range of a local file or device hashed by the verifier's
 * rangeDigests stage (the one a library user composes: the addon's pool
 * where it loads, else readExtents and node:crypto), each digest handed to
 * `onDigest` (any order). An abort rejects with the signal's reason once
 * nothing reads the file any more.
 */
export async function fileDigests(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  onDigest: (range: number, hex: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const digests = rangeDigests(path, bmap, signal === undefined ? {} : { signal });
  for await (const { range, hex } of digests as unknown as AsyncIterable<RangeDigest>) onDigest(range, hex);
}
