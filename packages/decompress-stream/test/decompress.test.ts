import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompress, externalDecoder, defaultRegistry } from '../src/index.js';
import { hasProgram as has, skipNote } from '../../../tools/test-needs.js';

let dir: string;
let image: Buffer;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A 5 MiB image: random data, zeros, text. */
function makeImage(): Buffer {
  const b = Buffer.alloc(5 << 20);
  randomFillSync(b, 0, 1 << 20);
  b.write('bmapkit test image '.repeat(50000), 3 << 20);
  return b;
}

function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

async function decodeFile(path: string, name = path): Promise<{ bytes: Buffer; format: string | undefined }> {
  const data = readFileSync(path);
  const input = new Blob([data]).stream() as ReadableStream<Uint8Array>;
  const { stream, format } = await decompress(input, { name });
  const chunks: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  return { bytes: Buffer.concat(chunks), format: format.codec?.name };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-decompress-'));
  image = makeImage();
  writeFileSync(join(dir, 'img'), image);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// [label, tool that must exist, shell command writing the file, file name, format]
const VARIANTS: Array<[string, string, string, string, string]> = [
  ['gzip', 'gzip', 'gzip -c img > img.gz', 'img.gz', 'gzip'],
  ['pigz (multi-member)', 'pigz', 'pigz -c -b 128 -p 2 img > img.pigz.gz', 'img.pigz.gz', 'gzip'],
  ['concatenated gzip members', 'gzip', 'head -c 1000000 img | gzip -c > cat.gz && tail -c +1000001 img | gzip -c >> cat.gz', 'cat.gz', 'gzip'],
  ['bzip2', 'bzip2', 'bzip2 -c img > img.bz2', 'img.bz2', 'bzip2'],
  ['pbzip2 (multi-stream)', 'pbzip2', 'pbzip2 -c -b1 -p2 img > img.p.bz2', 'img.p.bz2', 'bzip2'],
  ['xz', 'xz', 'xz -c img > img.xz', 'img.xz', 'xz'],
  ['xz -T2 (multi-block)', 'xz', 'xz -c -T2 --block-size=1MiB img > img.mb.xz', 'img.mb.xz', 'xz'],
  ['xz multi-stream', 'xz', 'head -c 2000000 img | xz -c > ms.xz && tail -c +2000001 img | xz -c >> ms.xz', 'ms.xz', 'xz'],
  ['zstd', 'zstd', 'zstd -q -c img > img.zst', 'img.zst', 'zstd'],
  ['zstd multi-frame', 'zstd', 'head -c 1000000 img | zstd -q -c > mf.zst && tail -c +1000001 img | zstd -q -c >> mf.zst', 'mf.zst', 'zstd'],
  ['lz4', 'lz4', 'lz4 -q -c img > img.lz4', 'img.lz4', 'lz4'],
  ['lz4 concatenated frames', 'lz4', 'head -c 1000000 img | lz4 -q -c > cf.lz4 && tail -c +1000001 img | lz4 -q -c >> cf.lz4', 'cf.lz4', 'lz4'],
  ['lzop', 'lzop', 'lzop -c img > img.lzo', 'img.lzo', 'lzop'],
];

describe('decompress: every format, made by the real tools', () => {
  for (const [label, tool, cmd, file, format] of VARIANTS) {
    it.skipIf(!has(tool))(`${label}: byte-identical, detected by magic even without a name`, async () => {
      sh(cmd);
      const named = await decodeFile(join(dir, file));
      expect(named.format).toBe(format);
      expect(sha(named.bytes)).toBe(sha(image));
      const anonymous = await decodeFile(join(dir, file), '-');
      expect(anonymous.format).toBe(format);
      expect(sha(anonymous.bytes)).toBe(sha(image));
    });
    if (!has(tool)) skipNote(`${label}: ${tool} is not installed`);
  }

  it('passes raw data through untouched', async () => {
    const r = await decodeFile(join(dir, 'img'), 'disk.img');
    expect(r.format).toBeUndefined();
    expect(r.bytes.equals(image)).toBe(true);
  });
});

describe('decompress: broken input is a typed error, never a short image', () => {
  for (const [label, tool, cmd, file] of VARIANTS.filter((v) => !v[0].includes('concatenated') && !v[0].includes('multi-'))) {
    it.skipIf(!has(tool))(`truncated ${label}: IMAGE_TRUNCATED or IMAGE_DECOMPRESS`, async () => {
      sh(cmd);
      const whole = readFileSync(join(dir, file));
      const cut = join(dir, `cut-${file}`);
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
      await expect(decodeFile(cut)).rejects.toMatchObject({ code: expect.stringMatching(/^IMAGE_(TRUNCATED|DECOMPRESS)$/) });
    });
  }

  it('a truncated gzip is IMAGE_TRUNCATED, naming the file', async () => {
    sh('gzip -c img > t.gz');
    const whole = readFileSync(join(dir, 't.gz'));
    writeFileSync(join(dir, 't2.gz'), whole.subarray(0, whole.length - 6)); // all data, half the trailer
    await expect(decodeFile(join(dir, 't2.gz'))).rejects.toMatchObject({
      code: 'IMAGE_TRUNCATED',
      message: `gzip image '${join(dir, 't2.gz')}' is truncated: the compressed data ends before the end of the stream; download or copy it again`,
    });
  });

  it('corrupt gzip data is IMAGE_DECOMPRESS', async () => {
    sh('gzip -c img > c.gz');
    const data = readFileSync(join(dir, 'c.gz'));
    for (let i = 5000; i < 6000; i++) data[i] = data[i]! ^ 0x55;
    writeFileSync(join(dir, 'c2.gz'), data);
    await expect(decodeFile(join(dir, 'c2.gz'))).rejects.toMatchObject({ code: 'IMAGE_DECOMPRESS', message: expect.stringContaining("cannot decompress gzip image") });
  });

  it.skipIf(!has('xz'))('corrupt xz data is IMAGE_DECOMPRESS', async () => {
    sh('xz -c img > c.xz');
    const data = readFileSync(join(dir, 'c.xz'));
    for (let i = 5000; i < 5100; i++) data[i] = data[i]! ^ 0x55;
    writeFileSync(join(dir, 'c2.xz'), data);
    await expect(decodeFile(join(dir, 'c2.xz'))).rejects.toMatchObject({ code: 'IMAGE_DECOMPRESS', message: expect.stringContaining(`cannot decompress xz image '${join(dir, 'c2.xz')}'`) });
  });

  it('garbage named .gz is refused (the reference copies 0 bytes and exits 0)', async () => {
    writeFileSync(join(dir, 'x.gz'), 'foobar\n');
    await expect(decodeFile(join(dir, 'x.gz'))).rejects.toMatchObject({
      code: 'IMAGE_FORMAT',
      message: `image '${join(dir, 'x.gz')}' is named like a gzip file but its content is not gzip data; check that it is the right file, or rename it`,
    });
  });

  it('a missing decompression program is named with the package to install', () => {
    expect(() =>
      externalDecoder({ format: 'frob', programs: [{ program: 'no-such-frob-decoder', args: [] }], truncated: /x/, aptPackage: 'frob-tools' }, 'a.frob'),
    ).toThrow(expect.objectContaining({ code: 'DECOMPRESSOR_MISSING', message: expect.stringContaining('apt-get install frob-tools') }));
  });
});

describe('detection by name', () => {
  it('knows the tar forms', () => {
    const r = defaultRegistry();
    expect(r.byName('a.tar.gz')).toMatchObject({ codec: { name: 'gzip' }, tar: true });
    expect(r.byName('a.tgz')).toMatchObject({ codec: { name: 'gzip' }, tar: true });
    expect(r.byName('A.IMG.XZ')).toMatchObject({ codec: { name: 'xz' }, tar: false });
    expect(r.byName('a.tbz2')).toMatchObject({ codec: { name: 'bzip2' }, tar: true });
    expect(r.byName('a.img')).toBeUndefined();
  });
});
