import { afterAll, describe, expect, it } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseChunk, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { openFileSource, readExtents } from '@bmapkit/extent-source';
import { canDigestFiles } from '@bmapkit/native';
import { verifyChecksums } from '../src/index.js';
import { skipNote } from '../../../tools/test-needs.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-lent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const native = canDigestFiles('sha256');
if (!native) skipNote("verifier lent-chunk test on the native engine: bmapkit's native addon is not built");

describe('verifyChecksums and lent chunks', () => {
  for (const engine of ['native', 'js'] as const) {
    it.skipIf(engine === 'native' && !native)(`${engine}: a chunk given back as soon as it comes out is still hashed as it was read`, async () => {
      // 40 MiB in 4 ranges: the pool recycles buffers while the hash pool still has work queued
      const bs = 4096;
      const image = randomFillSync(Buffer.alloc(40 << 20));
      const path = join(dir, `${engine}.img`);
      writeFileSync(path, image);
      const per = (10 << 20) / bs;
      const ranges = [0, 1, 2, 3].map((i) => ({ first: i * per, last: (i + 1) * per - 1, checksum: createHash('sha256').update(image.subarray(i * per * bs, (i + 1) * per * bs)).digest('hex') }));
      const bmap: Bmap = { version: '2.0', blockSize: bs, imageSize: image.length, blocksCount: 4 * per, mappedBlocksCount: 4 * per, checksumType: 'sha256', ranges };
      const verified: number[] = [];
      let released = 0;
      await readExtents(await openFileSource(path), bmap.ranges, bmap)
        .pipeThrough(verifyChecksums(bmap, { image: path, engine, onRange: (r) => verified.push(r) }))
        .pipeTo(
          new WritableStream<ImageChunk>({
            write(chunk) {
              // what a writer does once the bytes are out: the buffer may be reused from here on
              releaseChunk(chunk);
              released++;
            },
          }),
        );
      expect(released).toBe(40);
      expect(verified.sort()).toEqual([0, 1, 2, 3]);
    });
  }
});
