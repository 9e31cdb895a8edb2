import { BmapkitError } from './errors.js';
import type { Bmap } from './types.js';
import { blocksFor } from './types.js';
import { digestHexLength, requireHashName } from './checksum-types.js';
import { RangeChecker } from './range-rules.js';

/**
 * Checks a Bmap object against the same rules the parser enforces
 * (bmap-format.md §5 and §10): positive sizes, BlocksCount consistent,
 * ranges ascending, non-overlapping and inside the image, checksums of the
 * right length, MappedBlocksCount equal to the ranges' total.
 * Returns the node:crypto name of the checksum algorithm (sha256 by default).
 */
export function validateBmap(bmap: Bmap, what = 'bmap'): string {
  const fail = (msg: string): never => {
    throw new BmapkitError('BMAP_INVALID', `${what}: ${msg}`);
  };
  for (const key of ['imageSize', 'blockSize', 'blocksCount', 'mappedBlocksCount'] as const) {
    if (!Number.isSafeInteger(bmap[key]) || bmap[key] < 0) fail(`${key} must be a non-negative integer, got ${bmap[key]}`);
  }
  if (bmap.imageSize === 0) fail('imageSize is 0; a bmap describes a non-empty image');
  if (bmap.blockSize === 0) fail('blockSize must be positive');
  const expected = blocksFor(bmap.imageSize, bmap.blockSize);
  if (bmap.blocksCount !== expected) {
    fail(`blocksCount is ${bmap.blocksCount}, but ${bmap.imageSize} bytes in ${bmap.blockSize}-byte blocks make ${expected}`);
  }
  const algorithm = requireHashName(bmap.checksumType ?? 'sha256', what);
  const checker = new RangeChecker(fail);
  checker.setDigestLength(digestHexLength(algorithm));
  let i = 0;
  for (const r of bmap.ranges) {
    if (!Number.isSafeInteger(r.first) || !Number.isSafeInteger(r.last) || r.first < 0 || r.first > r.last) {
      fail(`range #${i} (${r.first}-${r.last}) is not a valid inclusive block range`);
    }
    if (r.checksum !== undefined && !/^[0-9a-f]+$/.test(r.checksum)) {
      fail(`range #${i} (${r.first}-${r.last}) has a checksum that is not lower-case hex`);
    }
    checker.add(r, `${r.first}-${r.last}`, i, bmap.blocksCount);
    i += 1;
  }
  checker.finish(bmap.blocksCount, bmap.mappedBlocksCount, fail);
  return algorithm;
}
