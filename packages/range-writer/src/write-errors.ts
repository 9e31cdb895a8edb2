import { BmapkitError } from '@bmapkit/bmap-format';

/** Errors worth another try: the medium or bus hiccuped. */
export const TRANSIENT_WRITE_ERRORS: readonly string[] = ['EIO', 'EBUSY', 'EAGAIN', 'EINTR', 'ETIMEDOUT'];
const TRANSIENT = new Set(TRANSIENT_WRITE_ERRORS);
/** The device is gone (unplugged, reset). */
const VANISHED = new Set(['ENXIO', 'ENODEV', 'ENOMEDIUM']);

export interface RetryPolicy {
  /** Further tries after the first (default 3). */
  retries: number;
  /** Wait before the first retry, in ms; each further one waits 4x longer (default 100). */
  delayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, delayMs: 100 };

/**
 * Runs one write, retrying transient errors with backoff, and turns what is
 * left into a typed error: DEST_FULL, DEST_GONE, or DEST_IO naming `what`
 * (the blocks it was for). An fsync goes through here with no retries: after
 * a failed writeback the kernel reports the error once, so a retried fsync
 * would succeed over lost data.
 */
export async function withRetries<T>(op: () => Promise<T>, policy: RetryPolicy, dest: string, what: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (TRANSIENT.has(code) && attempt < policy.retries) {
        await new Promise((r) => setTimeout(r, policy.delayMs * 4 ** attempt));
        continue;
      }
      throw writeFailure(e, dest, what, attempt + 1);
    }
  }
}

/**
 * A failed write as a typed error: DEST_FULL (ENOSPC), DEST_GONE (the device
 * vanished) or DEST_IO naming `what` and, after retries, how often it failed.
 */
export function writeFailure(e: unknown, dest: string, what: string, tries: number): BmapkitError {
  if (e instanceof BmapkitError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOSPC') {
    return new BmapkitError('DEST_FULL', `error while ${what} of '${dest}': no space left on device (the image does not fit)`, { cause: e });
  }
  if (VANISHED.has(err.code ?? '')) {
    return new BmapkitError('DEST_GONE', `'${dest}' went away while ${what} (unplugged or reset?); it holds an incomplete image`, { cause: e });
  }
  const after = tries > 1 ? ` (failed ${tries} times)` : '';
  return new BmapkitError('DEST_IO', `error while ${what} of '${dest}': ${err.message ?? String(e)}${after}`, { cause: e });
}
