import type { Bmap } from '@bmapkit/bmap-format';
import { rangeDigests } from '@bmapkit/verifier';

/**
 * Every range of a local file or device hashed by the verifier's
 * rangeDigests stage (the one a library user composes: the addon's pool
 * where it loads, else readExtents and node:crypto), each digest handed to
 * `onDigest` (any order). An abort cancels the stage and rejects with the
 * signal's reason once nothing reads the file any more.
 */
export async function fileDigests(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  onDigest: (range: number, hex: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  const digests = rangeDigests(path, bmap);
  const reader = digests.getReader();
  let cancelled: Promise<void> | undefined;
  const onAbort = () => (cancelled = reader.cancel(signal?.reason).catch(() => undefined));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      onDigest(next.value.range, next.value.hex);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await cancelled; // the hashing has stopped: nothing reads the file
  }
  signal?.throwIfAborted();
}
