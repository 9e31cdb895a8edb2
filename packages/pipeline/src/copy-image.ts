import { basename } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { BmapkitError, humanSize, isBmapkitError, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import type { CodecRegistry } from '@bmapkit/decompress-stream';
import { redactUrl, type ImageSource } from '@bmapkit/extent-source';
import { deviceTuning, guardDestination, openDestination, openForReadBack, type DeviceTuning, type GuardedDestination, type InputFile } from '@bmapkit/device-guard';
import { blockDeviceSectorSize } from '@bmapkit/native';
import { cleanUpDestination } from './destination.js';
import { corruptingWrites } from './fault-injection.js';
import { runCopy, type PreparedImage } from './copy-chunks.js';
import { openPrepared } from './open-prepared.js';
import { resolveBmap, type ResolvedBmap } from './resolve-bmap.js';
import { isRemote, localPath, urlBasename } from './remote-file.js';
import { cancellable, settlesWithin, STOP_WAIT_MS } from './settle.js';
import type { CopyEvent, LogLevel } from './events.js';

export interface SignatureOptions {
  /** Check the bmap's OpenPGP signature (default true; a clearsigned bmap is usable either way). */
  verify?: boolean;
  /** A detached signature (path or URL); default: the clearsigned bmap, or <bmap URL>.asc / .sig for a remote bmap. */
  file?: string;
  /** Verify against this keyring only (default: the user's). */
  keyring?: string;
  /** Require a signature by this key. */
  fingerprint?: string;
}

export interface DeviceOptions {
  /** DEST must be a removable block device. */
  removable?: boolean;
  /** Create a missing /dev/... path as a regular file (refused without it: a typo). */
  force?: boolean;
  /**
   * O_DIRECT writes to a block device: large aligned writes, two in flight,
   * no page cache (default: on for a block device when it accepts O_DIRECT;
   * true insists, false writes through the page cache as the reference does).
   */
  direct?: boolean;
  /** Tune the device's I/O scheduler and dirty ratio while writing, restored after (default true). */
  tune?: boolean;
}

export interface CopyImageOptions {
  /** A path, "-" (stdin), a URL (http, https, ftp, file, ssh), or the image's bytes as a stream. */
  image: string | URL | ReadableStream<Uint8Array>;
  /** A block device or a file: written only after everything else is validated. */
  dest: string;
  /** A bmap file (path or URL) or a parsed Bmap; omitted: discovered next to the image; false: none, every byte is copied (--nobmap). */
  bmap?: string | URL | Bmap | false;
  /** Stages run on the verified chunks before they are written (each sees every chunk; ImageChunk.data is read-only). */
  stages?: TransformStream<ImageChunk, ImageChunk>[];
  /** Codecs to detect and decode the image with (default: the built-in ones). */
  registry?: CodecRegistry;
  /** Check every range's checksum as it is copied (default true). */
  verify?: boolean;
  signature?: SignatureOptions;
  device?: DeviceOptions;
  /** Read each flushed batch back from DEST, compare, and rewrite what differs (--verify-written). */
  readBack?: boolean;
  /** Stops the copy: it rejects with the signal's reason within half a second, DEST created by it removed and tuning restored. */
  signal?: AbortSignal;
  onEvent?: (event: CopyEvent) => void;
}

export interface CopyResult {
  /** Bytes written to DEST (read-back rewrites not counted). */
  bytesWritten: number;
  /** The image's size. */
  imageSize: number;
  /** Chunks rewritten after reading them back wrong. */
  rewrites: number;
  /** Seconds spent writing (from DEST opened to synced). */
  seconds: number;
  /** The bmap used (undefined without one). */
  bmap: Bmap | undefined;
  /** Where DEST is: a regular file, or a block or character device. */
  destKind: 'file' | 'block' | 'char';
  /** Written with O_DIRECT (a block device that takes it, unless `device.direct` was false). */
  direct: boolean;
}

/**
 * Copies an image to DEST as `bmaptool copy` does. Everything is validated
 * before DEST is opened: the image (opened and sniffed), the bmap (found,
 * parsed, its own checksum), signatures, sizes, the destination's safety.
 * Then the stages run: decode, cut or pull the mapped ranges, verify, the
 * caller's stages, write. On any failure, a DEST this call created is
 * removed (exactly it) and device tuning is restored; an existing DEST that
 * was written to is named in the error as partly overwritten.
 */
export async function copyImage(o: CopyImageOptions): Promise<CopyResult> {
  return cancellable(o.signal, `copying to '${o.dest}'`, () => copy(o));
}

async function copy(o: CopyImageOptions): Promise<CopyResult> {
  const emit = o.onEvent ?? (() => undefined);
  const log = (level: LogLevel, message: string) => emit({ type: 'log', level, message });
  o.signal?.throwIfAborted();
  const opened = await openPrepared(o.image, { registry: o.registry, onWarning: (m) => log('warning', m) });
  // Whatever reads the image (a decoding thread or program, a connection)
  // is stopped when the copy ends without having read it all.
  const onAbort = () => void opened.stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await copyPrepared(o, opened.prepared, emit, log);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await opened.stop();
  }
}

