import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompress } from '../src/index.js';
import { hasProgram as has } from '../../../tools/test-needs.js';

let dir: string;
let image: Buffer;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}
async function decodeFile(file: string, name = file) {
  const warnings: string[] = [];
  const { stream, format } = await decompress(new Blob([readFileSync(join(dir, file))]).stream() as ReadableStream<Uint8Array>, {
    name,
    onWarning: (w) => warnings.push(w),
  });
  const chunks: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  return { bytes: Buffer.concat(chunks), label: format.label, warnings };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-archives-'));
  image = Buffer.alloc(3 << 20);
  randomFillSync(image, 0, 1 << 20);
  image.write('tail text '.repeat(1000), 2 << 20);
  writeFileSync(join(dir, 'disk.img'), image);
  writeFileSync(join(dir, 'README.txt'), 'not the image\n');
  mkdirSync(join(dir, 'sub'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TARS: Array<[string, string, string, string]> = [
  ['tar', 'tar', 'tar -cf a.tar disk.img README.txt', 'a.tar'],
  ['tar.gz', 'gzip', 'tar -czf a.tar.gz disk.img README.txt', 'a.tar.gz'],
  ['tgz', 'gzip', 'tar -czf a.tgz disk.img', 'a.tgz'],
  ['tar.bz2', 'bzip2', 'tar -cjf a.tar.bz2 disk.img', 'a.tar.bz2'],
  ['tar.xz', 'xz', 'tar -cJf a.tar.xz disk.img', 'a.tar.xz'],
  ['tar.zst', 'zstd', 'tar --zstd -cf a.tar.zst disk.img', 'a.tar.zst'],
  ['tar.lz4', 'lz4', 'tar -I lz4 -cf a.tar.lz4 disk.img', 'a.tar.lz4'],
  ['tar.lzo', 'lzop', 'tar --lzop -cf a.tar.lzo disk.img', 'a.tar.lzo'],
  ['pax format', 'tar', 'tar --format=pax -cf pax.tar disk.img', 'pax.tar'],
  ['a directory first, GNU long name', 'tar', `mkdir -p sub && cp disk.img "sub/${'x'.repeat(120)}.img" && tar --format=gnu -cf long.tar sub`, 'long.tar'],
];

describe('tar: the first regular file member is the image', () => {
  for (const [label, tool, cmd, file] of TARS) {
    it.skipIf(!has(tool))(`${label}`, async () => {
      sh(cmd);
      const r = await decodeFile(file);
      expect(sha(r.bytes)).toBe(sha(image));
      expect(r.label).toMatch(/tar$/);
      const anonymous = label === 'tar' || label.startsWith('pax') || label.startsWith('a directory') ? undefined : await decodeFile(file, '-');
      if (anonymous) expect(sha(anonymous.bytes)).toBe(sha(image)); // found by magic, no name needed
    });
  }

  it('names the members it did not copy', async () => {
    sh('tar -cf two.tar disk.img README.txt');
    const r = await decodeFile('two.tar');
    expect(r.warnings).toEqual([`tar archive 'two.tar' has 1 more file member ('README.txt'); only the first, 'disk.img', was copied`]);
  });

  it('a plain .tar is only a tar when named so; unnamed it is raw data', async () => {
    sh('tar -cf raw.tar disk.img');
    expect((await decodeFile('raw.tar', '-')).label).toBe('raw');
  });

  it('a truncated tar is IMAGE_TRUNCATED', async () => {
    sh('tar -cf t.tar disk.img && head -c 1000000 t.tar > cut.tar');
    await expect(decodeFile('cut.tar')).rejects.toMatchObject({ code: 'IMAGE_TRUNCATED' });
  });

  it('a .tar.gz whose content is not a tar is refused', async () => {
    sh('gzip -c disk.img > fake.tar.gz');
    await expect(decodeFile('fake.tar.gz')).rejects.toMatchObject({ code: 'IMAGE_FORMAT', message: expect.stringContaining('is named like a tar archive') });
  });
});

describe.skipIf(!has('zip'))('zip: the first file member', () => {
  it('deflate, with a warning naming the next member', async () => {
    sh('zip -q a.zip disk.img README.txt');
    const r = await decodeFile('a.zip');
    expect(sha(r.bytes)).toBe(sha(image));
    expect(r.label).toBe('zip');
    expect(r.warnings).toEqual([`zip archive 'a.zip' has more members ('README.txt', ...); only the first file, 'disk.img', was copied`]);
  });

  it('stored (zip -0)', async () => {
    sh('zip -q -0 s.zip disk.img');
    expect(sha((await decodeFile('s.zip')).bytes)).toBe(sha(image));
  });

  it('streamed (sizes in a data descriptor, as zip writes from a pipe)', async () => {
    sh('cat disk.img | zip -q - - > streamed.zip');
    expect(sha((await decodeFile('streamed.zip')).bytes)).toBe(sha(image));
  });

  it('a directory entry first is skipped', async () => {
    sh('mkdir -p zd && cp disk.img zd/ && zip -q -r d.zip zd');
    expect(sha((await decodeFile('d.zip')).bytes)).toBe(sha(image));
  });

  it('a truncated zip is IMAGE_TRUNCATED', async () => {
    sh('zip -q t.zip disk.img && head -c 500000 t.zip > cut.zip');
    await expect(decodeFile('cut.zip')).rejects.toMatchObject({ code: 'IMAGE_TRUNCATED' });
  });
});
