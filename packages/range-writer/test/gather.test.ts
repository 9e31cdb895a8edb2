import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockRange } from '@bmapkit/bmap-format';
import { rangeWriter, type PositionedFile } from '../src/index.js';
import { BS, chunksFor, streamOf } from './chunks.js';

// Contiguous chunks go out as one pwritev of up to 1 MiB (a write per chunk
// costs a thread-pool round trip each); the bytes land exactly as before.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-gather-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fill = (i: number) => (i * 13 + 7) % 256;

/** A real file handle that logs each write, writev and sync (with the span written). */
async function logged(path: string, withWritev: boolean) {
  const fh = await open(path, 'r+');
  const log: string[] = [];
  const handle: PositionedFile = {
    fd: fh.fd,
    write: (b, o, l, p) => {
      log.push(`write ${p}+${l}`);
      return fh.write(b, o, l, p);
    },
    read: (b, o, l, p) => fh.read(b, o, l, p),
    sync: async () => {
      log.push('sync');
      await fh.sync();
    },
    truncate: (l) => fh.truncate(l),
  };
  if (withWritev) {
    handle.writev = async (buffers, position) => {
      const n = buffers.reduce((s, b) => s + b.byteLength, 0);
      log.push(`writev ${position}+${n} (${buffers.length})`);
      return fh.writev(buffers, position);
    };
  }
  return { handle, log, close: () => fh.close() };
}

describe('rangeWriter gathers contiguous chunks', () => {
  // 3 MiB + 1 block, then a gap, then 2 blocks: chunks of 5000 bytes
  const ranges: BlockRange[] = [{ first: 0, last: 768 }, { first: 800, last: 801 }];
  const size = 802 * BS;

  for (const kind of ['file', 'block'] as const) {
    it(`${kind}: writes up to 1 MiB per pwritev, never across a gap, flushed before every fsync`, async () => {
      const path = join(dir, `${kind}.img`);
      writeFileSync(path, Buffer.alloc(size, 0xaa));
      const t = await logged(path, true);
      const writer = rangeWriter(t.handle, { dest: path, bmap: { ranges, blockSize: BS }, imageSize: size, kind, syncEvery: 2 << 20 });
      await streamOf(chunksFor(ranges, size, fill)).pipeTo(writer);
      await t.close();

      const got = readFileSync(path);
      for (let i = 0; i < size; i++) {
        const mapped = ranges.some((r) => i >= r.first * BS && i < (r.last + 1) * BS);
        const want = mapped ? fill(i) : kind === 'file' ? 0 : 0xaa;
        if (got[i] !== want) throw new Error(`byte ${i}: ${got[i]} != ${want}`);
      }
      const writes = t.log.filter((l) => l.startsWith('write')); // writev, or write for a lone chunk
      // (3 MiB + 4 KiB + 8 KiB) / 5000-byte chunks = 632 chunks, in a handful of gathered writes
      expect(writes.length).toBeLessThanOrEqual(10);
      for (const w of writes) {
        const [, at, n] = /writev? (\d+)\+(\d+)/.exec(w)!.map(Number);
        expect(n).toBeLessThanOrEqual(1 << 20);
        // no write spans the gap between the ranges
        expect(at! + n! <= 769 * BS || at! >= 800 * BS).toBe(true);
      }
      // everything accepted before a sync was written before it
      let unsynced = 0;
      for (const l of t.log) {
        if (l === 'sync') unsynced = 0;
        else unsynced += Number(/\+(\d+)/.exec(l)![1]);
      }
      expect(unsynced).toBe(0);
      expect(writer.bytesWritten()).toBe(769 * BS + 2 * BS);
    });
  }

  it('a gathered write that fails while the next is being gathered fails the stream (DEST_FULL), not silently', async () => {
    const path = join(dir, 'full.img');
    writeFileSync(path, Buffer.alloc(size, 0xaa));
    const t = await logged(path, true);
    let calls = 0;
    const real = t.handle.writev!;
    t.handle.writev = async (buffers, position) => {
      if (++calls === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(buffers, position);
    };
    const writer = rangeWriter(t.handle, { dest: 'the card', bmap: { ranges, blockSize: BS }, imageSize: size, kind: 'block' });
    await expect(streamOf(chunksFor(ranges, size, fill)).pipeTo(writer)).rejects.toMatchObject({
      code: 'DEST_FULL',
      message: expect.stringMatching(/^error while writing blocks \d+-\d+ of 'the card': no space left on device/),
    });
    await t.close();
  });

  it('a handle without writev gets one positioned write per chunk, as before', async () => {
    const path = join(dir, 'plain.img');
    writeFileSync(path, Buffer.alloc(size, 0xaa));
    const t = await logged(path, false);
    const chunks = chunksFor(ranges, size, fill);
    await streamOf(chunks).pipeTo(rangeWriter(t.handle, { dest: path, bmap: { ranges, blockSize: BS }, imageSize: size, kind: 'block' }));
    await t.close();
    expect(t.log.filter((l) => l.startsWith('write ')).length).toBe(chunks.length);
    const got = readFileSync(path);
    expect(got[5 * BS]).toBe(fill(5 * BS));
    expect(got[780 * BS]).toBe(0xaa);
  });
});
