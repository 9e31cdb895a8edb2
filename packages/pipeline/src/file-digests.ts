import type { Bmap } from '@bmapkit/bmap-format';
import { openFileSource, readExtents } from '@bmapkit/extent-source';
import { canHashFiles, digestStream, hashFileRanges } from '@bmapkit/verifier';

/**
 * Every range of a local file or device hashed, each digest handed to
 * `onDigest` (any order): in place on the addon's pool where it can, else
 * through the stages (readExtents, then node:crypto).
 */
export async function fileDigests(
  path: string,
  bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize' | 'checksumType'>,
  onDigest: (range: number, hex: string) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const algorithm = bmap.checksumType ?? 'sha256';
  if (canHashFiles(algorithm)) {
    await hashFileRanges(path, bmap, { algorithm, keep: false, onDigest, ...(signal === undefined ? {} : { signal }) });
    return;
  }
  const chunks = readExtents(await openFileSource(path), bmap.ranges, bmap);
  const onAbort = () => void chunks.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await digestStream(chunks, { ...bmap, checksumType: algorithm }, { onDigest, engine: 'js' });
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
}
