import { open, stat } from 'node:fs/promises';
import { fstatSync, createReadStream } from 'node:fs';
import { readableFromNode } from './node-readable.js';
import { BmapkitError } from '@bmapkit/bmap-format';
import { fsReason } from './fs-reason.js';
import { openFileSource, type RandomAccessSource } from './file-source.js';

export interface ImageSource {
  /** As the user gave it ("disk.img.xz", "-"). */
  uri: string;
  kind: 'file' | 'stdin';
  /** Size in bytes when known: a local regular file, or stdin redirected from one. */
  size: number | undefined;
  /** The bytes from the start, as stored (still compressed, if they are). */
  stream(): ReadableStream<Uint8Array>;
  /** Positioned reads, for a local regular file. */
  randomAccess(): Promise<RandomAccessSource> | undefined;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True when the string names a URL (has a scheme), not a local path. */
export function isUrl(uri: string): boolean {
  return URL_SCHEME.test(uri) || uri.startsWith('file:');
}

/**
 * Opens an image: a local path, or "-" for standard input. Fails with a
 * typed error naming the image. (http, https, ftp, file and ssh URLs are
 * planned; they are refused clearly until then.)
 */
export async function openImage(uri: string): Promise<ImageSource> {
  if (uri === '-') return openStdin();
  if (isUrl(uri)) {
    throw new BmapkitError('IMAGE_URL', `cannot open image '${uri}': reading images from URLs is not supported yet; download it first`);
  }
  let size: number | undefined;
  try {
    const st = await stat(uri);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.isFile() ? st.size : undefined;
    await (await open(uri, 'r')).close(); // readable by us?
  } catch (e) {
    throw new BmapkitError('IMAGE_OPEN', `cannot open image '${uri}': ${fsReason(e)}`, { cause: e });
  }
  return {
    uri,
    kind: 'file',
    size,
    stream: () => readableFromNode(createReadStream(uri, { highWaterMark: 1 << 20 })),
    randomAccess: () => (size === undefined ? undefined : openFileSource(uri)),
  };
}

function openStdin(): ImageSource {
  let size: number | undefined;
  try {
    const st = fstatSync(0);
    size = st.isFile() ? st.size : undefined;
  } catch {
    size = undefined;
  }
  return {
    uri: '-',
    kind: 'stdin',
    size,
    stream: () => readableFromNode(process.stdin),
    randomAccess: () => undefined,
  };
}
