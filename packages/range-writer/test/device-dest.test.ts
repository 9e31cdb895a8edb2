import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from 'node:fs/promises';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';
import { blockDeviceSectorSize } from '@bmapkit/native';
import { attachLoop, loopSupport } from '../../../tools/loop-device.js';
import { DirectStage, rangeWriter, type PositionedFile } from '../src/index.js';
import { BS, chunksFor, streamOf } from './chunks.js';
import { skipNote } from '../../../tools/test-needs.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-devwriter-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fill = (i: number) => (i * 7 + 3) % 256;
const ranges: BlockRange[] = [{ first: 2, last: 5 }, { first: 9, last: 9 }, { first: 20, last: 40 }];
const size = 41 * BS;

/** A file of old content (0xAA) and a handle on it that records syncs and can fail writes (and syncs). */
async function target(name: string, failWrite?: (position: number, attempt: number) => string | undefined, failSync?: (attempt: number) => string | undefined) {
  let syncs = 0;
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(size + BS, 0xaa));
  const fh = await open(path, 'r+');
  const log: string[] = [];
  const attempts = new Map<number, number>();
  const handle: PositionedFile = {
    fd: fh.fd,
    async write(buffer, offset, length, position) {
      const n = (attempts.get(position) ?? 0) + 1;
      attempts.set(position, n);
      const code = failWrite?.(position, n);
      if (code !== undefined) throw Object.assign(new Error(`${code}: injected`), { code });
      log.push(`w${position}`);
      return fh.write(buffer, offset, length, position);
    },
    read: (b, o, l, p) => fh.read(b, o, l, p),
    async sync() {
      log.push('sync');
      const code = failSync?.(++syncs);
      if (code !== undefined) throw Object.assign(new Error(`${code}: injected`), { code });
      await fh.sync();
    },
    truncate: (l) => fh.truncate(l),
  };
  return { path, handle, log, close: () => fh.close() };
}

function expectWritten(path: string) {
  const got = readFileSync(path);
  expect(got.length).toBe(size + BS); // a device is never truncated
  for (let i = 0; i < got.length; i++) {
    const mapped = ranges.some((r) => i >= r.first * BS && i < (r.last + 1) * BS);
    if (got[i] !== (mapped ? fill(i) : 0xaa)) throw new Error(`byte ${i}: ${got[i]}`);
  }
}

describe('rangeWriter to a block device (kind block)', () => {
  it('writes only the mapped bytes, keeps old content elsewhere, fsyncs every syncEvery bytes and at the end', async () => {
    const t = await target('dev.img');
    const batches: ImageChunk[][] = [];
    const writer = rangeWriter(t.handle, {
      dest: t.path,
      bmap: { ranges, blockSize: BS },
      kind: 'block',
      syncEvery: 32 << 10,
      afterSync: async (chunks) => void batches.push(chunks),
    });
    await streamOf(chunksFor(ranges, size, fill)).pipeTo(writer);
    await t.close();
    expectWritten(t.path);
    const syncs = t.log.filter((e) => e === 'sync').length;
    // every chunk is handed to afterSync exactly once, in order, one batch per fsync
    expect(batches.flat().map((c) => c.offset)).toEqual(chunksFor(ranges, size, fill).map((c) => c.offset));
    expect(batches.length).toBe(syncs);
    expect(syncs).toBeGreaterThan(2);
    // an fsync comes as soon as 32 KiB are written since the last one, not before
    const bytes = (b: ImageChunk[]) => b.reduce((n, c) => n + c.data.byteLength, 0);
    for (const b of batches.slice(0, -1)) {
      expect(bytes(b)).toBeGreaterThanOrEqual(32 << 10);
      expect(bytes(b.slice(0, -1))).toBeLessThan(32 << 10);
    }
    expect(t.log.at(-1)).toBe('sync');
  });

  it('retries transient errors and succeeds', async () => {
    const t = await target('flaky.img', (pos, n) => (pos === 9 * BS && n <= 2 ? 'EIO' : undefined));
    const writer = rangeWriter(t.handle, { dest: t.path, bmap: { ranges, blockSize: BS }, kind: 'block', retry: { delayMs: 1 } });
    await streamOf(chunksFor(ranges, size, fill)).pipeTo(writer);
    await t.close();
    expectWritten(t.path);
  });

  it('gives up after the retries with DEST_IO naming the blocks', async () => {
    const t = await target('bad.img', (pos) => (pos === 9 * BS ? 'EIO' : undefined));
    const writer = rangeWriter(t.handle, { dest: 'card', bmap: { ranges, blockSize: BS }, kind: 'block', retry: { delayMs: 1, retries: 2 } });
    await expect(streamOf(chunksFor(ranges, size, fill)).pipeTo(writer)).rejects.toMatchObject({
      code: 'DEST_IO',
      message: "error while writing blocks 9-9 of 'card': EIO: injected (failed 3 times)",
    });
    await t.close();
  });

  it('a failed fsync is never retried: the kernel reports lost writeback once, and a second fsync would succeed over it', async () => {
    // the first fsync fails as after a failed writeback; a retry would "succeed"
    const t = await target('fsync.img', undefined, (n) => (n === 1 ? 'EIO' : undefined));
    const writer = rangeWriter(t.handle, { dest: 'card', bmap: { ranges, blockSize: BS }, kind: 'block', syncEvery: 16 << 10, retry: { delayMs: 1 } });
    await expect(streamOf(chunksFor(ranges, size, fill)).pipeTo(writer)).rejects.toMatchObject({ code: 'DEST_IO', message: "error while synchronizing of 'card': EIO: injected" });
    expect(t.log.filter((e) => e === 'sync')).toHaveLength(1);
    await t.close();
  });

  it('a vanished device is DEST_GONE and a full one DEST_FULL, without retrying', async () => {
    for (const [code, want] of [['ENODEV', 'DEST_GONE'], ['ENXIO', 'DEST_GONE'], ['ENOSPC', 'DEST_FULL']] as const) {
      let tries = 0;
      const t = await target(`${code}.img`, (pos) => (pos === 20 * BS ? (tries++, code) : undefined));
      const writer = rangeWriter(t.handle, { dest: 'card', bmap: { ranges, blockSize: BS }, kind: 'block', retry: { delayMs: 1 } });
      const e = await streamOf(chunksFor(ranges, size, fill)).pipeTo(writer).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: want });
      expect(tries).toBe(1);
      await t.close();
    }
  });

  it('an error from afterSync (a failed read-back) stops the copy', async () => {
    const t = await target('check.img');
    const writer = rangeWriter(t.handle, {
      dest: t.path,
      bmap: { ranges, blockSize: BS },
      kind: 'block',
      syncEvery: 16 << 10,
      afterSync: async () => {
        throw new Error('read-back failed');
      },
    });
    await expect(streamOf(chunksFor(ranges, size, fill)).pipeTo(writer)).rejects.toThrow('read-back failed');
    await t.close();
  });

  it('rewrite writes one chunk again and syncs', async () => {
    const t = await target('rewrite.img');
    const writer = rangeWriter(t.handle, { dest: t.path, bmap: { ranges, blockSize: BS }, kind: 'block' });
    const chunk: ImageChunk = { offset: 3 * BS + 10, data: new Uint8Array(100).fill(0x42), range: 0 };
    await writer.rewrite(chunk);
    expect(t.log).toEqual([`w${3 * BS + 10}`, 'sync']);
    expect(readFileSync(t.path).subarray(3 * BS + 10, 3 * BS + 110).every((b) => b === 0x42)).toBe(true);
    await t.close();
  });
});

