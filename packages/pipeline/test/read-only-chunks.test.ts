import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ImageChunk } from '@bmapkit/bmap-format';
import { copyImage, createBmap } from '../src/index.js';
import { hasProgram, skipNote } from '../../../tools/test-needs.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-read-only-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 6 MiB written whole (one mapped range), mostly zeros: the decoders hand
// the zero runs on as views of a buffer of zeros, the data as batches.
const image = Buffer.alloc(6 << 20);
for (let i = 0; i < 200_000; i++) image[(i * 7919) % (64 << 10)] = (i % 251) + 1;
image.fill(0x5a, 3 << 20, (3 << 20) + 5000);
const raw = join(dir, 'disk.img');
writeFileSync(raw, image);

/** Every codec, made by its real program where one is needed. */
const codecs: Array<{ name: string; file: string; make: () => void; needs?: string }> = [
  { name: 'raw', file: raw, make: () => undefined },
  { name: 'gzip', file: `${raw}.gz`, make: () => writeFileSync(`${raw}.gz`, gzipSync(image)) },
  { name: 'bzip2', file: `${raw}.bz2`, needs: 'bzip2', make: () => sh(`bzip2 -k -c '${raw}' > '${raw}.bz2'`) },
  { name: 'xz', file: `${raw}.xz`, needs: 'xz', make: () => sh(`xz -k -c '${raw}' > '${raw}.xz'`) },
  { name: 'zstd', file: `${raw}.zst`, needs: 'zstd', make: () => sh(`zstd -q -c '${raw}' > '${raw}.zst'`) },
  { name: 'lz4', file: `${raw}.lz4`, needs: 'lz4', make: () => sh(`lz4 -q -c '${raw}' > '${raw}.lz4'`) },
  { name: 'lzop', file: `${raw}.lzo`, needs: 'lzop', make: () => sh(`lzop -q -c '${raw}' > '${raw}.lzo'`) },
  { name: 'zip', file: `${raw}.zip`, needs: 'zip', make: () => sh(`cd '${dir}' && zip -q disk.img.zip disk.img`) },
];

function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd]);
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

/** A stage that breaks the contract: it writes into every chunk it sees. */
const vandal = () =>
  new TransformStream<ImageChunk, ImageChunk>({
    transform(chunk, c) {
      (chunk.data as Uint8Array).fill(0xee);
      c.enqueue(chunk);
    },
  });

const usable = codecs.filter((c) => c.needs === undefined || hasProgram(c.needs));
for (const c of codecs) if (!usable.includes(c)) skipNote(`the ${c.name} case of the read-only chunk test: ${c.needs} is not installed`);

describe('ImageChunk.data is read-only, and no buffer is shared between streams', () => {
  it('after a stage that writes into its chunks ran through every codec, clean copies through every codec are byte-exact', async () => {
    const bmapPath = `${raw}.bmap`;
    const { serializeBmap } = await import('@bmapkit/bmap-format');
    writeFileSync(bmapPath, serializeBmap(await createBmap({ image: raw })));
    for (const c of usable) c.make();
    for (const c of usable) {
      const dest = join(dir, `spoiled-${c.name}.img`);
      // the spoiled pipeline itself may fail (its checksums are computed from the
      // chunks the stage spoils while they are hashed) or write garbage: its own business
      const spoiled = await copyImage({ image: c.file, dest, bmap: bmapPath, stages: [vandal()] }).then(() => 'written', (e: { code?: string }) => e.code);
      expect(['written', 'RANGE_CHECKSUM'], c.name).toContain(spoiled);
      if (spoiled === 'written') expect(readFileSync(dest).equals(image), c.name).toBe(false);
      else expect(existsSync(dest)).toBe(false);
    }
    for (const c of usable) {
      const dest = join(dir, `clean-${c.name}.img`);
      await copyImage({ image: c.file, dest, bmap: bmapPath });
      expect(readFileSync(dest).equals(image), c.name).toBe(true);
    }
  });
});
