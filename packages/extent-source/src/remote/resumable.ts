import type { IncomingMessage } from 'node:http';
import { BmapkitError } from '@bmapkit/bmap-format';
import { httpGet, type HttpGetOptions } from './http-client.js';
import { redactUrl } from './redact.js';
import { statusText } from './http-errors.js';

/** How often a dropped connection is resumed before the copy fails (BMAPKIT_HTTP_RETRIES). */
export function maxRetries(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['BMAPKIT_HTTP_RETRIES']);
  return Number.isInteger(n) && n >= 0 ? n : 5;
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
  async function open(pos: number): Promise<{ body: IncomingMessage; skip: number }> {
    const range = rangeOk ? { start: pos, ...(end === undefined ? {} : { end: end - 1 }) } : undefined;
    const r = await httpGet(url, { ...options, ...(range === undefined ? {} : { range }) });
    if (rangeOk && r.status !== 206) {
      r.body.resume();
      throw new BmapkitError('IMAGE_NETWORK', `'${redactUrl(url.toString())}' answered a Range request with ${statusText(r.status)}, not 206 Partial Content`);
    }
    if (!rangeOk && r.status !== 200) {
      r.body.resume();
      throw new BmapkitError('IMAGE_NETWORK', `'${redactUrl(url.toString())}' answered ${statusText(r.status)}`);
    }
    return { body: r.body, skip: rangeOk ? 0 : pos };
  }
  async function* bytes(): AsyncGenerator<Uint8Array, void, undefined> {
    let pos = start;
    let tries = 0;
    let skip = 0;
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
          if (end !== undefined && pos + data.byteLength > end) data = data.subarray(0, end - pos);
          if (data.byteLength === 0) continue;
          pos += data.byteLength;
          yield data;
          if (end !== undefined && pos >= end) return;
        }
        if (end === undefined || pos >= end) return;
        failure = new Error(`the connection ended at byte ${pos}`);
      } catch (e) {
        if (destroyed) return;
        failure = e;
      }
      current?.destroy();
      current = undefined;
      if (++tries > retries) {
        throw new BmapkitError(
          'IMAGE_NETWORK',
          `lost the connection to '${redactUrl(url.toString())}' at byte ${pos} (${(failure as Error).message}); gave up after ${retries} retries`,
          { cause: failure },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** tries, 2000)));
    }
  }
  return {
    bytes: bytes(),
    destroy() {
      destroyed = true;
      current?.destroy();
    },
  };
}