describe('DirectStage: aligned staging for O_DIRECT', () => {
  it('pads unaligned starts and ends with the bytes already there', async () => {
    const path = join(dir, 'direct.img');
    writeFileSync(path, Buffer.alloc(64 << 10, 0x55));
    const fh = await open(path, constants.O_RDWR | constants.O_DIRECT);
    try {
      const stage = new DirectStage(4096, 16 << 10, fh);
      const data = new Uint8Array(5000).fill(1);
      expect(stage.place(1000, data)).toBe(5000);
      expect(stage.place(6000, new Uint8Array(10).fill(2))).toBe(10); // contiguous
      expect(stage.place(9000, new Uint8Array(10))).toBe(0); // not contiguous: flush first
      const sealed = (await stage.seal())!;
      expect(sealed.position).toBe(0);
      expect(sealed.data.byteLength).toBe(8192);
      await fh.write(sealed.data, 0, sealed.data.byteLength, sealed.position);
    } finally {
      await fh.close();
    }
    const got = readFileSync(path);
    const want = Buffer.alloc(64 << 10, 0x55);
    want.fill(1, 1000, 6000);
    want.fill(2, 6000, 6010);
    expect(got.equals(want)).toBe(true);
  });
});

const support = loopSupport();
if (!support.ok) skipNote(`range-writer loop-device tests: ${support.reason}`);

describe.skipIf(!support.ok)('rangeWriter on a real loop device', () => {
  for (const direct of [false, true]) {
    it(`writes mapped ranges and leaves the rest of the device alone${direct ? ' (O_DIRECT, unaligned image end)' : ''}`, async () => {
      const backing = join(dir, `loop-${direct}.img`);
      writeFileSync(backing, Buffer.alloc(size + BS, 0xaa));
      const l = attachLoop(backing);
      try {
        const imageSize = direct ? size - 1000 : size; // the last range ends mid-sector: read-modify-write
        const fh = await open(l.dev, constants.O_WRONLY | constants.O_EXCL | (direct ? constants.O_DIRECT : 0));
        const reader = direct ? await open(l.dev, constants.O_RDONLY | constants.O_DIRECT) : undefined;
        try {
          const writer = rangeWriter(fh, {
            dest: l.dev,
            bmap: { ranges, blockSize: BS },
            imageSize,
            kind: 'block',
            ...(direct ? { direct: { sectorSize: blockDeviceSectorSize(fh.fd), reader, stageBytes: 64 << 10 } } : {}),
          });
          await streamOf(chunksFor(ranges, imageSize, fill, 3000)).pipeTo(writer);
        } finally {
          await fh.close();
          await reader?.close();
        }
        const fd = openSync(l.dev, 'r');
        const got = Buffer.alloc(size + BS);
        readSync(fd, got, 0, got.length, 0);
        closeSync(fd);
        for (let i = 0; i < got.length; i++) {
          const mapped = i < imageSize && ranges.some((r) => i >= r.first * BS && i < (r.last + 1) * BS);
          if (got[i] !== (mapped ? fill(i) : 0xaa)) throw new Error(`byte ${i}: ${got[i]}`);
        }
      } finally {
        l.detach();
      }
    });
  }
});
