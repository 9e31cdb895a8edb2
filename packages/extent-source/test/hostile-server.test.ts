import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ImageChunk } from '@bmapkit/bmap-format';
import { openHttp, parseContentRange } from '../src/index.js';

// Servers that lie or stall, on 127.0.0.1: what they send must never be
// written at the wrong offset, and none of them may hold a copy forever.

const SIZE = 256 << 10;
const image = new Uint8Array(SIZE).map((_, i) => (i * 7 + (i >>> 9)) & 0xff);
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, range: { start: number; end: number } | undefined) => void;
async function serve(handler: Handler): Promise<string> {
  const server = http.createServer((req, res) => {
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    const range = m === null ? undefined : { start: Number(m[1]), end: m[2] === '' ? SIZE - 1 : Math.min(Number(m[2]), SIZE - 1) };
    handler(req, res, range);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/disk.img`;
}
/** An honest answer to a Range request. */
const honest: Handler = (_req, res, range) => {
  const r = range ?? { start: 0, end: SIZE - 1 };
  res.writeHead(range === undefined ? 200 : 206, {
    'content-length': r.end - r.start + 1,
    ...(range === undefined ? {} : { 'content-range': `bytes ${r.start}-${r.end}/${SIZE}` }),
  });
  res.end(image.subarray(r.start, r.end + 1));
};
const geometry = { blockSize: 4096, imageSize: SIZE };
const ranges = [
  { first: 0, last: 1 },
  { first: 20, last: 29 },
  { first: 60, last: 63 },
];
async function drain(stream: ReadableStream<ImageChunk>): Promise<number> {
  let n = 0;
  for await (const c of stream as unknown as AsyncIterable<ImageChunk>) {
    expect(Buffer.from(c.data).equals(Buffer.from(image.subarray(c.offset, c.offset + c.data.byteLength)))).toBe(true);
    n += c.data.byteLength;
  }
  return n;
}

describe('parseContentRange', () => {
  it('reads "bytes first-last/total" and refuses anything else', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ first: 0, last: 99, total: 1000 });
    expect(parseContentRange('bytes 5-5/*')).toEqual({ first: 5, last: 5, total: undefined });
    for (const bad of [undefined, '', 'bytes 9-1/10', 'items 0-1/2', 'bytes */100', 'bytes 0-9']) expect(parseContentRange(bad)).toBeUndefined();
  });
});

describe('a server that lies', () => {
  it('a 206 carrying other bytes than asked (Content-Range shifted) is refused, not written at the requested offset', async () => {
    const url = await serve((req, res, range) => {
      if (range === undefined || range.start === 0) return honest(req, res, range);
      const s = range.start + 4096; // the next block's bytes, labelled as such
      const e = Math.min(SIZE - 1, s + (range.end - range.start));
      res.writeHead(206, { 'content-length': e - s + 1, 'content-range': `bytes ${s}-${e}/${SIZE}` });
      res.end(image.subarray(s, e + 1));
    });
    const h = await openHttp(url);
    await expect(drain(h.extents(ranges, geometry)!)).rejects.toMatchObject({
      code: 'IMAGE_NETWORK',
      message: expect.stringMatching(/answered a request for bytes \d+-\d+ with bytes \d+-\d+; refusing its data/),
    });
  });

  it('a 206 whose Content-Range lies about the bytes that follow (more body than it says) is refused', async () => {
    const url = await serve((req, res, range) => {
      if (range === undefined || range.start === 0) return honest(req, res, range);
      res.writeHead(206, { 'content-range': `bytes ${range.start}-${range.start + 99}/${SIZE}` });
      res.end(image.subarray(range.start, range.end + 1)); // the whole range, not the 100 bytes it declared
    });
    const h = await openHttp(url);
    await expect(drain(h.extents(ranges, geometry)!)).rejects.toMatchObject({ code: 'IMAGE_NETWORK', message: expect.stringContaining('sent more bytes than its Content-Range said') });
  });

  it('a 206 without Content-Range is refused', async () => {
    const url = await serve((req, res, range) => {
      if (range === undefined || range.start === 0) return honest(req, res, range);
      res.writeHead(206, {});
      res.end(image.subarray(range.start, range.end + 1));
    });
    const h = await openHttp(url);
    await expect(drain(h.extents(ranges, geometry)!)).rejects.toMatchObject({ code: 'IMAGE_NETWORK', message: expect.stringContaining('with no Content-Range') });
  });

  it('an honest server that sends less than asked (a shorter Content-Range) is asked again for the rest', async () => {
    const url = await serve((req, res, range) => {
      if (range === undefined || range.start === 0) return honest(req, res, range);
      honest(req, res, { start: range.start, end: Math.min(range.end, range.start + 4095) }); // at most 4 KiB per answer
    });
    const h = await openHttp(url);
    expect(await drain(h.extents(ranges, geometry)!)).toBe(16 * 4096);
  });
});

describe('a server that stalls', () => {
  it('a trickle (a byte every 100 ms) is given up on by the low-speed rule, not waited for forever', async () => {
    const url = await serve((req, res, range) => {
      if (range === undefined || range.start === 0) return honest(req, res, range);
      res.writeHead(206, { 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${SIZE}` });
      let at = range.start;
      const t = setInterval(() => {
        if (res.destroyed || at > range.end) return clearInterval(t);
        res.write(image.subarray(at, at + 1));
        at += 1;
      }, 100);
      res.on('close', () => clearInterval(t));
    });
    const env = { ...process.env, BMAPKIT_HTTP_LOW_SPEED: '1000', BMAPKIT_HTTP_LOW_SPEED_TIME: '1' };
    const h = await openHttp(url, { env });
    const t0 = Date.now();
    await expect(drain(h.extents(ranges, geometry)!)).rejects.toMatchObject({
      code: 'IMAGE_NETWORK',
      message: expect.stringMatching(/sent only \d+ bytes in 1 s, less than 1000 bytes\/s; giving up \(BMAPKIT_HTTP_LOW_SPEED/),
    });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('a server that stops sending is reported as a stall naming the timeout, not as "aborted"', async () => {
    const url = await serve((req, res, range) => {
      if (range === undefined || range.start === 0) return honest(req, res, range);
      res.writeHead(206, { 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${SIZE}` });
      res.write(image.subarray(range.start, range.start + 10)); // then nothing
    });
    const env = { ...process.env, BMAPKIT_HTTP_TIMEOUT: '0.3', BMAPKIT_HTTP_RETRIES: '1' };
    const h = await openHttp(url, { env });
    const err = await drain(h.extents(ranges, geometry)!).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'IMAGE_NETWORK' });
    expect((err as Error).message).toMatch(/lost the connection to '.*' at byte \d+ \(no data for 0\.3 s: a stalled server; BMAPKIT_HTTP_TIMEOUT sets the limit in seconds\); gave up after 1 retries/);
    expect((err as Error).message).not.toContain('aborted');
  });
});
