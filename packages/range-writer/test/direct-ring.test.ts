import { describe, expect, it } from 'vitest';
import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';
import { rangeWriter, type PositionedFile } from '../src/index.js';
import { streamOf } from './chunks.js';

const SECTOR = 4096;
const OLD = 0xaa;
const fill = (i: number) => (i * 13 + 5) % 251;

/**
 * A device in memory that behaves as an O_DIRECT descriptor: it refuses
 * unaligned writes and reads, takes a while for each write (the first
 * `slow` writes longer), and records what was in flight when.
 */
function fakeDevice(size: number, o: { slow?: number; failAt?: number; failCode?: string } = {}) {
  const disk = new Uint8Array(size).fill(OLD);
  const s = { inFlight: 0, maxInFlight: 0, writes: 0, readsDuringWrites: 0, syncsDuringWrites: 0, syncs: 0 };
  const aligned = (position: number, length: number) => {
    if (position % SECTOR !== 0 || length % SECTOR !== 0) throw Object.assign(new Error(`unaligned: ${position}+${length}`), { code: 'EINVAL' });
  };
  const handle: PositionedFile = {
    fd: -1,
    async write(buffer, offset, length, position) {
      aligned(position, length);
      const n = s.writes++;
      s.inFlight++;
      s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
      try {
        await new Promise((r) => setTimeout(r, n < (o.slow ?? 0) ? 30 : 2));
        if (position === o.failAt) throw Object.assign(new Error(`${o.failCode}: injected`), { code: o.failCode });
        disk.set(buffer.subarray(offset, offset + length), position);
        return { bytesWritten: length };
      } finally {
        s.inFlight--;
      }
    },
    async read(buffer, offset, length, position) {
      aligned(position, length);
      if (s.inFlight > 0) s.readsDuringWrites++;
      buffer.set(disk.subarray(position, position + length), offset);
      return { bytesRead: length };
    },
    async sync() {
      s.syncs++;
      if (s.inFlight > 0) s.syncsDuringWrites++;
    },
    truncate: async () => undefined,
  };
  return { disk, handle, s };
}

/** Chunks of `step` bytes over the ranges, in `blockSize` blocks (byte i = fill(i)). */
function chunks(ranges: BlockRange[], blockSize: number, step: number): ImageChunk[] {
  const out: ImageChunk[] = [];
  ranges.forEach((r, range) => {
    for (let off = r.first * blockSize; off < (r.last + 1) * blockSize; off += step) {
      const n = Math.min(step, (r.last + 1) * blockSize - off);
      out.push({ offset: off, data: new Uint8Array(n).map((_, k) => fill(off + k)), range });
    }
  });
  return out;
}

function expectOnly(disk: Uint8Array, ranges: BlockRange[], blockSize: number) {
  for (let i = 0; i < disk.length; i++) {
    const mapped = ranges.some((r) => i >= r.first * blockSize && i < (r.last + 1) * blockSize);
    if (disk[i] !== (mapped ? fill(i) : OLD)) throw new Error(`byte ${i}: ${disk[i]}, want ${mapped ? fill(i) : OLD}`);
  }
}

const direct = (device: PositionedFile, stageBytes = 16 << 10) => ({ sectorSize: SECTOR, reader: device, stageBytes });

