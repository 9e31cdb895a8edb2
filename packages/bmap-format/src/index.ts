export type { Bmap, BlockRange, ImageChunk, ChunkLease, ByteSpan } from './types.js';
export { BufferPool, holdChunk, releaseChunk, chunkAlive } from './chunk-lease.js';
export { RangeTable, DEFAULT_RANGE_MEMORY, type RangeList } from './range-table.js';
export { rangeByteSpan, rangeByteLength, rangeBlockCount, blocksFor, mappedByteCount } from './types.js';
export { BmapkitError, isBmapkitError, exitStatus, type BmapkitErrorCode, type BmapkitErrorOptions } from './errors.js';
export { ERROR_CODES } from './error-codes.js';
export { fsError, fsReason } from './fs-reason.js';
export { parseBmap, scanBmap, verifyBmapChecksum, BmapParserStream, type BmapInput } from './parse.js';
export {
  BmapScanner,
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_TOKEN_BYTES,
  type ParseOptions,
  type ScanResult,
  type FileChecksumResult,
} from './scanner.js';
export { serializeBmap, serializeBmapStream, type SerializeOptions } from './serialize.js';
export { validateBmap } from './validate.js';
export { classifyVersion, type FormatVersion, type FormatMode } from './version.js';
export { nodeHashName, requireHashName, digestHexLength } from './checksum-types.js';
export { isClearsigned, extractClearsigned, ClearsignExtractor, type ClearsignedParts } from './clearsign.js';
export { sniffCompressed } from './sniff.js';
export { humanSize, humanTime, mappedPercent, formatFixed1 } from './human.js';
export { parseDecimal } from './numbers.js';
export { concatBytes } from './bytes.js';
