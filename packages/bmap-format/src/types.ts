import type { RangeList } from './range-table.js';

/** One run of mapped blocks, inclusive at both ends. */
export interface BlockRange {
  first: number;
  last: number;
  /** Lower-case hex digest of the range's bytes, in the bmap's checksum type. */
  checksum?: string;
}

/** A parsed (or to-be-written) block map. */
export interface Bmap {
  /** The version string as written in the file ("2.0", "1.3", ...). */
  version: string;
  imageSize: number;
  blockSize: number;
  blocksCount: number;
  mappedBlocksCount: number;
  /**
   * Node-style hash name of the range checksums ("sha256", "sha1", ...).
   * For 1.x files it is "sha1" when any range carries a sha1 attribute.
   */
  checksumType?: string;
  /** The file's own checksum (BmapFileChecksum or BmapFileSHA1) as found in it. */
  fileChecksum?: string;
  /**
   * The mapped ranges, in order: an array when built by hand, a compact
   * RangeTable when parsed (read them with `at(i)`, `length` and for-of).
   */
  ranges: RangeList;
}

/**
 * The chunk that flows from an extent source through the verifier to a
 * writer. `data` is read-only once enqueued.
 */
export interface ImageChunk {
  /** Byte offset of `data` in the image. */
  offset: number;
  data: Uint8Array;
  /** Index into `bmap.ranges` of the range this chunk belongs to. */
  range: number;
  /**
   * Set when `data` is lent from its source's pool of buffers (see
   * chunk-lease.ts): the last stage gives it back with releaseChunk once it
   * is done with the bytes, and a stage that reads them after passing the
   * chunk on holds it (holdChunk) until then. Stages that only pass chunks
   * on need do nothing.
   */
  lease?: ChunkLease;
}

/** Claims on a lent buffer: the buffer goes back to its pool when the last one is released. */
export interface ChunkLease {
  hold(): void;
  release(): void;
}

/** Byte span [start, end) of a range, the last partial block clipped to the image size. */
export interface ByteSpan {
  start: number;
  end: number;
}

export function rangeByteSpan(
  range: Pick<BlockRange, 'first' | 'last'>,
  geometry: Pick<Bmap, 'blockSize' | 'imageSize'>,
): ByteSpan {
  const start = range.first * geometry.blockSize;
  const end = Math.min((range.last + 1) * geometry.blockSize, geometry.imageSize);
  return { start, end: Math.max(start, end) };
}

/** Number of bytes a range covers in the image (the last block may be partial). */
export function rangeByteLength(
  range: Pick<BlockRange, 'first' | 'last'>,
  geometry: Pick<Bmap, 'blockSize' | 'imageSize'>,
): number {
  const { start, end } = rangeByteSpan(range, geometry);
  return end - start;
}

/** Number of blocks in an inclusive range. */
export function rangeBlockCount(range: Pick<BlockRange, 'first' | 'last'>): number {
  return range.last - range.first + 1;
}

/** ceil(imageSize / blockSize): what BlocksCount must be. */
export function blocksFor(imageSize: number, blockSize: number): number {
  return Math.ceil(imageSize / blockSize);
}

/** Total bytes of the image that the ranges cover. */
export function mappedByteCount(bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>): number {
  let total = 0;
  for (const r of bmap.ranges) total += rangeByteLength(r, bmap);
  return total;
}
