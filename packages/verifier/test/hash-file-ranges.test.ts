import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHook } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rangeByteSpan, type BlockRange } from '@bmapkit/bmap-format';
import { hashFileRanges } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-hashfile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real sparse file with pseudo-random data in the given ranges; returns its content. */
function file(name: string, size: number, ranges: BlockRange[], bs = 4096): { path: string; data: Uint8Array } {
  const path = join(dir, name);
  const data = new Uint8Array(size);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  let x = 99;
  for (const r of ranges) {
    const { start, end } = rangeByteSpan(r, { blockSize: bs, imageSize: size });
    for (let i = start; i < end; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      data[i] = x >>> 24;
    }
    writeSync(fd, data, start, end - start, start);
  }
  closeSync(fd);
  return { path, data };
}

const expected = (data: Uint8Array, ranges: BlockRange[], size: number, alg = 'sha256') =>
  ranges.map((r) => {
    const { start, end } = rangeByteSpan(r, { blockSize: 4096, imageSize: size });
    return createHash(alg).update(data.subarray(start, end)).digest('hex');
  });

describe('hashFileRanges', () => {
  const size = 9000 * 4096 + 77;
  const ranges: BlockRange[] = [
    { first: 0, last: 0 },
    { first: 5, last: 2600 }, // > 10 MiB: one long chain
    { first: 2700, last: 2703 },
    ...Array.from({ length: 500 }, (_, i) => ({ first: 3000 + i * 10, last: 3000 + i * 10 + (i % 4) })),
    { first: 9000, last: 9000 }, // the partial last block
  ];

  for (const workers of [1, 2, 3]) {
    it(`matches node:crypto for every range, ${workers} range(s) at a time on the pool`, async () => {
      const { path, data } = file(`w${workers}.img`, size, ranges);
      const seen: number[] = [];
      const digests = await hashFileRanges(path, { ranges, blockSize: 4096, imageSize: size }, { workers, onDigest: (i) => seen.push(i) });
      expect(digests).toEqual(expected(data, ranges, size));
      expect(seen.sort((a, b) => a - b)).toEqual(ranges.map((_, i) => i));
    });
  }

  it('mapped: a range longer than one 8 MiB window, starting off a window boundary', async () => {
    const big = 6000 * 4096 + 123;
    const r: BlockRange[] = [{ first: 1, last: 1 }, { first: 3, last: 5999 }, { first: 6000, last: 6000 }];
    const { path, data } = file('windows.img', big, r);
    const digests = await hashFileRanges(path, { ranges: r, blockSize: 4096, imageSize: big }, { workers: 2 });
    expect(digests).toEqual(expected(data, r, big));
  });

  it('hashes with other algorithms', async () => {
    const { path, data } = file('chunks.img', size, ranges);
    const geometry = { ranges, blockSize: 4096, imageSize: size };
    expect(await hashFileRanges(path, geometry, { algorithm: 'sha1', workers: 2 })).toEqual(expected(data, ranges, size, 'sha1'));
  });

  it('has nothing to do for no ranges', async () => {
    const { path } = file('none.img', 8192, []);
    expect(await hashFileRanges(path, { ranges: [], blockSize: 4096, imageSize: 8192 })).toEqual([]);
  });

  it('reports a file shorter than the map as IMAGE_TRUNCATED, naming the range', async () => {
    const { path } = file('short.img', size, ranges);
    truncateSync(path, 2000 * 4096 + 100); // ends inside the long range, mid-page
    await expect(hashFileRanges(path, { ranges, blockSize: 4096, imageSize: size }, { workers: 2 })).rejects.toMatchObject({
      code: 'IMAGE_TRUNCATED',
      message: expect.stringMatching(/ends at byte 8192100, inside blocks 5-2600; it is shorter than 36864077 bytes/),
    });
  });

  it('reports a missing file as IMAGE_READ', async () => {
    await expect(hashFileRanges(join(dir, 'gone.img'), { ranges: [{ first: 0, last: 0 }], blockSize: 4096, imageSize: 4096 })).rejects.toMatchObject({
      code: 'IMAGE_READ',
      message: expect.stringContaining('no such file or directory'),
    });
  });

  it('a long range is hashed in pool jobs of at most 8 MiB each (counted by async_hooks), the digest unchanged', async () => {
    const size = (40 << 20) + 4096 * 3 + 5;
    const r: BlockRange[] = [{ first: 1, last: Math.ceil(size / 4096) - 1 }];
    const { path, data } = file('steps.img', size, r);
    let jobs = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'bmapkit:digest') jobs += 1;
      },
    }).enable();
    let digests: string[];
    try {
      digests = await hashFileRanges(path, { ranges: r, blockSize: 4096, imageSize: size }, { workers: 1 });
    } finally {
      hook.disable();
    }
    expect(digests).toEqual(expected(data, r, size));
    const bytes = size - 4096;
    expect(jobs).toBe(Math.ceil(bytes / (8 << 20)));
  });

  it('reports progress, growing, up to the mapped bytes', async () => {
    const { path, data } = file('progress.img', size, ranges);
    const seen: number[] = [];
    const geometry = { ranges, blockSize: 4096, imageSize: size };
    const digests = await hashFileRanges(path, geometry, { workers: 2, onProgress: (n) => seen.push(n) });
    expect(digests).toEqual(expected(data, ranges, size));
    const mapped = ranges.reduce((n, r) => n + rangeByteSpan(r, geometry).end - rangeByteSpan(r, geometry).start, 0);
    expect(seen.at(-1)).toBe(mapped);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });
});

describe('hashFileRanges: cancelled', () => {
  /** A fully written file of `mib` MiB in two ranges (two jobs in flight at once). */
  const big = (name: string, mib: number) => {
    const path = join(dir, name);
    const fd = openSync(path, 'w');
    const chunk = Buffer.alloc(1 << 20, 0x6b);
    for (let i = 0; i < mib; i++) writeSync(fd, chunk);
    closeSync(fd);
    const blocks = (mib << 20) / 4096;
    return { path, bmap: { blockSize: 4096, imageSize: mib << 20, ranges: [{ first: 0, last: blocks / 2 - 1 }, { first: blocks / 2, last: blocks - 1 }] } };
  };

  it("rejects with the signal's reason before the end, and no digest comes after it settles", async () => {
    const { path, bmap } = big('cancel.bin', 512);
    const abort = new AbortController();
    const reason = new Error('stop');
    let seen = 0;
    let digests = 0;
    const job = hashFileRanges(path, bmap, {
      signal: abort.signal,
      onDigest: () => (digests += 1),
      onProgress: (bytes) => {
        seen = bytes;
        if (bytes > 0) abort.abort(reason);
      },
    });
    setTimeout(() => abort.abort(reason), 30);
    await expect(job).rejects.toBe(reason);
    const settled = digests;
    await new Promise((r) => setTimeout(r, 100));
    expect(digests).toBe(settled);
    expect(settled).toBeLessThan(2); // the two 256 MiB ranges were stopped within a window
    expect(seen).toBeLessThan(512 << 20);
  });

  it('an aborted signal refuses to start', async () => {
    const { path, bmap } = big('pre-aborted.bin', 8);
    const abort = new AbortController();
    abort.abort(new Error('already'));
    await expect(hashFileRanges(path, bmap, { signal: abort.signal })).rejects.toThrow('already');
  });
});