async function copyPrepared(o: CopyImageOptions, prepared: PreparedImage, emit: (e: CopyEvent) => void, log: (level: LogLevel, message: string) => void): Promise<CopyResult> {
  const image = prepared.image;
  const resolved = await resolveBmap(o, prepared, emit, log);
  o.signal?.throwIfAborted();
  const bmap = resolved?.bmap;
  const device = o.device ?? {};
  const dest = await guardDestination(o.dest, {
    imageSize: bmap?.imageSize ?? prepared.knownSize,
    image: image.name,
    inputs: copyInputs(image, resolved, o.signature),
    removable: device.removable === true,
    force: device.force === true,
    direct: device.direct === true,
    onWarning: (w) => log('warning', w),
  });
  if (o.readBack === true && dest.kind === 'char') {
    throw new BmapkitError('USAGE', `--verify-written cannot read back '${o.dest}', a character device; leave it out`);
  }
  o.signal?.throwIfAborted();

  // Only now is DEST opened: everything above has passed. From here on a
  // failure or an abort undoes what was set up before the call settles.
  let handles: OpenedDestination | undefined;
  const tuning: DeviceTuning | undefined =
    dest.device !== undefined && device.tune !== false
      ? deviceTuning(dest.device, { roots: { sys: '/sys', proc: '/proc' }, onWarning: (w: string) => log('warning', w), onInfo: (i: string) => log('info', i) })
      : undefined;
  let writing = false;
  const abort = new AbortController();
  /** Undoes what was set up; `stopped`: the copy is known to have stopped touching DEST, so its descriptors may be closed. */
  const abandon = async (stopped: boolean): Promise<string | undefined> => {
    if (stopped) await handles?.close().catch(() => undefined); // else the process's exit closes them: a job may still hold them
    await tuning?.restore().catch((e: Error) => log('error', e.message));
    return writing || (dest.kind === 'file' && !dest.existed) ? cleanUpDestination(dest) : undefined;
  };
  let t0 = 0;
  // Opening, tuning and copying are one piece of work that an abort stops
  // and then waits for (at most STOP_WAIT_MS), before anything is closed or removed.
  const work = async () => {
    handles = await openAll(dest, device.direct ?? (dest.kind === 'block' ? 'auto' : false), o.readBack === true);
    abort.signal.throwIfAborted();
    await tuning?.apply();
    abort.signal.throwIfAborted();
    const target = dest.kind === 'block' ? `block device '${o.dest}'` : `file '${basename(o.dest)}'`;
    log(
      'info',
      resolved?.path === undefined
        ? bmap === undefined
          ? `no bmap given, copy entire image to '${o.dest}'`
          : `copying image '${shortName(image.uri)}' to ${target} using the given bmap`
        : `copying image '${shortName(image.uri)}' to ${target} using bmap file '${shortName(resolved.path)}'`,
    );
    t0 = performance.now();
    const { handle } = handles;
    const writeTo = corruptingWrites(handle, process.env['BMAPKIT_TEST_CORRUPT_WRITES']);
    writing = true;
    return runCopy({
      prepared,
      bmap,
      verify: o.verify !== false,
      dest: { path: o.dest, kind: dest.kind, handle: writeTo, ...(handles.direct === undefined ? {} : { direct: handles.direct }) },
      ...(handles.readBack === undefined
        ? {}
        : {
            readBack: {
              ...handles.readBack,
              onMismatch: (first: number, last: number, attempt: number) => {
                emit({ type: 'rewrite', first, last, attempt });
                log('warning', `blocks ${first}-${last} of '${o.dest}' read back wrong; rewriting them (attempt ${attempt})`);
              },
            },
          }),
      stages: o.stages ?? [],
      beforeSync: () => {
        emit({ type: 'sync' });
        log('info', `synchronizing '${o.dest}'`);
      },
      onProgress: (bytes, total) => emit({ type: 'progress', bytes, total }),
      onRange: (range) => emit({ type: 'range-verified', range }),
      signal: abort.signal,
    });
  };
  const running = work();
  running.catch(() => undefined);
  // An abort that comes before the copy has settled wins, even if the copy
  // then completes: the caller gave up on it, so a DEST it created goes.
  const state: { outcome: 'running' | 'done' | 'aborting' } = { outcome: 'running' };
  let onAbort: (() => void) | undefined;
  const stopping = new Promise<never>((_, reject) => {
    onAbort = () => {
      if (state.outcome !== 'running') return;
      state.outcome = 'aborting';
      abort.abort(o.signal!.reason);
      void (async () => {
        const stopped = await settlesWithin(running, STOP_WAIT_MS);
        const note = await abandon(stopped);
        if (note !== undefined) log('error', note);
        reject(o.signal!.reason);
      })();
    };
    if (o.signal?.aborted === true) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  stopping.catch(() => undefined);
  let result;
  try {
    result = await Promise.race([running, stopping]);
    if (state.outcome === 'aborting') return await stopping;
    state.outcome = 'done';
    await handles!.close();
    await tuning?.restore();
  } catch (e) {
    if (state.outcome === 'aborting') return await stopping; // the abort cleans up, then rejects
    state.outcome = 'done';
    const note = await abandon(true);
    if (note !== undefined && isBmapkitError(e)) e.message = `${e.message}; ${note}`;
    throw e;
  } finally {
    if (onAbort !== undefined) o.signal?.removeEventListener('abort', onAbort);
  }
  if (handles?.readBack !== undefined) {
    log('info', `read back and verified ${humanSize(result.bytes)} from '${o.dest}'${handles.readBack.direct ? ' (direct I/O)' : ''}${result.rewrites > 0 ? `, ${result.rewrites} chunk(s) rewritten` : ''}`);
  }
  return { bytesWritten: result.bytes, imageSize: result.imageSize, rewrites: result.rewrites, seconds: (performance.now() - t0) / 1000, bmap, destKind: dest.kind, direct: handles?.direct !== undefined };
}

interface OpenedDestination {
  handle: FileHandle;
  direct?: { sectorSize: number; reader: FileHandle };
  readBack?: { reader: FileHandle; direct: boolean };
  close(): Promise<void>;
}

/**
 * Opens DEST for writing and, when asked, a second read-only descriptor for
 * O_DIRECT edges and read-back. `auto`: O_DIRECT when the device takes it.
 */
async function openAll(dest: GuardedDestination, wanted: boolean | 'auto', readBack: boolean): Promise<OpenedDestination> {
  let direct = wanted !== false;
  let handle: FileHandle;
  try {
    handle = await openDestination(dest, { direct });
  } catch (e) {
    if (wanted !== 'auto' || !(e instanceof BmapkitError) || (e.cause as NodeJS.ErrnoException | undefined)?.code !== 'EINVAL') throw e;
    direct = false; // the device refuses O_DIRECT: through the page cache, as the reference writes
    handle = await openDestination(dest, { direct });
  }
  const extra: FileHandle[] = [];
  const close = async () => {
    for (const h of [handle, ...extra]) await h.close().catch(() => undefined);
  };
  try {
    const out: OpenedDestination = { handle, close };
    if (direct || readBack) {
      const rb = await openForReadBack(dest);
      extra.push(rb.handle);
      if (direct) out.direct = { sectorSize: blockDeviceSectorSize(handle.fd), reader: rb.handle };
      if (readBack) out.readBack = { reader: rb.handle, direct: rb.direct };
    }
    return out;
  } catch (e) {
    await close();
    throw e;
  }
}

/** The local files a copy reads: DEST must be none of them. */
function copyInputs(image: ImageSource, found: ResolvedBmap | undefined, sig: SignatureOptions | undefined): InputFile[] {
  const inputs: InputFile[] = [];
  if (image.kind === 'stdin') inputs.push({ what: 'image', name: 'standard input', fd: 0 });
  else if (image.path !== undefined) inputs.push({ what: 'image', name: image.name, path: image.path });
  if (found?.localPath !== undefined) inputs.push({ what: 'bmap file', name: redactUrl(found.path ?? found.localPath), path: found.localPath });
  if (sig?.file !== undefined && !isRemote(sig.file)) inputs.push({ what: 'bmap signature file', name: sig.file, path: localPath(sig.file) });
  if (sig?.keyring !== undefined) inputs.push({ what: 'keyring', name: sig.keyring, path: sig.keyring });
  return inputs;
}

/** The last path component, of a URL's path for a URL (as the reference prints it). */
function shortName(uri: string): string {
  return isRemote(uri) ? urlBasename(uri) : basename(uri);
}
