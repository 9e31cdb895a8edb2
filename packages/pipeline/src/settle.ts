import { BmapkitError, isBmapkitError } from '@bmapkit/bmap-format';

/** How long an abort waits for a copy to stop touching DEST before it cleans up anyway. */
export const STOP_WAIT_MS = 400;

/** True when `p` settles (either way) within `ms`; true at once when there is nothing to wait for. */
export async function settlesWithin(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (p === undefined) return true;
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

/**
 * Runs `work`; when it fails because `signal` aborted, the failure is an
 * INTERRUPTED BmapkitError saying what was cancelled (the reason is kept as
 * its cause, and a BmapkitError given as the reason is passed on as it is).
 */
export async function cancellable<T>(signal: AbortSignal | undefined, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (signal?.aborted === true && !isBmapkitError(e)) throw new BmapkitError('INTERRUPTED', `${what} was cancelled`, { cause: e });
    throw e;
  }
}