describe('rangeWriter with O_DIRECT: a ring of aligned stages', () => {
  it('keeps two writes in flight, writes every mapped byte and nothing else, and syncs once, after the last write', async () => {
    const ranges: BlockRange[] = [{ first: 2, last: 30 }, { first: 40, last: 41 }, { first: 50, last: 99 }];
    const dev = fakeDevice(101 * SECTOR);
    const writer = rangeWriter(dev.handle, { dest: 'card', bmap: { ranges, blockSize: SECTOR }, kind: 'block', direct: direct(dev.handle) });
    await streamOf(chunks(ranges, SECTOR, 5000)).pipeTo(writer);
    expectOnly(dev.disk, ranges, SECTOR);
    expect(dev.s.maxInFlight).toBe(2);
    expect(dev.s.syncs).toBe(1); // no dirty page cache to bound: synced at the end only
    expect(dev.s.syncsDuringWrites).toBe(0);
    expect(writer.bytesWritten()).toBe(81 * SECTOR);
  });

  it('one stage (depth 1) writes one at a time', async () => {
    const ranges: BlockRange[] = [{ first: 0, last: 20 }];
    const dev = fakeDevice(21 * SECTOR);
    const writer = rangeWriter(dev.handle, { dest: 'card', bmap: { ranges, blockSize: SECTOR }, kind: 'block', direct: { ...direct(dev.handle), depth: 1 } });
    await streamOf(chunks(ranges, SECTOR, 7000)).pipeTo(writer);
    expectOnly(dev.disk, ranges, SECTOR);
    expect(dev.s.maxInFlight).toBe(1);
  });

  it('blocks smaller than a sector: edges are read only while no write is in flight, and the bytes between ranges keep their old content', async () => {
    // 512-byte blocks: ranges start and end inside sectors that other ranges share
    const ranges: BlockRange[] = [{ first: 3, last: 5 }, { first: 9, last: 70 }, { first: 75, last: 76 }, { first: 79, last: 200 }, { first: 203, last: 203 }];
    const dev = fakeDevice(60 * SECTOR);
    const writer = rangeWriter(dev.handle, { dest: 'card', bmap: { ranges, blockSize: 512 }, kind: 'block', direct: direct(dev.handle, 8192), queueDepth: 64 });
    await streamOf(chunks(ranges, 512, 3000)).pipeTo(writer);
    expectOnly(dev.disk, ranges, 512);
    expect(dev.s.readsDuringWrites).toBe(0);
    expect(dev.s.maxInFlight).toBe(2); // the long ranges still overlap their writes
  });

  it('a write that fails while another is in flight: DEST_FULL, and no write is left in flight once the pipe has settled', async () => {
    const ranges: BlockRange[] = [{ first: 0, last: 63 }];
    // the first write is slow, the second fails at once: the failure is known while the first still runs
    const dev = fakeDevice(64 * SECTOR, { slow: 1, failAt: 4 * SECTOR, failCode: 'ENOSPC' });
    const writer = rangeWriter(dev.handle, { dest: 'card', bmap: { ranges, blockSize: SECTOR }, kind: 'block', direct: direct(dev.handle), retry: { delayMs: 1 } });
    const e = await streamOf(chunks(ranges, SECTOR, SECTOR)).pipeTo(writer).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'DEST_FULL', message: expect.stringContaining("'card'") });
    expect(dev.s.inFlight).toBe(0);
    expect(dev.s.syncs).toBe(0);
  });

  it('with afterSync (read-back), syncs every syncEvery bytes, never while a write is in flight, and hands each chunk over once', async () => {
    const ranges: BlockRange[] = [{ first: 0, last: 47 }];
    const dev = fakeDevice(48 * SECTOR);
    const seen: number[] = [];
    const writer = rangeWriter(dev.handle, {
      dest: 'card',
      bmap: { ranges, blockSize: SECTOR },
      kind: 'block',
      direct: direct(dev.handle),
      syncEvery: 32 << 10,
      afterSync: async (batch) => {
        // what afterSync is given is on the device already
        for (const c of batch) expect(Buffer.compare(dev.disk.subarray(c.offset, c.offset + c.data.byteLength), c.data)).toBe(0);
        seen.push(...batch.map((c) => c.offset));
      },
    });
    const input = chunks(ranges, SECTOR, 5000);
    await streamOf(input).pipeTo(writer);
    expectOnly(dev.disk, ranges, SECTOR);
    expect(seen).toEqual(input.map((c) => c.offset));
    expect(dev.s.syncs).toBeGreaterThan(3);
    expect(dev.s.syncsDuringWrites).toBe(0);
  });
});
