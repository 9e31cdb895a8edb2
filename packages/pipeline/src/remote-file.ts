import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BmapkitError, isBmapkitError, type BmapkitErrorCode, fsError } from '@bmapkit/bmap-format';
import { isUrl, openImage } from '@bmapkit/extent-source';

let dir: string | undefined;

/** Files fetched from URLs live in one private directory, removed when the process exits. */
function tempDir(): string {
  if (dir === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-remote-'));
    const d = dir;
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  }
  return dir;
}

/** A URL this process fetches (http, https, ftp, ssh); file: URLs and paths are read in place. */
export function isRemote(uri: string): boolean {
  return isUrl(uri) && !uri.startsWith('file:');
}

/** The local path of a path or a file: URL (percent-escapes decoded). */
export function localPath(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

/** The last component of a URL's path, decoded (what the reference prints for a URL). */
export function urlBasename(uri: string): string {
  return decodeURIComponent(new URL(uri).pathname.split('/').pop() ?? '');
}

let count = 0;
const MAX_BYTES = 512 << 20;

/**
 * Fetches a small remote file (a bmap, a signature) once, into a private
 * temporary file named after the URL's last path component, and returns its
 * path. Failures are `code` errors saying `what` could not be opened.
 */
export async function fetchToTemp(uri: string, what: string, code: BmapkitErrorCode): Promise<string> {
  const base = urlBasename(uri) || 'download';
  const local = join(tempDir(), `${count++}-${base}`);
  const out = await open(local, 'wx', 0o600);
  let size = 0;
  try {
    const source = await openImage(uri, { whole: true });
    for await (const chunk of source.stream() as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_BYTES) throw new BmapkitError(code, `${what} '${source.name}' is larger than 512 MiB; that is not a bmap or a signature`);
      await out.write(chunk);
    }
  } catch (e) {
    if (isBmapkitError(e) && e.code !== code) throw new BmapkitError(code, e.message.replace(/^cannot open image/, `cannot open ${what}`), { cause: e });
    throw e;
  } finally {
    await out.close();
  }
  return local;
}

/**
 * A local regular file with the contents of `uri`: the path itself for a
 * regular file (file: URLs are read in place), else a private copy: fetched
 * for a URL, read to its end for a pipe, a FIFO or a device (`<(cat x.bmap)`,
 * /dev/stdin), which can be read only once and not at offsets. `text`: the
 * file must be text (a bmap), so binary data is refused at its first bytes
 * instead of being copied (an endless /dev/zero).
 */
export async function localCopy(uri: string, what: string, code: BmapkitErrorCode, options: { text?: boolean; onInfo?: (m: string) => void } = {}): Promise<string> {
  if (isRemote(uri)) return fetchToTemp(uri, what, code);
  const path = localPath(uri);
  const st = await stat(path).catch(() => undefined);
  if (st === undefined || st.isFile() || st.isDirectory()) return path; // errors are the reader's to report
  return copyStream(path, st.isFIFO(), what, code, options);
}

/** How long a FIFO may have no writer, or a writer that sends nothing (BMAPKIT_FIFO_TIMEOUT, seconds). */
function fifoTimeoutMs(): number {
  const s = Number(process.env['BMAPKIT_FIFO_TIMEOUT']);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 30_000;
}

/**
 * Copies a pipe, FIFO or device into the private directory. It is opened
 * without blocking (a FIFO with no writer would block open forever), and
 * waited for: until a writer comes and sends data, for at most
 * fifoTimeoutMs() at a time; what it sends is read to its end.
 */
async function copyStream(path: string, fifo: boolean, what: string, code: BmapkitErrorCode, options: { text?: boolean; onInfo?: (m: string) => void }): Promise<string> {
  let input: FileHandle;
  try {
    input = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(code, `cannot open ${what}`, path, e);
  }
  const local = join(tempDir(), `${count++}-${basename(path) || 'input'}`);
  const out = await open(local, 'wx', 0o600);
  const timeout = fifoTimeoutMs();
  const buf = Buffer.alloc(1 << 16);
  let size = 0;
  let quietSince = Date.now();
  let told = false;
  try {
    for (;;) {
      let n: number;
      try {
        ({ bytesRead: n } = await input.read(buf, 0, buf.length, null));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw fsError(code, `cannot read ${what}`, path, e);
        n = -1; // a writer, but nothing yet
      }
      if (n > 0) {
        if (size === 0 && options.text === true && buf.subarray(0, n).includes(0)) {
          throw new BmapkitError('BMAP_PARSE', `${what} '${path}': contains binary data, so it is not a bmap file; is it the image? (check the order of the arguments)`);
        }
        size += n;
        if (size > MAX_BYTES) throw new BmapkitError(code, `${what} '${path}' is larger than 512 MiB; that is not a bmap or a signature`);
        await out.write(buf.subarray(0, n));
        quietSince = Date.now();
        continue;
      }
      // 0: the end, except from a FIFO that no writer has opened yet
      if (n === 0 && (!fifo || size > 0)) break;
      const quiet = Date.now() - quietSince;
      if (quiet > timeout) {
        throw new BmapkitError(code, `${what} '${path}' is a FIFO ${n === 0 ? 'that nothing opened for writing' : 'whose writer sent nothing'} for ${Math.round(timeout / 1000)} s; start what writes it (BMAPKIT_FIFO_TIMEOUT sets the wait in seconds)`);
      }
      if (!told && quiet > 1000 && n === 0) {
        told = true;
        options.onInfo?.(`waiting for something to write ${what} '${path}' (a FIFO)`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await input.close();
    await out.close();
  }
  return local;
}
