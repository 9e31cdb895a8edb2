import { BmapkitError, type BmapkitErrorCode } from './errors.js';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
};

/** A short human reason for a Node fs error ("no such file or directory"). */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return (e.code !== undefined && REASONS[e.code]) || e.message || String(err);
}

/** An fs error as a typed, one-line error: "<what> '<path>': <reason>", with the path and errno in its details. */
export function fsError(code: BmapkitErrorCode, what: string, path: string, err: unknown): BmapkitError {
  return new BmapkitError(code, `${what} '${path}': ${fsReason(err)}`, {
    cause: err,
    details: { path, errno: (err as NodeJS.ErrnoException).code },
  });
}
