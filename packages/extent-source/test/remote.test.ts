import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';
import { serveFiles, startProxy } from '../../../tools/http-fixture.js';
import { openHttp, parseNetrc, planSpans, proxyFor, redactUrl } from '../src/index.js';

const BS = 4096;
let dir: string;
/** A 64 MiB image whose mapped blocks (runs of 1-16 blocks, ~25%) hold pseudo-random bytes. */
let image: Uint8Array;
let ranges: BlockRange[];
let mapped: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-remote-'));
  image = new Uint8Array(64 << 20);
  ranges = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let b = 0; b < image.length / BS; ) {
    const run = 1 + Math.floor(rnd() * 16);
    if (rnd() < 0.25) {
      const last = Math.min(b + run, image.length / BS) - 1;
      for (let i = b * BS; i < (last + 1) * BS; i++) image[i] = (i * 31 + (i >>> 11)) & 0xff;
      ranges.push({ first: b, last });
    }
    b += run + 1;
  }
  mapped = ranges.reduce((n, r) => n + (r.last - r.first + 1) * BS, 0);
  writeFileSync(join(dir, 'disk.img'), image);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const geometry = () => ({ blockSize: BS, imageSize: image.length });
async function collect(stream: ReadableStream<ImageChunk>): Promise<Uint8Array> {
  const out = new Uint8Array(image.length);
  let last = -1;
  for await (const c of stream as unknown as AsyncIterable<ImageChunk>) {
    expect(c.offset).toBeGreaterThan(last);
    last = c.offset;
    out.set(c.data, c.offset);
  }
  return out;
}
const masked = () => {
  const m = new Uint8Array(image.length);
  for (const r of ranges) m.set(image.subarray(r.first * BS, (r.last + 1) * BS), r.first * BS);
  return m;
};
const sha = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

describe('planSpans', () => {
  it('coalesces across the smallest gaps within half a percent, and splits long ranges', () => {
    const spans = planSpans(ranges, geometry());
    const fetched = spans.reduce((n, s) => n + s.end - s.start, 0);
    expect(fetched - mapped).toBeLessThanOrEqual(mapped * 0.005);
    expect(spans.length).toBeLessThan(ranges.length);
    expect(spans.flatMap((s) => s.pieces).reduce((n, p) => n + p.end - p.start, 0)).toBe(mapped);
    const long = planSpans([{ first: 0, last: 10_000 }], { blockSize: BS, imageSize: 10_001 * BS }, { maxSpan: 1 << 20 });
    expect(long).toHaveLength(Math.ceil((10_001 * BS) / (1 << 20)));
  });
});

