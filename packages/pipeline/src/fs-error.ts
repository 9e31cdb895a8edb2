import { BmapkitError, fsReason, type BmapkitErrorCode } from '@bmapkit/bmap-format';

/** Wraps an fs error as a typed, one-line error: "<what> '<path>': <reason>". */
export function fsError(code: BmapkitErrorCode, what: string, path: string, err: unknown): BmapkitError {
  return new BmapkitError(code, `${what} '${path}': ${fsReason(err)}`, {
    cause: err,
    details: { path, errno: (err as NodeJS.ErrnoException).code },
  });
}
