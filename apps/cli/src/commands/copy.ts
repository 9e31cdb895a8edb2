import { basename } from 'node:path';
import { BmapkitError, humanSize, humanTime, isBmapkitError, isClearsigned, type Bmap } from '@bmapkit/bmap-format';
import { bmapSummary, geometryLine } from '../bmap-lines.js';
import { peek } from '@bmapkit/decompress-stream';
import { openImage, redactUrl, type ImageSource } from '@bmapkit/extent-source';
import { checkConflicts, type CopyOptions } from '../copy/options.js';
import { findBmap, type FoundBmap } from '../copy/find-bmap.js';
import { fetchToTemp, isRemote, localCopy, localPath, urlBasename } from '../remote-file.js';
import { splitQuery } from '../copy/discover.js';
import { deviceTuning, guardDestination, openDestination, openForReadBack, type DeviceTuning, type GuardedDestination, type InputFile } from '@bmapkit/device-guard';
import { blockDeviceSectorSize } from '@bmapkit/native';
import type { FileHandle } from 'node:fs/promises';
import { checkBmapSignature } from '@bmapkit/signature';
import { cleanUpDestination } from '../copy/destination.js';
import { corruptingWrites } from '../copy/fault-injection.js';
import { prepareImage, runCopy, type PreparedImage } from '../copy/pipeline.js';
import { psplashReporter } from '../copy/psplash.js';
import { combine, jsonProgressSink, psplashSink, terminalSink } from '../copy/progress.js';
import type { Logger } from '../log.js';
import { endingOn, onInterrupt } from '../interrupt.js';
import { errorObject } from '../json-error.js';

export interface CopyIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export type { CopyOptions };

/**
 * `copy [options] IMAGE DEST`. Everything is validated before DEST is
 * opened: options, the image (opened and sniffed), the bmap (found, parsed,
 * checksummed), signatures, sizes, the destination. Only then is DEST
 * opened; a DEST we created is removed again if the copy fails.
 */
export async function copy(imagePath: string, destPath: string, o: CopyOptions, log: Logger, io: CopyIO): Promise<void> {
  const emit = o.json === true ? (event: Record<string, unknown>) => void io.stdout.write(`${JSON.stringify(event)}\n`) : undefined;
  try {
    await run({ imagePath, destPath, o, log, io, emit });
  } catch (e) {
    emit?.({ event: 'error', ...errorObject(e) });
    throw e;
  }
}

/** What every step of a copy is told: the arguments as given, where to report. */
interface CopyRun {
  imagePath: string;
  destPath: string;
  o: CopyOptions;
  log: Logger;
  io: CopyIO;
  emit: ((event: Record<string, unknown>) => void) | undefined;
}

async function run(ctx: CopyRun): Promise<void> {
  const { imagePath, destPath, o, log, emit } = ctx;
  checkConflicts(o);
  emit?.({ event: 'start', image: redactUrl(imagePath), dest: destPath });
  const image = await openImage(imagePath);
  // stdin can be read once: the peeked stream carries on from the start
  const sniffed = await peek(image.stream(), 4096);
  // Whatever reads the image (a decoding thread or program, a connection)
  // is stopped when the copy ends without having read it all: on an error,
  // on an interrupt, and after a fused copy that read the file itself.
  let source: ReadableStream<Uint8Array> = sniffed.stream;
  const stopReading = async () => {
    if (!source.locked) await source.cancel().catch(() => undefined);
  };
  const unregister = onInterrupt(stopReading);
  try {
    if (sniffed.head.length === 0) {
      throw new BmapkitError('IMAGE_EMPTY', `image '${image.name}' is empty (0 bytes): nothing to copy; check what produced it`);
    }
    refuseBmapAsImage(image.name, sniffed.head);
    const prepared = await prepareImage(image, sniffed.stream, (w) => log.warning(w));
    source = prepared.stream;
    await copyPrepared(ctx, image, prepared);
  } finally {
    unregister();
    await stopReading();
  }
}

