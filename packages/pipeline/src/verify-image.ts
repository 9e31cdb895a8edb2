import { open, stat } from 'node:fs/promises';
import { BmapkitError, validateBmap, type Bmap } from '@bmapkit/bmap-format';
import type { CodecRegistry } from '@bmapkit/decompress-stream';
import { redactUrl } from '@bmapkit/extent-source';
import { dropCache, nativeAvailable } from '@bmapkit/native';
import { digestChecker, digestStream, type RangeMismatch } from '@bmapkit/verifier';
import { fileDigests } from './file-digests.js';
import { locateBmap } from './find-bmap.js';
import { mappedChunks } from './copy-chunks.js';
import { openPrepared, type OpenedImage } from './open-prepared.js';
import type { LogLevel, VerifyEvent } from './events.js';
import { cancellable } from './settle.js';

export interface VerifyImageOptions {
  /** A block device, a written file, or an image (compressed or not; "-" for stdin; a URL). */
  target: string;
  /** The bmap (path, URL or Bmap); needed for a device, found next to an image by default. */
  bmap?: string | URL | Bmap;
  /** Codecs to detect and decode an image with (default: the built-in ones). */
  registry?: CodecRegistry;
  signal?: AbortSignal;
  onEvent?: (event: VerifyEvent) => void;
}

export interface VerifyResult {
  /** Every range with a checksum matched. */
  ok: boolean;
  /** The bmap file used (undefined for a Bmap object). */
  bmapPath: string | undefined;
  bmap: Bmap;
  /** Ranges that carry a checksum: what was checked. */
  ranges: number;
  /** The ranges that differ, in range order. */
  mismatches: RangeMismatch[];
}

/**
 * Checks a device, a written file or an image against a bmap's range
 * checksums without writing anything, and lists every range that differs
 * (a mismatch resolves with `ok: false`; what stops the check, a missing
 * bmap or a short image, rejects).
 */
export async function verifyImage(o: VerifyImageOptions): Promise<VerifyResult> {
  return cancellable(o.signal, `verifying '${o.target}'`, () => verify(o));
}

async function verify(o: VerifyImageOptions): Promise<VerifyResult> {
  const log = (level: LogLevel, message: string) => o.onEvent?.({ type: 'log', level, message });
  o.signal?.throwIfAborted();
  const target = o.target;
  const device = target !== '-' && (await stat(target).then((st) => st.isBlockDevice(), () => false));
  if (device && o.bmap === undefined) {
    throw new BmapkitError('BMAP_MISSING', `'${target}' is a block device: give the bmap of the image written to it with --bmap`);
  }
  // the image first: one that cannot be opened is the error to report, bmap or not
  const opened = device ? undefined : await openPrepared(target, { registry: o.registry, onWarning: (w) => log('warning', w) });
  const onAbort = () => void opened?.stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await check(o, opened, log);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await opened?.stop();
  }
}

async function check(o: VerifyImageOptions, opened: OpenedImage | undefined, log: (level: LogLevel, message: string) => void): Promise<VerifyResult> {
  const target = o.target;
  let bmap: Bmap;
  let bmapPath: string | undefined;
  if (typeof o.bmap === 'object' && !(o.bmap instanceof URL)) {
    validateBmap(o.bmap);
    bmap = o.bmap;
  } else {
    const found = await locateBmap(target, o.bmap instanceof URL ? o.bmap.href : o.bmap, (m) => log('info', m));
    if (found === undefined) throw new BmapkitError('BMAP_MISSING', `no bmap found for '${redactUrl(target)}'; give it with --bmap`);
    bmap = found.file.scan.bmap;
    bmapPath = found.path;
  }
  o.onEvent?.({ type: 'bmap', bmap, path: bmapPath, discovered: o.bmap === undefined, format: opened?.prepared.format ?? 'raw' });
  const checked = countChecksums(bmap);
  if (checked === 0) {
    throw new BmapkitError(
      'BMAP_NO_CHECKSUMS',
      `${bmapPath === undefined ? 'the given bmap' : `bmap file '${redactUrl(bmapPath)}'`} has no range checksums, so there is nothing to verify against; create it without --no-checksum`,
    );
  }
  const checker = digestChecker(bmap, (range) => o.onEvent?.({ type: 'range-verified', range }));
  if (opened === undefined) await deviceDigests(target, bmap, checker.check, o.signal);
  else await imageDigests(opened, bmap, checker.check, o.signal);
  const mismatches = checker.mismatches();
  return { ok: mismatches.length === 0, bmapPath, bmap, ranges: checked, mismatches };
}

/** Ranges that carry a checksum. */
function countChecksums(bmap: Bmap): number {
  let n = 0;
  for (const r of bmap.ranges) if (r.checksum !== undefined) n += 1;
  return n;
}

type OnDigest = (range: number, hex: string) => void;

/** A block device, hashed in place after its page cache is dropped, so that what is checked is the medium. */
async function deviceDigests(path: string, bmap: Bmap, onDigest: OnDigest, signal: AbortSignal | undefined): Promise<void> {
  if (nativeAvailable()) {
    const h = await open(path, 'r');
    try {
      dropCache(h.fd, 0, 0);
    } finally {
      await h.close();
    }
  }
  await fileDigests(path, bmap, onDigest, signal);
}

/**
 * A file or stdin: a raw local file is hashed in place; anything
 * compressed (or stdin) is decoded, cut to the mapped ranges and hashed as
 * it streams (a raw remote image on a server with Range support: only its
 * mapped ranges).
 */
async function imageDigests({ prepared, stop }: OpenedImage, bmap: Bmap, onDigest: OnDigest, signal: AbortSignal | undefined): Promise<void> {
  const image = prepared.image;
  if (prepared.format === undefined && image.path !== undefined && image.size !== undefined) {
    await stop();
    if (image.size < bmap.imageSize) {
      throw new BmapkitError('IMAGE_TRUNCATED', `'${image.name}' has ${image.size} bytes, but the bmap describes an image of ${bmap.imageSize} bytes`);
    }
    return fileDigests(image.path, bmap, onDigest, signal);
  }
  await digestStream(await mappedChunks(prepared, bmap), bmap, { onDigest });
  signal?.throwIfAborted();
}
