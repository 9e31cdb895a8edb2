import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rangeByteSpan, type BlockRange } from '@bmapkit/bmap-format';
import { canHashFiles, rangeDigests, type RangeDigest } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-range-digests-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const size = 3000 * 4096 + 99;
const ranges: BlockRange[] = [
  { first: 0, last: 0 },
  { first: 4, last: 2100 }, // > 8 MiB
  ...Array.from({ length: 50 }, (_, i) => ({ first: 2200 + i * 12, last: 2200 + i * 12 + (i % 5) })),
  { first: 3000, last: 3000 }, // the partial last block
];
const geometry = { ranges, blockSize: 4096, imageSize: size };

/** A real sparse file with pseudo-random bytes in the ranges; returns the digests node:crypto makes of them. */
function image(name: string, algorithm = 'sha256'): { path: string; digests: string[] } {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  let x = 7;
  const digests = ranges.map((r) => {
    const { start, end } = rangeByteSpan(r, geometry);
    const bytes = new Uint8Array(end - start);
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    writeSync(fd, bytes, 0, bytes.length, start);
    return createHash(algorithm).update(bytes).digest('hex');
  });
  closeSync(fd);
  return { path, digests };
}

async function collect(stream: ReadableStream<RangeDigest>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of stream as unknown as AsyncIterable<RangeDigest>) {
    expect(out[d.range]).toBeUndefined(); // each range once
    out[d.range] = d.hex;
  }
  return out;
}

/** 256 MiB of data in two ranges: long enough to stop midway. */
function bigImage(name: string) {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(1 << 20, 0x5a);
  for (let i = 0; i < 256; i++) writeSync(fd, block);
  closeSync(fd);
  return { path, big: { blockSize: 4096, imageSize: 256 << 20, ranges: [{ first: 0, last: 32767 }, { first: 32768, last: 65535 }] } };
}

const engines = canHashFiles() ? (['native', 'js'] as const) : (['js'] as const);
if (!canHashFiles()) console.log('range-digests: the native addon does not load here; only the js engine is tested');

describe.each(engines)('rangeDigests, %s engine', (engine) => {
  it('gives every range the digest node:crypto makes, each once', async () => {
    const { path, digests } = image(`${engine}.img`);
    expect(await collect(rangeDigests(path, geometry, { engine }))).toEqual(digests);
  });

  it("hashes with the bmap's checksum type", async () => {
    const { path, digests } = image(`${engine}-sha1.img`, 'sha1');
    expect(await collect(rangeDigests(path, { ...geometry, checksumType: 'sha1' }, { engine }))).toEqual(digests);
  });

  it('a file shorter than the bmap says is IMAGE_TRUNCATED', async () => {
    const { path } = image(`${engine}-short.img`);
    truncateSync(path, 1000 * 4096);
    await expect(collect(rangeDigests(path, geometry, { engine }))).rejects.toMatchObject({ code: 'IMAGE_TRUNCATED' });
  });

  it('a missing file fails the stream', async () => {
    await expect(collect(rangeDigests(join(dir, 'gone.img'), geometry, { engine }))).rejects.toMatchObject({ code: expect.stringMatching(/^IMAGE_(READ|OPEN)$/) });
  });

  it("an aborted signal errors the stream with its reason once the hashing has stopped", async () => {
    const { path, big } = bigImage(`${engine}-signal.img`);
    let progress = 0;
    const abort = new AbortController();
    const reason = new Error('stop');
    const digests = collect(rangeDigests(path, big, { engine, signal: abort.signal, onProgress: (n) => (progress = n) }));
    setTimeout(() => abort.abort(reason), 20);
    await expect(digests).rejects.toBe(reason);
    const at = progress;
    await new Promise((r) => setTimeout(r, 150));
    expect(progress).toBe(at);
    expect(progress).toBeLessThan(256 << 20);
  });

  it('cancelling stops the hashing: no digest arrives once cancel has resolved', async () => {
    const { path, big } = bigImage(`${engine}-big.img`);
    let progress = 0;
    const stream = rangeDigests(path, big, { engine, onProgress: (n) => (progress = n) });
    const reader = stream.getReader();
    const read = reader.read();
    await new Promise((r) => setTimeout(r, 20));
    await reader.cancel(new Error('stop'));
    expect(await read).toEqual({ done: true, value: undefined });
    const at = progress;
    await new Promise((r) => setTimeout(r, 150));
    expect(progress).toBe(at);
    expect(progress).toBeLessThan(256 << 20);
  });
});
