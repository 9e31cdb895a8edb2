import type { IncomingMessage } from 'node:http';
import { BmapkitError } from '@bmapkit/bmap-format';
import { httpGet, TIMED_OUT, type HttpGetOptions, type TimedResponse } from './http-client.js';
import { redactUrl } from './redact.js';
import { statusText } from './http-errors.js';

/** How often a dropped connection is resumed before the copy fails (BMAPKIT_HTTP_RETRIES). */
export function maxRetries(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['BMAPKIT_HTTP_RETRIES']);
  return Number.isInteger(n) && n >= 0 ? n : 5;
}

/**
 * The slowest transfer put up with: fewer than `bytesPerSecond` on average
 * over `seconds` ends the read (a server that trickles a byte now and then
 * never trips the idle timeout). BMAPKIT_HTTP_LOW_SPEED (bytes/s, default
 * 1024, 0: no limit) and BMAPKIT_HTTP_LOW_SPEED_TIME (s, default 30), as
 * curl's --speed-limit and --speed-time.
 */
export function lowSpeedLimit(env: NodeJS.ProcessEnv = process.env): { bytesPerSecond: number; seconds: number } {
  const limit = Number(env['BMAPKIT_HTTP_LOW_SPEED']);
  const time = Number(env['BMAPKIT_HTTP_LOW_SPEED_TIME']);
  return {
    bytesPerSecond: Number.isFinite(limit) && limit >= 0 && env['BMAPKIT_HTTP_LOW_SPEED'] !== '' && env['BMAPKIT_HTTP_LOW_SPEED'] !== undefined ? limit : 1024,
    seconds: Number.isFinite(time) && time > 0 ? time : 30,
  };
}

/** The first and last byte and the total a 206 response says it carries ("bytes 0-99/1000"). */
export function parseContentRange(header: string | undefined): { first: number; last: number; total: number | undefined } | undefined {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header ?? '');
  if (m === null) return undefined;
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (last < first) return undefined;
  return { first, last, total: m[3] === '*' ? undefined : Number(m[3]) };
}

export interface ByteSpanReader {
  /** The bytes [start, end) in order, resuming after a dropped connection. */
  bytes: AsyncGenerator<Uint8Array, void, undefined>;
  /** Stops reading (the current response is destroyed). */
  destroy(): void;
}

/**
 * Reads [start, end) of a URL from `first` (an open response already
 * positioned at `start`, or undefined to request it), and when the
 * connection drops or ends early, asks again from the byte where it stopped
 * (a Range request; without range support, a new GET whose first bytes are
 * skipped), up to maxRetries times.
 */
