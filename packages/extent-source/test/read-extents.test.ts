import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { rangeByteSpan, type BlockRange, type ImageChunk } from '@bmapkit/bmap-format';
import { openFileSource, readExtents } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-read-extents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BS = 4096;
/** A real file: 10 MiB and a partial block, random bytes; ranges of 4.3 MiB, 1 block, 4.5 MiB and the partial last block. */
const size = 10 * (1 << 20) + 1000;
const data = randomBytes(size);
const path = join(dir, 'image.raw');
writeFileSync(path, data);
const ranges: BlockRange[] = [
  { first: 0, last: 1099 },
  { first: 1300, last: 1300 },
  { first: 1400, last: 2559 },
  { first: 2560, last: 2560 },
];
const geometry = { blockSize: BS, imageSize: size };

async function collect(stream: ReadableStream<ImageChunk>): Promise<ImageChunk[]> {
  const out: ImageChunk[] = [];
  await stream.pipeTo(new WritableStream({ write: (c) => void out.push(c) }));
  return out;
}

describe('readExtents', () => {
  for (const lanes of [1, 2, 3]) {
    it(`reads exactly the mapped bytes, each range in order, with ${lanes} lane(s)`, async () => {
      const chunks = await collect(readExtents(await openFileSource(path), ranges, geometry, { lanes, chunkSize: 1 << 20 }));
      const next = ranges.map((r) => rangeByteSpan(r, geometry).start);
      for (const c of chunks) {
        expect(c.offset).toBe(next[c.range]); // contiguous within its range
        expect(Buffer.from(c.data).equals(data.subarray(c.offset, c.offset + c.data.byteLength))).toBe(true);
        next[c.range] = c.offset + c.data.byteLength;
      }
      expect(next).toEqual(ranges.map((r) => rangeByteSpan(r, geometry).end)); // the last block clipped to the image size
      const order = chunks.map((c) => c.range);
      if (lanes === 1) expect(order).toEqual([...order].sort((a, b) => a - b));
      else expect(order.slice(0, 2)).toEqual([2, 0]); // the big ranges first, largest first, interleaved
      expect(new Set(chunks.map((c) => c.data.buffer)).size).toBe(chunks.length); // no buffer reused or shared
    });
  }

  it('a file shorter than its bmap is IMAGE_TRUNCATED naming the range', async () => {
    const short = join(dir, 'short.raw');
    writeFileSync(short, data.subarray(0, 7 << 20));
    truncateSync(short, 7 << 20);
    await expect(collect(readExtents(await openFileSource(short), ranges, geometry, { lanes: 2 }))).rejects.toMatchObject({
      code: 'IMAGE_TRUNCATED',
      message: expect.stringContaining('inside blocks 1400-2559'),
    });
  });

  it('a cancel waits for the reads in flight, then closes the source', async () => {
    const source = await openFileSource(path);
    let closed = false;
    const close = source.close.bind(source);
    source.close = async () => {
      closed = true;
      await close();
    };
    const reader = readExtents(source, ranges, geometry, { queueDepth: 4 }).getReader();
    await reader.read();
    await reader.cancel();
    expect(closed).toBe(true);
  });
});
