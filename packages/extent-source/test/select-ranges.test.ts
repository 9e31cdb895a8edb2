import { describe, expect, it } from 'vitest';
import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';
import { selectRanges } from '../src/index.js';

const BS = 512;
const ranges: BlockRange[] = [{ first: 0, last: 0 }, { first: 3, last: 5 }, { first: 9, last: 9 }];
const size = 9 * BS + 77; // block 9 is partial
const image = Uint8Array.from({ length: size + 1000 }, (_, i) => (i * 13) % 256); // 1000 trailing bytes

async function select(input: Uint8Array, piece: number, imageSize = size) {
  const parts: Uint8Array[] = [];
  for (let o = 0; o < input.length; o += piece) parts.push(input.slice(o, o + piece));
  let i = 0;
  const out: ImageChunk[] = [];
  await new ReadableStream<Uint8Array>({ pull: (c) => (i < parts.length ? c.enqueue(parts[i++]!) : c.close()) })
    .pipeThrough(selectRanges({ ranges, blockSize: BS, imageSize }, { source: 'img' }))
    .pipeTo(new WritableStream({ write: (c) => void out.push(c) }));
  return { out, parts };
}

describe('selectRanges', () => {
  for (const piece of [1, 7, 511, 512, 513, 4096, 1 << 20]) {
    it(`cuts exactly the mapped bytes out of ${piece}-byte input chunks`, async () => {
      const { out } = await select(image, piece);
      const byRange = ranges.map((r, k) => {
        const bytes = out.filter((c) => c.range === k);
        let at = r.first * BS;
        for (const c of bytes) {
          expect(c.offset).toBe(at);
          expect(Array.from(c.data)).toEqual(Array.from(image.subarray(at, at + c.data.length)));
          at += c.data.length;
        }
        return at;
      });
      expect(byRange).toEqual([BS, 6 * BS, size]);
    });
  }

  it('passes views of the input, never copies', async () => {
    const { out, parts } = await select(image, 4096);
    for (const c of out) expect(parts.some((p) => p.buffer === c.data.buffer)).toBe(true);
  });

  it('input that ends inside a range is IMAGE_TRUNCATED, naming the range and the bytes there were', async () => {
    await expect(select(image.subarray(0, 4 * BS + 10), 1000)).rejects.toMatchObject({
      code: 'IMAGE_TRUNCATED',
      message: `image 'img' ends at byte ${4 * BS + 10}, inside blocks 3-5 (bytes ${3 * BS}-${6 * BS - 1}); its bmap says it has ${size} bytes: the image is truncated, or the bmap belongs to another image`,
    });
  });

  it('input that ends before a range starts is truncated too', async () => {
    await expect(select(image.subarray(0, 7 * BS), 1000)).rejects.toMatchObject({ code: 'IMAGE_TRUNCATED', message: expect.stringContaining('inside blocks 9-9') });
  });
});
