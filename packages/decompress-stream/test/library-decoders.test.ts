import { describe, expect, it } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import type { DecoderPair } from '../src/index.js';
import { napiXzDecoder, nodeZstdDecoder } from '../src/library-decoders.js';
import { skipNote } from '../../../tools/test-needs.js';

// The in-process libraries used when the addon's decoder cannot run, before
// any program: node:zlib's zstd (Node >= 22.15) and @napi-rs/lzma's xz (an
// optional dependency, installed on Node >= 22.20). CI runs the whole suite
// on Node 24 as well, where node:zlib has zstd.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const image = Buffer.alloc(3 << 20);
randomFillSync(image, 0, 1 << 20);
image.write('bmapkit library decoder '.repeat(40000), 2 << 20);

async function run(pair: DecoderPair, input: Uint8Array): Promise<Buffer> {
  const write = (async () => {
    const w = pair.writable.getWriter();
    for (let at = 0; at < input.length; at += 100_000) await w.write(input.subarray(at, at + 100_000));
    await w.close();
  })();
  const out: Uint8Array[] = [];
  for await (const c of pair.readable as unknown as AsyncIterable<Uint8Array>) out.push(c);
  await write;
  return Buffer.concat(out);
}

const zstdCompress = (zlib as unknown as { zstdCompressSync?: (b: Buffer, o?: { params: Record<number, number> }) => Buffer }).zstdCompressSync;
const noZstd = zstdCompress === undefined ? `node:zlib has no zstd in Node ${process.version} (22.15 and later have)` : undefined;
skipNote(noZstd && `the node:zlib zstd fallback tests: ${noZstd}`);

describe.skipIf(noZstd !== undefined)('zstd through node:zlib', () => {
  it('decodes concatenated frames byte for byte', async () => {
    const zst = Buffer.concat([zstdCompress!(image.subarray(0, 1 << 20)), zstdCompress!(image.subarray(1 << 20))]);
    expect(sha(await run(nodeZstdDecoder('img.zst')!, zst))).toBe(sha(image));
  });

  it('says IMAGE_TRUNCATED for a cut-off file and IMAGE_DECOMPRESS for corrupt data', async () => {
    const zst = zstdCompress!(image);
    await expect(run(nodeZstdDecoder('cut.zst')!, zst.subarray(0, zst.length >> 1))).rejects.toMatchObject({ code: 'IMAGE_TRUNCATED' });
    // corrupt in the middle of a frame that carries its checksum (as the zstd program writes them)
    const checked = zstdCompress!(image, { params: { [(zlib.constants as Record<string, number>)['ZSTD_c_checksumFlag']!]: 1 } });
    const bad = Buffer.from(checked);
    bad.fill(0x55, 2000, 4000);
    await expect(run(nodeZstdDecoder('bad.zst')!, bad)).rejects.toMatchObject({ code: 'IMAGE_DECOMPRESS', message: expect.stringContaining("'bad.zst'") });
  });
});

let lzma: { xz: { compressSync(b: Buffer): Buffer } } | undefined;
if (napiXzDecoder('probe') !== undefined) lzma = createRequire(import.meta.url)('@napi-rs/lzma') as typeof lzma;
else skipNote(`the @napi-rs/lzma xz fallback tests: the optional dependency is not installed, or not for Node ${process.version} (its engines: ^22.20 || ^24.12 || >=25)`);

describe.skipIf(lzma === undefined)('xz through @napi-rs/lzma', () => {
  it('decodes byte for byte, and a cut-off file is IMAGE_TRUNCATED', async () => {
    const xz = lzma!.xz.compressSync(image);
    expect(sha(await run(napiXzDecoder('img.xz')!, xz))).toBe(sha(image));
    await expect(run(napiXzDecoder('cut.xz')!, xz.subarray(0, xz.length >> 1))).rejects.toMatchObject({ code: expect.stringMatching(/^IMAGE_(TRUNCATED|DECOMPRESS)$/) });
  });
});
