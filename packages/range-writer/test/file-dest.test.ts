import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';
import { fileExtents } from '@bmapkit/extent-source';
import { rangeWriter } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-writer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BS = 4096;
function chunksFor(ranges: BlockRange[], imageSize: number, fill: (i: number) => number): ImageChunk[] {
  const out: ImageChunk[] = [];
  ranges.forEach((r, range) => {
    const start = r.first * BS;
    const end = Math.min((r.last + 1) * BS, imageSize);
    for (let off = start; off < end; off += 5000) {
      const n = Math.min(5000, end - off);
      out.push({ offset: off, data: new Uint8Array(n).map((_, k) => fill(off + k)), range });
    }
  });
  return out;
}
async function write(path: string, chunks: ImageChunk[], options: { imageSize?: number; ranges: BlockRange[]; kind?: 'file' | 'char' }) {
  const handle = await open(path, 'w');
  let synced = false;
  const writer = rangeWriter(handle, {
    dest: path,
    bmap: { ranges: options.ranges, blockSize: BS },
    imageSize: options.imageSize,
    kind: options.kind ?? 'file',
    beforeSync: () => (synced = true),
  });
  let i = 0;
  try {
    await new ReadableStream<ImageChunk>({ pull: (c) => (i < chunks.length ? c.enqueue(chunks[i++]!) : c.close()) }).pipeTo(writer);
  } finally {
    await handle.close();
  }
  return { writer, synced };
}

describe('rangeWriter to files and character devices', () => {
  const ranges: BlockRange[] = [{ first: 1, last: 2 }, { first: 10, last: 10 }, { first: 63, last: 63 }];
  const size = 63 * BS + 100; // partial last block
  const fill = (i: number) => (i % 251) + 1;

  it('writes each chunk at its offset, leaves holes as holes, sizes the file to the image', async () => {
    const p = join(dir, 'a.img');
    writeFileSync(p, Buffer.alloc(300 * BS, 0xee)); // old content, longer than the image
    const { writer, synced } = await write(p, chunksFor(ranges, size, fill), { imageSize: size, ranges });
    expect(synced).toBe(true);
    expect(statSync(p).size).toBe(size);
    const got = readFileSync(p);
    for (let i = 0; i < size; i++) {
      const mapped = ranges.some((r) => i >= r.first * BS && i < (r.last + 1) * BS);
      if (got[i] !== (mapped ? fill(i) : 0)) throw new Error(`byte ${i}: ${got[i]}`);
    }
    expect(writer.bytesWritten()).toBe(2 * BS + BS + 100);
    expect((await fileExtents(p)).ranges).toEqual(ranges);
  });

  it('without a known size, the file ends at the last byte written', async () => {
    const p = join(dir, 'b.img');
    const { writer } = await write(p, chunksFor([{ first: 0, last: 3 }], 3 * BS + 17, fill), { ranges: [{ first: 0, last: 3 }] });
    expect(statSync(p).size).toBe(3 * BS + 17);
    expect(writer.end()).toBe(3 * BS + 17);
  });

  it('a full device is DEST_FULL, naming the blocks', async () => {
    await expect(write('/dev/full', chunksFor(ranges, size, fill), { ranges, kind: 'char' })).rejects.toMatchObject({
      code: 'DEST_FULL',
      message: "error while writing blocks 1-2 of '/dev/full': no space left on device (the image does not fit)",
    });
  });

  it('a character device is written without truncating or syncing', async () => {
    const { writer, synced } = await write('/dev/null', chunksFor(ranges, size, fill), { imageSize: size, ranges, kind: 'char' });
    expect(writer.bytesWritten()).toBe(3 * BS + 100);
    expect(synced).toBe(true); // the "synchronizing" line is still printed, as the reference does
  });
});
