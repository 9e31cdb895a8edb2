import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { chunkAlive, holdChunk, releaseChunk, serializeBmap, type ImageChunk } from '@bmapkit/bmap-format';
import { copyImage, createBmap } from '../src/index.js';

// A raw copy's chunks are lent from readExtents' pool and go back once
// written: what a custom stage may and may not do with them.
const dir = mkdtempSync(join(tmpdir(), 'bmapkit-lease-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const imagePath = join(dir, 'disk.img');
let image: Buffer;
beforeAll(async () => {
  // 48 MiB, 40 MiB of it data in four ranges: far more chunks than the pool keeps
  image = Buffer.alloc(48 << 20);
  const fd = openSync(imagePath, 'w');
  ftruncateSync(fd, image.length);
  for (const [start, end] of [[0, 10], [12, 22], [24, 34], [37, 47]] as const) {
    randomFillSync(image, start << 20, (end - start) << 20);
    writeSync(fd, image, start << 20, (end - start) << 20, start << 20);
  }
  closeSync(fd);
  writeFileSync(`${imagePath}.bmap`, serializeBmap(await createBmap({ image: imagePath })));
});

const pass = (see: (chunk: ImageChunk) => void) =>
  new TransformStream<ImageChunk, ImageChunk>({
    transform(chunk, c) {
      see(chunk);
      c.enqueue(chunk);
    },
  });

describe('lent chunk buffers', () => {
  it('are reused once written: a view kept against the rules reads as empty afterwards, and the copy is byte-exact', async () => {
    const kept: ImageChunk[] = [];
    const dest = join(dir, 'kept.img');
    await copyImage({ image: imagePath, dest, stages: [pass((c) => kept.push(c))] });
    expect(readFileSync(dest).equals(image)).toBe(true);
    expect(kept.length).toBe(40);
    expect(kept.every((c) => c.lease !== undefined)).toBe(true);
    // every buffer went back, so none of the views kept holds bytes (never another chunk's)
    expect(kept.filter((c) => chunkAlive(c))).toEqual([]);
  });

  it('a stage that holds the chunks reads their own bytes after the copy, whatever was read since; then releases them', async () => {
    const held: ImageChunk[] = [];
    const dest = join(dir, 'held.img');
    await copyImage({
      image: imagePath,
      dest,
      stages: [
        pass((c) => {
          holdChunk(c);
          held.push(c);
        }),
      ],
    });
    expect(readFileSync(dest).equals(image)).toBe(true);
    for (const c of held) expect(Buffer.compare(c.data, image.subarray(c.offset, c.offset + c.data.byteLength)), `chunk at ${c.offset}`).toBe(0);
    for (const c of held) releaseChunk(c);
    expect(held.every((c) => !chunkAlive(c))).toBe(true);
  });

  it('a stage that splits chunks without holding the halves fails the copy with CHUNK_LEASE, and the DEST it created is removed', async () => {
    const dest = join(dir, 'split.img');
    const split = new TransformStream<ImageChunk, ImageChunk>({
      transform(chunk, c) {
        const half = chunk.data.byteLength >> 1;
        c.enqueue({ ...chunk, data: chunk.data.subarray(0, half) });
        c.enqueue({ ...chunk, offset: chunk.offset + half, data: chunk.data.subarray(half) });
      },
    });
    await expect(copyImage({ image: imagePath, dest, stages: [split] })).rejects.toMatchObject({ code: 'CHUNK_LEASE' });
    expect(existsSync(dest)).toBe(false);
  });

  it('the same split, holding the added half, copies byte-exact', async () => {
    const dest = join(dir, 'split-held.img');
    const split = new TransformStream<ImageChunk, ImageChunk>({
      transform(chunk, c) {
        const half = chunk.data.byteLength >> 1;
        holdChunk(chunk); // one claim for each chunk emitted over the data
        c.enqueue({ ...chunk, data: chunk.data.subarray(0, half) });
        c.enqueue({ ...chunk, offset: chunk.offset + half, data: chunk.data.subarray(half) });
      },
    });
    await copyImage({ image: imagePath, dest, stages: [split] });
    expect(readFileSync(dest).equals(image)).toBe(true);
  });
});
