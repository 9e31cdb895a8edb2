import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BmapkitError, isBmapkitError } from '@bmapkit/bmap-format';
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
export async function fetchToTemp(uri: string, what: string, code: string): Promise<string> {
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

/** A local path for `uri`: itself when it is not a URL, else a fetched copy (file: URLs are read in place). */
export async function localCopy(uri: string, what: string, code: string): Promise<string> {
  return isRemote(uri) ? fetchToTemp(uri, what, code) : localPath(uri);
}
