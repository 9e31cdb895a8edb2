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
