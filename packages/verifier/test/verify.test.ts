import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';
import { verifyChecksums } from '../src/index.js';

const BS = 4096;
const data = Uint8Array.from({ length: 20 * BS }, (_, i) => (i * 7) % 256);
const sum = (alg: string, a: number, b: number) => createHash(alg).update(data.subarray(a * BS, (b + 1) * BS)).digest('hex');

function chunks(ranges: BlockRange[]): ImageChunk[] {
  return ranges.flatMap((r, range) => {
    const out: ImageChunk[] = [];
    for (let o = r.first * BS; o < (r.last + 1) * BS; o += 3000) out.push({ offset: o, data: data.slice(o, Math.min(o + 3000, (r.last + 1) * BS)), range });
    return out;
  });
}
async function run(ranges: BlockRange[], checksumType: string, engine: 'js' | 'auto') {
  let i = 0;
  const all = chunks(ranges);
  const passed: ImageChunk[] = [];
  await new ReadableStream<ImageChunk>({ pull: (c) => (i < all.length ? c.enqueue(all[i++]!) : c.close()) })
    .pipeThrough(verifyChecksums({ ranges, blockSize: BS, imageSize: data.length, checksumType }, { image: 'img.raw', engine }))
    .pipeTo(new WritableStream({ write: (c) => void passed.push(c) }));
  return passed.length;
}

describe('verifyChecksums', () => {
  for (const alg of ['sha256', 'sha1']) {
    for (const engine of ['js', 'auto'] as const) {
      it(`${alg}, ${engine} engine: good data passes whole`, async () => {
        const ranges = [{ first: 0, last: 2, checksum: sum(alg, 0, 2) }, { first: 5, last: 5 }, { first: 7, last: 19, checksum: sum(alg, 7, 19) }];
        expect(await run(ranges, alg, engine)).toBe(chunks(ranges).length);
      });

      it(`${alg}, ${engine} engine: a wrong digest is RANGE_CHECKSUM naming range, digests and image`, async () => {
        const wrong = 'f'.repeat(alg === 'sha1' ? 40 : 64);
        const ranges = [{ first: 0, last: 2, checksum: sum(alg, 0, 2) }, { first: 7, last: 19, checksum: wrong }];
        await expect(run(ranges, alg, engine)).rejects.toMatchObject({
          code: 'RANGE_CHECKSUM',
          message: `checksum mismatch for blocks range 7-19: calculated ${sum(alg, 7, 19)}, should be ${wrong} (image file img.raw)`,
        });
      });
    }
  }
});
