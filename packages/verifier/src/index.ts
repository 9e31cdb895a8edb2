export { generateChecksums, type ChecksumGenerator, type GenerateOptions } from './generate.js';
export { RangeHasher, type RangeHasherOptions, type HashEngine } from './range-hasher.js';
export { NativeHashPool } from './native-hash-pool.js';
export { hashFileRanges, canHashFiles, type HashFileRangesOptions } from './hash-file-ranges.js';
export { rangeDigests, type RangeDigest, type RangeDigestsOptions } from './range-digests.js';
export { verifyChecksums, type VerifyOptions } from './verify.js';
export { readBack, type ReadBack, type ReadBackFile, type ReadBackOptions } from './read-back.js';
export { compareDigests, digestChecker, digestStream, type RangeMismatch } from './compare.js';
