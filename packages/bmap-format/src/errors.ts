import { ERROR_CODES } from './error-codes.js';

/**
 * Stable codes for every failure a user can cause: the keys of ERROR_CODES,
 * a closed table that also gives each code's exit status. Build tooling
 * can switch on them; codes never change meaning.
 */
export type BmapkitErrorCode = keyof typeof ERROR_CODES;

/** The exit status for an error: its code's, 1 for anything else (a bug, or a code from a newer bmapkit). */
export function exitStatus(e: unknown): number {
  return isBmapkitError(e) ? (ERROR_CODES[e.code]?.exit ?? 1) : 1;
}

export interface BmapkitErrorOptions {
  /** The underlying error, if any (shown with --debug). */
  cause?: unknown;
  /** Structured details for JSON consumers (never credentials). */
  details?: Record<string, unknown>;
}

/**
 * The one error type that every bmapkit stage throws for a user-caused
 * problem: a stable `code` and a one-line `message` that names the file and
 * says what to do. Anything else escaping a stage is a bug.
 */
export class BmapkitError extends Error {
  readonly code: BmapkitErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: BmapkitErrorCode, message: string, options: BmapkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BmapkitError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * True for a BmapkitError, also one from another copy of this package (two
 * versions installed, or a bundle): checked by shape, not by instanceof.
 */
export function isBmapkitError(e: unknown, code?: BmapkitErrorCode): e is BmapkitError {
  if (!(e instanceof Error) || e.name !== 'BmapkitError' || typeof (e as BmapkitError).code !== 'string') return false;
  return code === undefined || (e as BmapkitError).code === code;
}
