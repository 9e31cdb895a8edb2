import { open, stat } from 'node:fs/promises';
import { fstatSync, createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BmapkitError, type RangeList, type Bmap, type ImageChunk, fsError } from '@bmapkit/bmap-format';
import { readableFromNode } from './node-readable.js';
import { openFileSource, type RandomAccessSource } from './file-source.js';
import { readExtents } from './read-extents.js';
import { openHttp } from './remote/http-source.js';
import { ftpStream, sshStream } from './remote/command-source.js';
import { redactUrl } from './remote/redact.js';

export interface ImageSource {
  /** As the user gave it ("disk.img.xz", "-", "https://user:pw@host/disk.img"). */
  uri: string;
  /** How to name it in messages: the URI without its password. */
  name: string;
  kind: 'file' | 'stdin' | 'url' | 'stream';
  /** The local path, for a local file (also one given as a file: URL). */
  path: string | undefined;
  /** Size in bytes when known: a local regular file, stdin redirected from one, or what a server says. */
  size: number | undefined;
  /** The bytes from the start, as stored (still compressed, if they are). */
  stream(): ReadableStream<Uint8Array>;
  /** Positioned reads, for a local regular file. */
  randomAccess(): Promise<RandomAccessSource> | undefined;
  /**
   * Only the mapped ranges, pulled directly (positioned reads of a local
   * file, Range requests to a server): undefined when the source can only be
   * read from start to end.
   */
  extents(ranges: RangeList, geometry: Pick<Bmap, 'blockSize' | 'imageSize'>): Promise<ReadableStream<ImageChunk>> | undefined;
}

const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True when the string names a URL (has a scheme), not a local path. */
export function isUrl(uri: string): boolean {
  return URL_SCHEME.test(uri) || uri.startsWith('file:');
}

/**
 * Opens an image: a local path, "-" for standard input, or a URL (http,
 * https, ftp, file, ssh). Fails with a typed error naming the image (a URL's
 * password never appears). `whole`: the file will be read in full (a bmap,
 * a signature), so an http(s) URL is fetched with one plain GET.
 */
export async function openImage(uri: string, options: { whole?: boolean } = {}): Promise<ImageSource> {
  if (uri === '-') return openStdin();
  if (!isUrl(uri)) return openFile(uri, uri);
  const scheme = uri.slice(0, uri.indexOf(':')).toLowerCase();
  const name = redactUrl(uri);
  switch (scheme) {
    case 'file': {
      let path: string;
      try {
        path = fileURLToPath(uri);
      } catch (e) {
        throw new BmapkitError('IMAGE_OPEN', `cannot open image '${name}': ${(e as Error).message}`);
      }
      return openFile(path, uri);
    }
    case 'http':
    case 'https': {
      const h = await openHttp(uri, options);
      return {
        uri,
        name,
        kind: 'url',
        path: undefined,
        size: h.size,
        stream: () => h.stream(),
        randomAccess: () => undefined,
        extents: (ranges, geometry) => {
          const s = h.extents(ranges, geometry);
          return s === undefined ? undefined : Promise.resolve(s);
        },
      };
    }
    case 'ssh':
    case 'ftp': {
      const stream = scheme === 'ssh' ? sshStream(uri) : ftpStream(uri);
      return { uri, name, kind: 'url', path: undefined, size: undefined, stream: () => stream, randomAccess: () => undefined, extents: () => undefined };
    }
    default:
      throw new BmapkitError('IMAGE_URL', `cannot open image '${name}': '${scheme}' URLs are not supported (http, https, ftp, file and ssh are)`);
  }
}

async function openFile(path: string, uri: string): Promise<ImageSource> {
  let size: number | undefined;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.isFile() ? st.size : undefined;
    await (await open(path, 'r')).close(); // readable by us?
  } catch (e) {
    throw fsError('IMAGE_OPEN', 'cannot open image', uri, e);
  }
  const randomAccess = () => (size === undefined ? undefined : openFileSource(path));
  return {
    uri,
    name: uri,
    kind: 'file',
    path,
    size,
    stream: () => readableFromNode(createReadStream(path, { highWaterMark: 1 << 20 })),
    randomAccess,
    extents: (ranges, geometry) => randomAccess()?.then((source) => readExtents(source, ranges, geometry)),
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
    name: '-',
    kind: 'stdin',
    path: undefined,
    size,
    stream: () => readableFromNode(process.stdin),
    randomAccess: () => undefined,
    extents: () => undefined,
  };
}

/**
 * An image given as a stream of its bytes (already open: a build step's
 * output, a socket), read once from start to end. `name` is how messages
 * name it; its ending is also the clue to the format when the content has
 * no magic bytes.
 */
export function streamImage(stream: ReadableStream<Uint8Array>, name = 'stream'): ImageSource {
  return {
    uri: name,
    name,
    kind: 'stream',
    path: undefined,
    size: undefined,
    stream: () => stream,
    randomAccess: () => undefined,
    extents: () => undefined,
  };
}
