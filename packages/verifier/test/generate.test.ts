import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { rangeByteSpan, type Bmap, type BlockRange, type ImageChunk } from '@bmapkit/bmap-format';
import { generateChecksums } from '../src/index.js';

/** An in-memory image with pseudo-random content and the given ranges. */
function image(size: number, ranges: BlockRange[], blockSize = 4096) {
  const data = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  const bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'> = { ranges, blockSize, imageSize: size };
  return { data, bmap };
}

/** Cuts the ranges into chunks of varying sizes (1 byte up to `max`), on SharedArrayBuffer or not. */
function chunksOf(data: Uint8Array, bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>, max: number, shared: boolean): ImageChunk[] {
  const out: ImageChunk[] = [];
  let k = 7;
  [...bmap.ranges].forEach((r, range) => {
    const { start, end } = rangeByteSpan(r, bmap);
    for (let off = start; off < end; ) {
      k = (k * 31 + 17) % 1000003;
      const n = Math.min(end - off, 1 + (k % max));
      const buf = shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n);
      buf.set(data.subarray(off, off + n));
      out.push({ offset: off, data: buf, range });
      off += n;
    }
  });
  return out;
}

async function run(chunks: ImageChunk[], stage: TransformStream<ImageChunk, ImageChunk>): Promise<ImageChunk[]> {
  const seen: ImageChunk[] = [];
  let next = 0;
  await new ReadableStream<ImageChunk>(
    {
      pull(c) {
        if (next < chunks.length) c.enqueue(chunks[next++]!);
        else c.close();
      },
    },
    { highWaterMark: 4 },
  )
    .pipeThrough(stage)
    .pipeTo(new WritableStream({ write: (c) => void seen.push(c) }));
  return seen;
}

const expected = (data: Uint8Array, bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>, alg = 'sha256') =>
  [...bmap.ranges].map((r) => {
    const { start, end } = rangeByteSpan(r, bmap);
    return createHash(alg).update(data.subarray(start, end)).digest('hex');
  });

describe('generateChecksums', () => {
  const ranges: BlockRange[] = [{ first: 0, last: 0 }, { first: 3, last: 40 }, { first: 42, last: 42 }, { first: 100, last: 255 }, { first: 300, last: 300 }];
  const size = 300 * 4096 + 1234; // the last range is the partial last block

  for (const engine of ['js', 'auto'] as const) {
    for (const shared of [true, false]) {
      it(`matches node:crypto with the ${engine} engine, ${shared ? 'shared' : 'ordinary'} buffers, any chunking`, async () => {
        const { data, bmap } = image(size, ranges);
        const chunks = chunksOf(data, bmap, 70_000, shared);
        const gen = generateChecksums(bmap, { engine });
        const seen = await run(chunks, gen);
        expect(seen).toHaveLength(chunks.length);
        expect(seen.every((c, i) => c === chunks[i])).toBe(true); // passed on unchanged
        expect(await gen.digests).toEqual(expected(data, bmap));
      });
    }
  }

  it('hashes with other algorithms, by bmap or node name', async () => {
    const { data, bmap } = image(size, ranges);
    for (const [alg, node] of [['sha1', 'sha1'], ['SHA512', 'sha512'], ['sha3_256', 'sha3-256'], ['md5', 'md5']] as const) {
      const gen = generateChecksums(bmap, { algorithm: alg });
      await run(chunksOf(data, bmap, 100_000, true), gen);
      expect(await gen.digests, alg).toEqual(expected(data, bmap, node));
    }
  });

  it('hashes 20,000 tiny ranges', async () => {
    const many: BlockRange[] = Array.from({ length: 20_000 }, (_, i) => ({ first: i * 2, last: i * 2 }));
    const { data, bmap } = image(40_000 * 512, many, 512);
    const gen = generateChecksums(bmap, {});
    await run(chunksOf(data, bmap, 512, true), gen);
    expect(await gen.digests).toEqual(expected(data, bmap));
  });

  it('one giant range stays one hash chain, however it is chunked', async () => {
    const { data, bmap } = image(64 << 20, [{ first: 0, last: (64 << 20) / 4096 - 1 }]);
    const gen = generateChecksums(bmap, { maxInFlight: 4 << 20 });
    await run(chunksOf(data, bmap, 1 << 20, true), gen);
    expect(await gen.digests).toEqual(expected(data, bmap));
  });

  it('hashes ranges whose chunks interleave (each range in order), on every engine', async () => {
    const { data, bmap } = image(size, ranges);
    const byRange = [0, 1, 2, 3, 4].map((r) => chunksOf(data, bmap, 9_000, false).filter((c) => c.range === r));
    const mixed: ImageChunk[] = [];
    for (let k = 0; byRange.some((l) => l.length > 0); k++) {
      const lane = byRange[[3, 1, 4, 0, 2][k % 5]!]!;
      if (lane.length > 0) mixed.push(lane.shift()!);
    }
    expect(mixed.map((c) => c.range).slice(0, 4)).toEqual([3, 1, 4, 0]);
    for (const engine of ['js', 'auto'] as const) {
      const gen = generateChecksums(bmap, { engine });
      await run(mixed, gen);
      expect(await gen.digests, engine).toEqual(expected(data, bmap));
    }
  });

  it('refuses a chunk for a range whose bytes have all arrived', async () => {
    const { data, bmap } = image(size, ranges);
    const chunks = chunksOf(data, bmap, 100_000, false);
    const again = chunks.find((c) => c.range === 1)!;
    const gen = generateChecksums(bmap, {});
    await expect(run([...chunks.filter((c) => c.range <= 2), again], gen)).rejects.toMatchObject({ code: 'CHUNK_ORDER', message: expect.stringContaining('have all arrived') });
  });

  it('refuses chunks out of order', async () => {
    const { data, bmap } = image(size, ranges);
    const chunks = chunksOf(data, bmap, 100_000, true);
    const i = chunks.findIndex((c, k) => c.range === 3 && chunks[k + 1]?.range === 3);
    [chunks[i], chunks[i + 1]] = [chunks[i + 1]!, chunks[i]!];
    const gen = generateChecksums(bmap, {});
    await expect(run(chunks, gen)).rejects.toMatchObject({ code: 'CHUNK_ORDER' });
    await expect(gen.digests).rejects.toMatchObject({ code: 'CHUNK_ORDER' });
  });

  it('reports a range whose bytes stop short', async () => {
    const { data, bmap } = image(size, ranges);
    const chunks = chunksOf(data, bmap, 100_000, true).filter((c) => !(c.range === 3 && c.offset > 150 * 4096));
    await expect(run(chunks, generateChecksums(bmap, {}))).rejects.toMatchObject({
      code: 'IMAGE_TRUNCATED',
      message: expect.stringMatching(/^blocks 100-255 ended after \d+ of their 638976 bytes$/),
    });
  });

  it('reports ranges that never arrived', async () => {
    const { data, bmap } = image(size, ranges);
    const chunks = chunksOf(data, bmap, 100_000, true).filter((c) => c.range < 4);
    await expect(run(chunks, generateChecksums(bmap, { engine: 'js' }))).rejects.toMatchObject({
      code: 'IMAGE_TRUNCATED',
      message: expect.stringContaining('blocks 300-300'),
    });
  });

  it('refuses an unknown algorithm up front', () => {
    const { bmap } = image(4096, [{ first: 0, last: 0 }]);
    expect(() => generateChecksums(bmap, { algorithm: 'crc99' })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_CHECKSUM' }));
  });
});