/** The rest of the copy, once the image is open and its format known. */
async function copyPrepared(ctx: CopyRun, image: ImageSource, prepared: PreparedImage): Promise<void> {
  const { imagePath, destPath, o, log, io, emit } = ctx;

  const found = o.nobmap === true ? undefined : await findBmap(imagePath, o.bmap, log);
  const bmap: Bmap | undefined = found?.file.scan.bmap;
  const bmapPath = found?.path;
  if (found === undefined && o.bmapSig !== undefined) {
    throw new BmapkitError('BMAP_MISSING', 'the bmap signature file was specified, but bmap file was not found');
  }
  if (found === undefined && o.nobmap !== true) {
    throw new BmapkitError('BMAP_MISSING', 'bmap file not found, please, use --nobmap option to flash without bmap');
  }
  if (found !== undefined && bmap !== undefined) {
    await checkSignatures(found, o, log);
    emit?.({
      event: 'bmap',
      path: redactUrl(found.path),
      discovered: found.discovered,
      ...bmapSummary(bmap),
      format: prepared.format ?? 'raw',
    });
    log.info(`block map format version ${bmap.version}`);
    log.info(geometryLine(bmap));
    if (prepared.knownSize !== undefined && prepared.knownSize !== bmap.imageSize) {
      throw new BmapkitError(
        'IMAGE_SIZE',
        `cannot set image size to ${prepared.knownSize} bytes, it is known to be ${bmap.imageSize} bytes (${humanSize(bmap.imageSize)}); ` +
          `image '${image.name}' does not belong to bmap file '${redactUrl(bmapPath ?? '')}'`,
      );
    }
  }

  const dest = await guardDestination(destPath, {
    imageSize: bmap?.imageSize ?? prepared.knownSize,
    image: image.name,
    inputs: copyInputs(image, found, o),
    removable: o.removableDevice === true,
    force: o.force === true,
    direct: o.direct === true,
    onWarning: (w) => log.warning(w),
  });
  if (o.verifyWritten === true && dest.kind === 'char') {
    throw new BmapkitError('USAGE', `--verify-written cannot read back '${destPath}', a character device; leave it out`);
  }
  const progress = combine([
    psplashSink(psplashReporter(o.psplashPipe, log)),
    io.stderr.isTTY === true && log.verbosity === 'normal' && emit === undefined ? terminalSink(log.prog, (s) => io.stderr.write(s)) : undefined,
    emit === undefined ? undefined : jsonProgressSink(emit),
  ]);

  // Only now is DEST opened: everything above has passed. The cleanup is
  // registered first, so that whatever has been set up is undone on a
  // signal (or a closed stdout) at any moment from here on.
  let opened: OpenedDestination | undefined;
  const tuning: DeviceTuning | undefined =
    dest.device !== undefined && o.tune ? deviceTuning(dest.device, { roots: { sys: '/sys', proc: '/proc' }, onWarning: (w: string) => log.warning(w), onInfo: (i: string) => log.info(i) }) : undefined;
  let result;
  let writing = false;
  const abort = new AbortController();
  let running: Promise<unknown> | undefined;
  /** Undoes what was set up; `stopped`: the copy is known to have stopped touching DEST, so its descriptors may be closed. */
  const abandon = async (stopped: boolean): Promise<string | undefined> => {
    if (stopped) await opened?.close().catch(() => undefined); // else the exit closes them: a job may still hold them
    await tuning?.restore().catch((e: Error) => log.error(e.message));
    return writing || (dest.kind === 'file' && !dest.existed) ? cleanUpDestination(dest) : undefined;
  };
  const unregister = onInterrupt(async () => {
    abort.abort(new BmapkitError('INTERRUPTED', 'the copy was interrupted'));
    const stopped = await settlesWithin(running, STOP_WAIT_MS);
    const note = await abandon(stopped);
    if (note !== undefined) log.error(note);
  });
  let t0 = 0;
  // Opening, tuning and copying are one piece of work that an interrupt
  // stops and then waits for, before it closes or removes anything.
  const work = async () => {
    opened = await openAll(dest, o);
    abort.signal.throwIfAborted();
    await tuning?.apply();
    abort.signal.throwIfAborted();
    const target = dest.kind === 'block' ? `block device '${destPath}'` : `file '${basename(destPath)}'`;
    log.info(
      bmapPath === undefined
        ? `no bmap given, copy entire image to '${destPath}'`
        : `copying image '${shortName(imagePath)}' to ${target} using bmap file '${shortName(bmapPath)}'`,
    );
    t0 = performance.now();
    const { handle } = opened;
    const writeTo = corruptingWrites(handle, process.env['BMAPKIT_TEST_CORRUPT_WRITES']);
    writing = true;
    return runCopy({
      prepared,
      bmap,
      verify: o.verify,
      dest: {
        path: destPath,
        kind: dest.kind,
        handle: writeTo,
        ...(opened.direct === undefined ? {} : { direct: opened.direct }),
      },
      ...(opened.readBack === undefined
        ? {}
        : {
            readBack: {
              ...opened.readBack,
              onMismatch: (first: number, last: number, attempt: number) =>
                log.warning(`blocks ${first}-${last} of '${destPath}' read back wrong; rewriting them (attempt ${attempt})`),
            },
          }),
      fused: writeTo === handle, // the test hook's writes go through the stream pipeline
      beforeSync: () => {
        progress?.finish();
        log.info(`synchronizing '${destPath}'`);
      },
      onProgress: progress?.update,
      signal: abort.signal,
    });
  };
  try {
    running = work();
    result = await (running as ReturnType<typeof work>);
    await opened!.close();
    await tuning?.restore();
  } catch (e) {
    if (endingOn() !== undefined) await new Promise(() => undefined); // the interrupt cleans up and exits; this error is its echo
    const note = await abandon(true);
    if (note !== undefined && isBmapkitError(e)) e.message = `${e.message}; ${note}`;
    throw e;
  } finally {
    unregister();
  }
  if (o.verifyWritten === true) {
    log.info(`read back and verified ${humanSize(result.bytes)} from '${destPath}'${opened?.readBack?.direct === true ? ' (direct I/O)' : ''}${result.rewrites > 0 ? `, ${result.rewrites} chunk(s) rewritten` : ''}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const rate = (bytes: number) => Math.floor(bytes / Math.max(seconds, 1e-9));
  const copied = bmap === undefined ? result.imageSize : bmap.mappedBlocksCount * bmap.blockSize;
  log.info(`copying time: ${humanTime(seconds)}, copying speed ${humanSize(rate(copied))}/sec`);
  emit?.({ event: 'done', bytesWritten: result.bytes, imageSize: result.imageSize, seconds, bytesPerSecond: rate(result.bytes), rewrites: result.rewrites });
}

interface OpenedDestination {
  handle: FileHandle;
  direct?: { sectorSize: number; reader: FileHandle };
  readBack?: { reader: FileHandle; direct: boolean };
  close(): Promise<void>;
}

/** Opens DEST for writing and, when asked, a second read-only descriptor for O_DIRECT edges and read-back. */
async function openAll(dest: GuardedDestination, o: CopyOptions): Promise<OpenedDestination> {
  const handle = await openDestination(dest, { direct: o.direct === true });
  const extra: FileHandle[] = [];
  const close = async () => {
    for (const h of [handle, ...extra]) await h.close().catch(() => undefined);
  };
  try {
    const out: OpenedDestination = { handle, close };
    if (o.direct === true || o.verifyWritten === true) {
      const rb = await openForReadBack(dest);
      extra.push(rb.handle);
      if (o.direct === true) out.direct = { sectorSize: blockDeviceSectorSize(handle.fd), reader: rb.handle };
      if (o.verifyWritten === true) out.readBack = { reader: rb.handle, direct: rb.direct };
    }
    return out;
  } catch (e) {
    await close();
    throw e;
  }
}

/** How long an interrupt waits for the copy to stop touching DEST before it cleans up anyway. */
const STOP_WAIT_MS = 400;

/** True when `p` settles (either way) within `ms`; true at once when there is nothing to wait for. */
async function settlesWithin(p: Promise<unknown> | undefined, ms: number): Promise<boolean> {
  if (p === undefined) return true;
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

/** The local files a copy reads: DEST must be none of them. */
function copyInputs(image: ImageSource, found: FoundBmap | undefined, o: CopyOptions): InputFile[] {
  const inputs: InputFile[] = [];
  if (image.kind === 'stdin') inputs.push({ what: 'image', name: 'standard input', fd: 0 });
  else if (image.path !== undefined) inputs.push({ what: 'image', name: image.name, path: image.path });
  if (found !== undefined) inputs.push({ what: 'bmap file', name: redactUrl(found.path), path: found.file.localPath });
  if (o.bmapSig !== undefined && !isRemote(o.bmapSig)) inputs.push({ what: 'bmap signature file', name: o.bmapSig, path: localPath(o.bmapSig) });
  if (o.keyring !== undefined) inputs.push({ what: 'keyring', name: o.keyring, path: o.keyring });
  return inputs;
}

/** The last path component, of a URL's path for a URL (as the reference prints it). */
function shortName(uri: string): string {
  return isRemote(uri) ? urlBasename(uri) : basename(uri);
}

/** An IMAGE that is itself a bmap means swapped or mistaken arguments: never copy it raw. */
function refuseBmapAsImage(image: string, head: Uint8Array): void {
  const text = new TextDecoder('latin1').decode(head);
  const xmlBmap = /^(\xef\xbb\xbf)?\s*</.test(text) && /<bmap[\s>]/.test(text) && !text.includes('\0');
  if (isClearsigned(head) || xmlBmap) {
    throw new BmapkitError(
      'IMAGE_IS_BMAP',
      `image '${image}' is a bmap file, not an image; give the image first and the destination second (bmaptool copy IMAGE DEST)`,
    );
  }
}

/**
 * The bmap's OpenPGP signature, unless --no-sig-verify (which still lets a
 * clearsigned bmap be used). A remote bmap's signature is fetched too:
 * --bmap-sig, or <bmap URL path>.asc / .sig (keeping the query).
 */
async function checkSignatures(found: FoundBmap, o: CopyOptions, log: Logger): Promise<void> {
  if (!o.sigVerify) return;
  let signature = o.bmapSig === undefined ? undefined : await localCopy(o.bmapSig, 'bmap signature file', 'SIGNATURE_OPEN');
  if (signature === undefined && !found.file.clearsigned && isRemote(found.path)) {
    const [path, query] = splitQuery(found.path);
    for (const ext of ['.asc', '.sig']) {
      const candidate = `${path}${ext}${query}`;
      signature = await fetchToTemp(candidate, 'bmap signature file', 'SIGNATURE_OPEN').catch(() => undefined);
      if (signature !== undefined) {
        log.info(`discovered signature file for bmap '${redactUrl(candidate)}'`);
        break;
      }
    }
  }
  await checkBmapSignature({
    bmap: found.file.localPath,
    clearsigned: found.file.clearsigned,
    ...(signature === undefined ? {} : { signature }),
    ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
    ...(o.keyring === undefined ? {} : { keyring: o.keyring }),
    onInfo: (m) => log.info(m),
  });
}