export function readSpan(
  url: URL,
  start: number,
  end: number | undefined,
  rangeOk: boolean,
  first: IncomingMessage | undefined,
  options: HttpGetOptions,
): ByteSpanReader {
  let current: IncomingMessage | undefined = first;
  let destroyed = false;
  const retries = maxRetries(options.env);
  const name = redactUrl(url.toString());
  const slow = lowSpeedLimit(options.env);
  /** Bytes the current response may carry, from its Content-Range (a 206 that says less than was asked ends sooner). */
  let limit = end;
  async function open(pos: number): Promise<{ body: IncomingMessage; skip: number }> {
    const range = rangeOk ? { start: pos, ...(end === undefined ? {} : { end: end - 1 }) } : undefined;
    const r = await httpGet(url, { ...options, ...(range === undefined ? {} : { range }) });
    if (rangeOk && r.status !== 206) {
      r.body.resume();
      throw new BmapkitError('IMAGE_NETWORK', `'${name}' answered a Range request with ${statusText(r.status)}, not 206 Partial Content`);
    }
    if (rangeOk) limit = checkContentRange(r.body, pos);
    if (!rangeOk && r.status !== 200) {
      r.body.resume();
      throw new BmapkitError('IMAGE_NETWORK', `'${redactUrl(url.toString())}' answered ${statusText(r.status)}`);
    }
    return { body: r.body, skip: rangeOk ? 0 : pos };
  }
  /**
   * A 206 must carry the bytes asked for: its Content-Range must start at
   * `pos` and end within the request (a server or proxy that answers with
   * other bytes would otherwise have them written at the requested offset).
   * Returns one past the last byte it carries.
   */
  function checkContentRange(body: IncomingMessage, pos: number): number | undefined {
    const header = body.headers['content-range'];
    const cr = parseContentRange(header);
    const wrong = (why: string): never => {
      body.destroy();
      throw new BmapkitError('IMAGE_NETWORK', `'${name}' answered a request for bytes ${pos}-${end === undefined ? '' : end - 1} with ${why}; refusing its data (a broken server or proxy)`, {
        details: { url: name, requested: [pos, end], contentRange: header ?? null },
      });
    };
    if (cr === undefined) return wrong(header === undefined ? 'no Content-Range' : `Content-Range '${header}'`);
    if (cr.first !== pos || (end !== undefined && cr.last > end - 1)) return wrong(`bytes ${cr.first}-${cr.last}`);
    const length = Number(body.headers['content-length'] ?? NaN);
    if (Number.isFinite(length) && length !== cr.last - cr.first + 1) return wrong(`Content-Range '${header}' but Content-Length ${length}`);
    return cr.last + 1;
  }
  async function* bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    let pos = start;
    let tries = 0;
    let skip = 0;
    let windowStart = Date.now();
    let windowBytes = 0;
    if (current !== undefined && rangeOk) limit = checkContentRange(current, pos);
    for (;;) {
      if (current === undefined) ({ body: current, skip } = await open(pos));
      let failure: unknown;
      try {
        for await (const b of current as AsyncIterable<Buffer>) {
          let data: Uint8Array = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
          if (skip > 0) {
            const n = Math.min(skip, data.byteLength);
            skip -= n;
            data = data.subarray(n);
          }
          if (limit !== undefined && pos + data.byteLength > limit) {
            if (limit !== end) throw tooMuch(pos + data.byteLength); // more than its Content-Range said
            data = data.subarray(0, end - pos);
          }
          windowBytes += data.byteLength;
          const elapsed = Date.now() - windowStart;
          if (slow.bytesPerSecond > 0 && elapsed >= slow.seconds * 1000) {
            if (windowBytes < slow.bytesPerSecond * (elapsed / 1000)) throw tooSlow(windowBytes, elapsed);
            windowStart = Date.now();
            windowBytes = 0;
          }
          if (data.byteLength === 0) continue;
          pos += data.byteLength;
          yield data;
          if (end !== undefined && pos >= end) return;
        }
        if (end === undefined || pos >= end) return;
        if (limit !== undefined && pos >= limit) {
          current = undefined; // it sent all it said it would (less than asked): ask for the rest
          tries = 0;
          continue;
        }
        failure = new Error(`the connection ended at byte ${pos}`);
      } catch (e) {
        if (destroyed) return;
        if (e instanceof BmapkitError) {
          current?.destroy();
          throw e; // wrong data or too slow: asking again would not help
        }
        failure = (current as TimedResponse | undefined)?.[TIMED_OUT] ?? e;
      }
      current?.destroy();
      current = undefined;
      if (++tries > retries) {
        const why = (failure as NodeJS.ErrnoException).code === 'ETIMEDOUT' ? `${(failure as Error).message}: a stalled server; BMAPKIT_HTTP_TIMEOUT sets the limit in seconds` : (failure as Error).message;
        throw new BmapkitError('IMAGE_NETWORK', `lost the connection to '${name}' at byte ${pos} (${why}); gave up after ${retries} retries`, { cause: failure });
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** tries, 2000)));
    }
  }
  function tooMuch(at: number): BmapkitError {
    return new BmapkitError('IMAGE_NETWORK', `'${name}' sent more bytes than its Content-Range said (to byte ${at}); refusing its data (a broken server or proxy)`);
  }
  function tooSlow(bytes: number, ms: number): BmapkitError {
    return new BmapkitError(
      'IMAGE_NETWORK',
      `'${name}' sent only ${bytes} bytes in ${Math.round(ms / 1000)} s, less than ${slow.bytesPerSecond} bytes/s; giving up (BMAPKIT_HTTP_LOW_SPEED and BMAPKIT_HTTP_LOW_SPEED_TIME set the limit)`,
    );
  }
  return {
    bytes: bytes(),
    destroy() {
      destroyed = true;
      current?.destroy();
    },
  };
}