describe('openHttp with Range requests', () => {
  it('fetches only the mapped bytes (plus less than 1%), in order, several requests in flight', async () => {
    const server = await serveFiles(dir);
    try {
      const h = await openHttp(`${server.url}/disk.img?token=abc`);
      expect(h).toMatchObject({ size: image.length, ranges: true });
      const got = await collect(h.extents(ranges, geometry())!);
      expect(sha(got)).toBe(sha(masked()));
      expect(server.bytesServed()).toBeLessThanOrEqual(mapped * 1.01);
      expect(server.log.every((r) => r.query === '?token=abc' && r.status === 206)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('a small fragmented image (41 MB, 5% mapped in single blocks, blocks 0-2 among them): mapped bytes plus less than 1%, the first response used as data', async () => {
    const size = 10_000 * BS;
    const small = new Uint8Array(size);
    const blocks: BlockRange[] = [];
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let b = 0; b < size / BS; b++) {
      if (b !== 0 && rnd() >= 0.05) continue;
      const last = b === 0 ? 2 : b; // blocks 0-2: a range that the first response covers only in part
      for (let i = b * BS; i < (last + 1) * BS; i++) small[i] = (i * 13 + 1) & 0xff;
      blocks.push({ first: b, last });
      b = last;
    }
    const mappedSmall = blocks.length * BS;
    writeFileSync(join(dir, 'small.img'), small);
    const server = await serveFiles(dir);
    try {
      const h = await openHttp(`${server.url}/small.img`);
      const out = new Uint8Array(size);
      for await (const c of h.extents(blocks, { blockSize: BS, imageSize: size })! as unknown as AsyncIterable<ImageChunk>) out.set(c.data, c.offset);
      const want = new Uint8Array(size);
      for (const r of blocks) want.set(small.subarray(r.first * BS, (r.last + 1) * BS), r.first * BS);
      expect(sha(out)).toBe(sha(want));
      expect(server.bytesServed()).toBeLessThanOrEqual(mappedSmall * 1.01);
      expect(server.log[0]?.range).toBe('bytes=0-4095');
      expect(server.log.slice(1).every((r) => !/^bytes=0-/.test(r.range ?? ''))).toBe(true); // block 0 came with the first response
    } finally {
      await server.close();
    }
  });

  it('streams the whole image in one request from a server that ignores ranges', async () => {
    const server = await serveFiles(dir, { ranges: false });
    try {
      const h = await openHttp(`${server.url}/disk.img`);
      expect(h).toMatchObject({ size: image.length, ranges: false });
      expect(h.extents(ranges, geometry())).toBeUndefined();
      const parts: Uint8Array[] = [];
      for await (const b of h.stream() as unknown as AsyncIterable<Uint8Array>) parts.push(b.slice());
      expect(sha(Buffer.concat(parts))).toBe(sha(image));
      expect(server.log).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('resumes where a dropped connection stopped, for ranges and for the linear stream', async () => {
    const server = await serveFiles(dir, { dropAfter: { bytes: 300_000, times: 3 } });
    try {
      const h = await openHttp(`${server.url}/disk.img`);
      const parts: Uint8Array[] = [];
      for await (const b of h.stream() as unknown as AsyncIterable<Uint8Array>) parts.push(b.slice());
      expect(sha(Buffer.concat(parts))).toBe(sha(image));
      expect(server.log.some((r) => r.range !== null && /^bytes=[1-9]\d*-/.test(r.range) && r.range !== 'bytes=4096-67108863')).toBe(true);
    } finally {
      await server.close();
    }
    const again = await serveFiles(dir, { ranges: false, dropAfter: { bytes: 1 << 20, times: 1 } });
    try {
      const h = await openHttp(`${again.url}/disk.img`);
      const parts: Uint8Array[] = [];
      for await (const b of h.stream() as unknown as AsyncIterable<Uint8Array>) parts.push(b.slice());
      expect(sha(Buffer.concat(parts))).toBe(sha(image)); // re-fetched, the first MiB skipped
    } finally {
      await again.close();
    }
  });

  it('gives up after the retries with a clear error', async () => {
    const server = await serveFiles(dir, { dropAfter: { bytes: 100_000, times: 100 } });
    try {
      const h = await openHttp(`${server.url}/disk.img`, { env: { ...process.env, BMAPKIT_HTTP_RETRIES: '2' } });
      const read = async () => {
        for await (const _ of h.stream() as unknown as AsyncIterable<Uint8Array>) void _;
      };
      await expect(read()).rejects.toMatchObject({ code: 'IMAGE_NETWORK', message: expect.stringMatching(/^lost the connection to 'http:\/\/127\.0\.0\.1:\d+\/disk\.img' at byte \d+ .*gave up after 2 retries$/) });
    } finally {
      await server.close();
    }
  });

  it('404, 401 and a silent server are typed errors that never show the password', async () => {
    const server = await serveFiles(dir, { auth: { user: 'ann', password: 's3cret' } });
    try {
      await expect(openHttp(`${server.url}/disk.img`)).rejects.toMatchObject({ code: 'IMAGE_OPEN', message: expect.stringContaining('HTTP 401 Unauthorized') });
      const bad = openHttp(`http://ann:wrong-pw@${server.url.slice(7)}/disk.img`);
      await expect(bad).rejects.toMatchObject({ message: expect.not.stringContaining('wrong-pw') });
      await expect(bad).rejects.toMatchObject({ message: expect.stringContaining('ann:***@') });
      await expect(openHttp(`http://ann:s3cret@${server.url.slice(7)}/disk.img`)).resolves.toMatchObject({ size: image.length });
      await expect(openHttp(`http://ann:s3cret@${server.url.slice(7)}/nope.img`)).rejects.toMatchObject({ message: expect.stringMatching(/^cannot open image \(HTTP 404 Not Found\) 'http:\/\/ann:\*\*\*@127/) });
      const netrc = join(dir, 'netrc');
      writeFileSync(netrc, 'machine 127.0.0.1 login ann password s3cret\n');
      await expect(openHttp(`${server.url}/disk.img`, { env: { ...process.env, NETRC: netrc } })).resolves.toMatchObject({ ranges: true });
    } finally {
      await server.close();
    }
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      await expect(openHttp(`http://127.0.0.1:${port}/x.img`, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'IMAGE_OPEN', message: expect.stringContaining('no answer for 0.3 s') });
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('goes through http_proxy, and around it for no_proxy hosts', async () => {
    const server = await serveFiles(dir);
    const proxy = await startProxy();
    try {
      const env = { ...process.env, http_proxy: proxy.url, no_proxy: '' };
      const h = await openHttp(`${server.url}/disk.img`, { env });
      await collect(h.extents(ranges.slice(0, 10), geometry())!);
      expect(proxy.requests.length).toBeGreaterThan(1);
      expect(proxy.requests.every((r) => r.startsWith(`${server.url}/disk.img`))).toBe(true);
      proxy.requests.length = 0;
      await openHttp(`${server.url}/disk.img`, { env: { ...env, no_proxy: 'localhost,127.0.0.1' } });
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});

describe('URL helpers', () => {
  it('redactUrl hides the password only', () => {
    expect(redactUrl('https://ann:pw@host/x?y=1')).toBe('https://ann:***@host/x?y=1');
    expect(redactUrl('https://host/x')).toBe('https://host/x');
  });
  it('parseNetrc reads machines and a default', () => {
    const n = parseNetrc('# comment\nmachine a.example login u password p\ndefault login anon password x\n');
    expect(n.machines.get('a.example')).toEqual({ login: 'u', password: 'p' });
    expect(n.fallback).toEqual({ login: 'anon', password: 'x' });
  });
  it('proxyFor honours no_proxy suffixes and ports', () => {
    const env = { https_proxy: 'proxy:3128', http_proxy: 'http://p:8080', no_proxy: '.internal,example.org:8443' };
    expect(proxyFor(new URL('https://a.b/x'), env)?.toString()).toBe('http://proxy:3128/');
    expect(proxyFor(new URL('http://host.internal/x'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://example.org:8443/x'), env)).toBeUndefined();
    expect(proxyFor(new URL('https://example.org/x'), env)).toBeDefined();
  });
});
