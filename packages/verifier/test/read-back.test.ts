import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bmap, ImageChunk } from '@bmapkit/bmap-format';
import { compareDigests, digestStream, readBack } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-readback-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BS = 4096;
const image = new Uint8Array(40 * BS + 1234).map((_, i) => (i * 13 + 5) % 256);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
function bmapOf(ranges: Array<[number, number]>): Bmap {
  return {
    version: '2.0',
    imageSize: image.byteLength,
    blockSize: BS,
    blocksCount: 41,
    mappedBlocksCount: ranges.reduce((n, [a, b]) => n + b - a + 1, 0),
    checksumType: 'sha256',
    ranges: ranges.map(([first, last]) => ({ first, last, checksum: sha(image.subarray(first * BS, Math.min((last + 1) * BS, image.byteLength))) })),
  };
}
function chunksOf(bmap: Bmap, step = 7000): ImageChunk[] {
  const out: ImageChunk[] = [];
  [...bmap.ranges].forEach((r, range) => {
    const end = Math.min((r.last + 1) * BS, bmap.imageSize);
    for (let o = r.first * BS; o < end; o += step) out.push({ offset: o, data: image.subarray(o, Math.min(o + step, end)), range });
  });
  return out;
}

/** The destination as a file holding `content`, opened for read-back both ways. */
async function dest(name: string, content: Uint8Array, direct: boolean) {
  const path = join(dir, name);
  writeFileSync(path, content);
  const reader = await open(path, constants.O_RDONLY | (direct ? constants.O_DIRECT : 0));
  return { path, reader };
}

describe('readBack', () => {
  const bmap = bmapOf([[0, 3], [7, 7], [12, 40]]);

  for (const direct of [true, false]) {
    it(`passes a destination that holds the image (${direct ? 'O_DIRECT' : 'page cache dropped'})`, async () => {
      const d = await dest(`good-${direct}.img`, image, direct);
      const rb = readBack({ reader: d.reader, direct, bmap, dest: d.path, rewrite: async () => expect.fail('nothing to rewrite') });
      const chunks = chunksOf(bmap);
      await rb.check(chunks.slice(0, 5));
      await rb.check(chunks.slice(5));
      expect(rb.stats()).toEqual({ bytes: chunks.reduce((n, c) => n + c.data.byteLength, 0), rewrites: 0 });
      await d.reader.close();
    });
  }

  it('rewrites a chunk that reads back wrong, then passes', async () => {
    const bad = image.slice();
    bad[12 * BS + 7001]! ^= 0x10; // second chunk of the third range
    const d = await dest('flip.img', bad, true);
    const mismatches: number[] = [];
    const rb = readBack({
      reader: d.reader,
      direct: true,
      bmap,
      dest: d.path,
      onMismatch: (c) => mismatches.push(c.offset),
      rewrite: async (c) => {
        const w = await open(d.path, 'r+');
        await w.write(c.data, 0, c.data.byteLength, c.offset);
        await w.sync();
        await w.close();
      },
    });
    await rb.check(chunksOf(bmap));
    expect(mismatches).toEqual([12 * BS + 7000]);
    expect(rb.stats().rewrites).toBe(1);
    expect(readFileSync(d.path).equals(Buffer.from(image))).toBe(true);
    await d.reader.close();
  });

  it('gives up after the retries, naming the blocks', async () => {
    const bad = image.slice();
    bad[7 * BS + 100]! ^= 1;
    const d = await dest('stuck.img', bad, true);
    let tries = 0;
    const rb = readBack({ reader: d.reader, direct: true, bmap, dest: 'card', retries: 2, rewrite: async () => void tries++ });
    await expect(rb.check(chunksOf(bmap))).rejects.toMatchObject({
      code: 'DEST_VERIFY',
      message: "blocks 7-7 of 'card' read back different from what was written, 2 rewrites did not help; the medium may be failing (or fake-capacity)",
    });
    expect(tries).toBe(2);
    await d.reader.close();
  });

  it('checks what it read against the bmap checksum, not only against what was handed to it', async () => {
    const wrong = { ...bmap, ranges: [...bmap.ranges].map((r, i) => (i === 1 ? { ...r, checksum: 'ab'.repeat(32) } : r)) };
    const d = await dest('sum.img', image, false);
    const rb = readBack({ reader: d.reader, direct: false, bmap: wrong, dest: 'card', rewrite: async () => undefined });
    await expect(rb.check(chunksOf(wrong))).rejects.toMatchObject({ code: 'DEST_VERIFY', message: expect.stringMatching(/^blocks range 7-7 read back from 'card' has checksum [0-9a-f]{64}, the bmap says abab/) });
    await d.reader.close();
  });

  it('says so when the destination ends before the data', async () => {
    const d = await dest('short.img', image.subarray(0, 20 * BS), false);
    const rb = readBack({ reader: d.reader, direct: false, bmap, dest: 'card', rewrite: async () => undefined });
    await expect(rb.check(chunksOf(bmap))).rejects.toMatchObject({ code: 'DEST_VERIFY', message: expect.stringContaining("'card' ends at byte 81920") });
    await d.reader.close();
  });
});

describe('digestStream and compareDigests', () => {
  it('hashes every range of a chunk stream and lists each range that differs', async () => {
    const bmap = bmapOf([[0, 3], [7, 7], [12, 40]]);
    const chunks = chunksOf(bmap).map((c) => (c.offset === 7 * BS ? { ...c, data: c.data.map((b, i) => (i === 5 ? b ^ 1 : b)) } : c));
    const stream = new ReadableStream<ImageChunk>({ start: (ctl) => (chunks.forEach((c) => ctl.enqueue(c)), ctl.close()) });
    const digests = await digestStream(stream, bmap, { engine: 'js' });
    expect(digests[0]).toBe(bmap.ranges.at(0)!.checksum);
    expect(compareDigests(bmap, digests)).toEqual([{ range: 1, first: 7, last: 7, expected: bmap.ranges.at(1)!.checksum, actual: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
  });
});
