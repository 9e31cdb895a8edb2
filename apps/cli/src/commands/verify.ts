import { open, stat } from 'node:fs/promises';
import { BmapkitError, humanSize, type Bmap } from '@bmapkit/bmap-format';
import { peek } from '@bmapkit/decompress-stream';
import { openImage, redactUrl, type ImageSource } from '@bmapkit/extent-source';
import { dropCache, nativeAvailable } from '@bmapkit/native';
import { digestChecker, digestStream, hashFileRanges, type RangeMismatch } from '@bmapkit/verifier';
import { findBmap } from '../copy/find-bmap.js';
import { mappedChunks, prepareImage } from '../copy/pipeline.js';
import { geometryLine } from '../bmap-lines.js';
import type { Logger } from '../log.js';
import { errorObject } from '../json-error.js';

export interface VerifyCommandOptions {
  bmap?: string;
  json?: boolean;
}

/**
 * `verify [--bmap B] TARGET`: checks a written device or file, or an image
 * (compressed or not), against a bmap's range checksums without writing
 * anything, and lists every range that differs. Exit 0 when all match.
 */
export async function verify(target: string, o: VerifyCommandOptions, log: Logger, stdout: NodeJS.WritableStream): Promise<void> {
  let answered = false;
  try {
    await run(target, o, log, (result) => {
      answered = true;
      stdout.write(`${JSON.stringify(result)}\n`);
    });
  } catch (e) {
    if (o.json === true && !answered) stdout.write(`${JSON.stringify({ event: 'verify', target: redactUrl(target), ok: false, error: errorObject(e) })}\n`);
    throw e;
  }
}

async function run(target: string, o: VerifyCommandOptions, log: Logger, answer: (result: Record<string, unknown>) => void): Promise<void> {
  const device = target !== '-' && (await stat(target).then((st) => st.isBlockDevice(), () => false));
  if (device && o.bmap === undefined) {
    throw new BmapkitError('BMAP_MISSING', `'${target}' is a block device: give the bmap of the image written to it with --bmap`);
  }
  const image = device ? undefined : await openImage(target);
  const found = await findBmap(target, o.bmap, log);
  if (found === undefined) throw new BmapkitError('BMAP_MISSING', `no bmap found for '${redactUrl(target)}'; give it with --bmap`);
  const bmap = found.file.scan.bmap;
  const checked = countChecksums(bmap);
  if (checked === 0) {
    throw new BmapkitError('BMAP_NO_CHECKSUMS', `bmap file '${redactUrl(found.path)}' has no range checksums, so there is nothing to verify against; create it without --no-checksum`);
  }
  if (o.json !== true) log.info(`verifying '${redactUrl(target)}' against bmap file '${redactUrl(found.path)}': ${geometryLine(bmap)}`);

  const mismatches = image === undefined ? await deviceMismatches(target, bmap) : await imageMismatches(image, bmap, log);
  if (o.json === true) {
    answer({ event: 'verify', target: redactUrl(target), bmap: redactUrl(found.path), ranges: checked, mismatches, ok: mismatches.length === 0 });
  } else {
    for (const m of mismatches) log.error(`blocks range ${m.first}-${m.last} differs: calculated ${m.actual}, bmap says ${m.expected}`);
  }
  if (mismatches.length > 0) {
    const bytes = mismatches.reduce((n, m) => n + (m.last - m.first + 1) * bmap.blockSize, 0);
    throw new BmapkitError('RANGE_CHECKSUM', `${mismatches.length} of ${checked} ranges (${humanSize(bytes)}) of '${redactUrl(target)}' differ from bmap file '${redactUrl(found.path)}'`, {
      details: { mismatches: mismatches satisfies RangeMismatch[] },
    });
  }
  if (o.json !== true) log.info(`all ${checked} ranges of '${redactUrl(target)}' match the bmap`);
}

/** Ranges that carry a checksum. */
function countChecksums(bmap: Bmap): number {
  let n = 0;
  for (const r of bmap.ranges) if (r.checksum !== undefined) n += 1;
  return n;
}

/** Every range of a local file or device whose digest differs, compared as each is hashed. */
async function fileMismatches(path: string, bmap: Bmap): Promise<RangeMismatch[]> {
  const checker = digestChecker(bmap);
  await hashFileRanges(path, bmap, { algorithm: bmap.checksumType ?? 'sha256', keep: false, onDigest: checker.check });
  return checker.mismatches();
}

/** A block device, hashed in place after its page cache is dropped, so that what is checked is the medium. */
async function deviceMismatches(path: string, bmap: Bmap): Promise<RangeMismatch[]> {
  if (nativeAvailable()) {
    const h = await open(path, 'r');
    try {
      dropCache(h.fd, 0, 0);
    } finally {
      await h.close();
    }
  }
  return fileMismatches(path, bmap);
}

/**
 * A file or stdin: a raw local file is hashed in place by worker threads;
 * anything compressed (or stdin) is decoded, cut to the mapped ranges and
 * hashed as it streams (a raw remote image on a server with Range support: only its mapped ranges).
 */
async function imageMismatches(image: ImageSource, bmap: Bmap, log: Logger): Promise<RangeMismatch[]> {
  const sniffed = await peek(image.stream(), 4096);
  const prepared = await prepareImage(image, sniffed.stream, (w) => log.warning(w));
  if (prepared.format === undefined && image.path !== undefined && image.size !== undefined) {
    await prepared.stream.cancel();
    if (image.size < bmap.imageSize) {
      throw new BmapkitError('IMAGE_TRUNCATED', `'${image.name}' has ${image.size} bytes, but the bmap describes an image of ${bmap.imageSize} bytes`);
    }
    return fileMismatches(image.path, bmap);
  }
  const checker = digestChecker(bmap);
  await digestStream(await mappedChunks(prepared, bmap), bmap, { onDigest: checker.check });
  return checker.mismatches();
}
