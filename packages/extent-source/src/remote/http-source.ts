import type { RangeList, Bmap, ImageChunk } from '@bmapkit/bmap-format';
import { httpGet, type HttpGetOptions } from './http-client.js';
import { httpError, statusText } from './http-errors.js';
import { fetchExtents } from './fetch-extents.js';
import { readSpan } from './resumable.js';

export interface HttpImage {
  /** Size in bytes, when the server says (Content-Range or Content-Length). */
  size: number | undefined;
  /** The server honours Range requests. */
  ranges: boolean;
  /** The bytes from the start (the response already open; resumed after a drop). */
  stream(): ReadableStream<Uint8Array>;
  /** Only the mapped ranges, by Range requests; undefined when the server ignores ranges. */
  extents(ranges: RangeList, geometry: Pick<Bmap, 'blockSize' | 'imageSize'>): ReadableStream<ImageChunk> | undefined;
}

/**
 * Bytes asked for by the first request: enough to recognise any built-in
 * format (a tar header is 512 bytes; a codec that needs more reads on).
 * Their mapped bytes are used as image data, not fetched again: a raw image
 * costs at most this much more than its mapped bytes (40 MB with 2.08 MB
 * mapped in single blocks: 64 KiB asked for first and fetched again made it
 * +8.9%).
 */
const SNIFF = 4 << 10;

/**
 * Opens an http(s) image with one GET for its first 4 KiB: the status says
 * whether the image exists, a 206 with Content-Range that the server supports
 * ranges and how big the image is (a server that ignores ranges answers 200
 * with the whole image, which is then read as it comes: one request). The
 * linear stream continues after those bytes with a second Range request
 * only when it is read that far (a compressed image); a raw image is
 * fetched at its mapped ranges instead (the first response's mapped bytes
 * among them), so at most 4 KiB of holes are read.
 */
export async function openHttp(uri: string, options: HttpGetOptions & { whole?: boolean } = {}): Promise<HttpImage> {
  const url = new URL(uri);
  let r;
  try {
    // `whole`: a small file (a bmap, a signature) read in full with one plain GET
    r = await httpGet(url, options.whole === true ? options : { ...options, range: { start: 0, end: SNIFF - 1 } });
  } catch (e) {
    throw httpError('IMAGE_OPEN', uri, 'cannot open image', e);
  }
  if (r.status === 416) {
    r.body.resume();
    return { size: 0, ranges: true, stream: () => new ReadableStream({ start: (c) => c.close() }), extents: () => undefined };
  }
  if (r.status !== 200 && r.status !== 206) {
    r.body.resume();
    throw httpError('IMAGE_OPEN', uri, `cannot open image (${statusText(r.status)})`);
  }
  const ranges = r.status === 206;
  const total = ranges ? Number(/\/(\d+)\s*$/.exec(String(r.headers['content-range'] ?? ''))?.[1] ?? NaN) : Number(r.headers['content-length'] ?? NaN);
  const size = Number.isFinite(total) ? total : undefined;
  const first = r.body;
  const where = r.url;
  let used = false;
  return {
    size,
    ranges,
    stream() {
      // the first response: the whole image (200), or its first bytes (206)
      const head = readSpan(where, 0, ranges ? Math.min(SNIFF, size ?? SNIFF) : size, ranges, used ? undefined : first, options);
      used = true;
      let tail: ReturnType<typeof readSpan> | undefined;
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            let r = await (tail ?? head).bytes.next();
            if (r.done && tail === undefined && ranges && size !== undefined && size > SNIFF) {
              tail = readSpan(where, SNIFF, size, true, undefined, options);
              r = await tail.bytes.next();
            }
            if (r.done) controller.close();
            else controller.enqueue(r.value);
          },
          cancel() {
            head.destroy();
            tail?.destroy();
          },
        },
        // no read-ahead: the rest of the image is asked for only when a reader gets there (not while sniffing a raw image)
        { highWaterMark: 0 },
      );
    },
    extents(rangesToFetch, geometry) {
      if (!ranges) return undefined;
      // the first response, unless stream() took it (nothing of it left to use when empty)
      const length = used ? 0 : Math.min(SNIFF, size ?? 0);
      if (!used && length === 0) first.destroy();
      used = true;
      if (length === 0) return fetchExtents(where, rangesToFetch, geometry, options);
      // its bytes are the image's first `length`: used as data, not fetched again
      const probe = readSpan(where, 0, length, true, first, options);
      return fetchExtents(where, rangesToFetch, geometry, { ...options, head: { length, bytes: () => collect(probe.bytes, length), destroy: () => probe.destroy() } });
    },
  };
}

/** All of a span's bytes in one buffer of `length`. */
async function collect(bytes: AsyncGenerator<Uint8Array, void, undefined>, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let at = 0;
  for await (const b of bytes) {
    out.set(b.subarray(0, Math.min(b.byteLength, length - at)), at);
    at += b.byteLength;
  }
  return out;
}
