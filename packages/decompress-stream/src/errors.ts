import { BmapkitError } from '@bmapkit/bmap-format';

/** The decoder found corrupt input, or its program failed. */
export function decompressError(format: string, source: string, reason: string, cause?: unknown): BmapkitError {
  return new BmapkitError(
    'IMAGE_DECOMPRESS',
    `cannot decompress ${format} image '${source}': ${reason}; the file is damaged or not ${format} data`,
    { cause, details: { format, source } },
  );
}

/** The compressed stream stopped before its end marker. */
export function truncatedError(format: string, source: string, cause?: unknown): BmapkitError {
  return new BmapkitError(
    'IMAGE_TRUNCATED',
    `${format} image '${source}' is truncated: the compressed data ends before the end of the stream; download or copy it again`,
    { cause, details: { format, source } },
  );
}
