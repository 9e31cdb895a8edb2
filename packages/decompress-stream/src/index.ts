export { type Codec, type DecoderPair, type DecoderOptions, startsWith } from './codec.js';
export { CodecRegistry, defaultRegistry } from './registry.js';
export { decompress, peek, type Decompressed, type DecompressOptions, type DetectedFormat } from './decompress.js';
export { externalDecoder, hasProgram, type ExternalDecoderSpec } from './external.js';
export { duplexPair } from './node-stream-pair.js';
export { gzip } from './codecs/gzip.js';
export { bzip2, xz, zstd, lz4, lzop } from './codecs/external-codecs.js';
export { zip } from './codecs/zip.js';
export { tarExtractor, isTarHeader } from './codecs/tar.js';
