import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultRegistry, type Codec } from '../src/index.js';
import { hasProgram, skipNote } from '../../../tools/test-needs.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-reuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 3 MiB: data, a long run of zeros, data
const plain = Buffer.alloc(3 << 20);
for (let i = 0; i < plain.length; i += 3) if (i < (1 << 20) || i > (2 << 20)) plain[i] = (i * 131) % 251;
const raw = join(dir, 'data');
writeFileSync(raw, plain);

const programs: Record<string, [string, string] | undefined> = {
  gzip: undefined,
  bzip2: ['bzip2', `bzip2 -c '${raw}'`],
  xz: ['xz', `xz -c '${raw}'`],
  zstd: ['zstd', `zstd -q -c '${raw}'`],
  lz4: ['lz4', `lz4 -q -c '${raw}'`],
  lzop: ['lzop', `lzop -q -c '${raw}'`],
};

function compressed(name: string): Buffer | undefined {
  if (name === 'gzip') return gzipSync(plain);
  const p = programs[name];
  if (p === undefined || !hasProgram(p[0])) return undefined;
  return spawnSync('sh', ['-c', p[1]], { maxBuffer: 64 << 20 }).stdout;
}

/** Feeds `data` through the decoder from ONE buffer, overwritten with garbage as soon as each write() resolves. */
async function decodeReusing(codec: Codec, data: Buffer, size: number): Promise<Buffer> {
  const pair = codec.decoder({ source: 'test' });
  const parts: Uint8Array[] = [];
  const reading = pair.readable.pipeTo(new WritableStream({ write: (c) => void parts.push(c.slice()) }));
  const writer = pair.writable.getWriter();
  const buffer = new Uint8Array(size);
  for (let at = 0; at < data.length; at += buffer.length) {
    const n = Math.min(buffer.length, data.length - at);
    buffer.set(data.subarray(at, at + n));
    await writer.write(buffer.subarray(0, n));
    buffer.fill(0xa5); // the caller reuses its buffer: allowed once write() has resolved
  }
  await writer.close();
  await reading;
  return Buffer.concat(parts);
}

describe("a decoder's write() resolves only when its input may be reused", () => {
  for (const codec of defaultRegistry().all.filter((c) => c.name !== 'zip')) {
    const data = compressed(codec.name);
    if (data === undefined) skipNote(`the ${codec.name} case of the input reuse test: ${programs[codec.name]?.[0]} is not installed`);
    for (const native of [true, false]) {
      it.skipIf(data === undefined)(`${codec.name}${native ? '' : " without the addon's decoders"}: decodes right from a buffer the caller reuses (4 KiB and 256 KiB writes)`, async () => {
        const before = process.env['BMAPKIT_NO_NATIVE_DECODERS'];
        if (!native) process.env['BMAPKIT_NO_NATIVE_DECODERS'] = '1';
        try {
          for (const size of [4096, 256 << 10]) expect((await decodeReusing(codec, data!, size)).equals(plain), `${size}-byte writes`).toBe(true);
        } finally {
          if (before === undefined) delete process.env['BMAPKIT_NO_NATIVE_DECODERS'];
          else process.env['BMAPKIT_NO_NATIVE_DECODERS'] = before;
        }
      });
    }
  }
});
