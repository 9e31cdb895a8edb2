import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBmap } from '@bmapkit/bmap-format';
import { fileExtents, unmappedRanges } from '@bmapkit/extent-source';
import { BIN, BLOCKMAP, VECTORS, run } from './run.js';
import { sha256, sparseImage, vectorA } from './images.js';

const TEST_IMAGE_SHA = 'd1ff17fa5f20ff1c4fffa079fc466819fcd0b3308ac89e7c13a91da948e09f5b';
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-copy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const has = (p: string) => spawnSync(p, ['--help'], { stdio: 'ignore' }).error === undefined;
function sh(cmd: string, input?: Buffer): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir, input });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}
/** Runs the CLI with a shell (for stdin redirections and pipes). */
function shellRun(cmd: string) {
  return spawnSync('sh', ['-c', cmd.replaceAll('BMAPTOOL', `'${process.execPath}' '${BIN}'`)], { cwd: dir, encoding: 'utf8' });
}
/** The copy's holes must be exactly the bmap's unmapped blocks. */
async function expectSameHoles(path: string, bmapPath: string) {
  const bmap = await parseBmap(readFileSync(bmapPath));
  const map = await fileExtents(path);
  expect(map.blockSize).toBe(bmap.blockSize);
  expect(unmappedRanges(map.ranges, map.blocksCount)).toEqual(unmappedRanges(bmap.ranges, bmap.blocksCount));
}

describe('copy: the reference vectors', () => {
  for (const v of ['1.2', '1.3', '1.4', '2.0']) {
    it(`test.image.gz with the ${v} bmap: byte-identical, holes exactly at unmapped blocks`, async () => {
      const out = join(dir, `v${v}.img`);
      const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v${v}`, `${VECTORS}test.image.gz`, out]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      expect(sha256(readFileSync(out))).toBe(TEST_IMAGE_SHA);
      await expectSameHoles(out, `${VECTORS}test.image.bmap.v${v}`);
    });
  }

  it('--no-verify copies the same bytes', () => {
    const out = join(dir, 'nv.img');
    expect(run(['copy', '--no-verify', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, out]).status).toBe(0);
    expect(sha256(readFileSync(out))).toBe(TEST_IMAGE_SHA);
  });

  it('discovers the bmap next to the image and prints the reference info lines', () => {
    copyFileSync(`${VECTORS}test.image.gz`, join(dir, 'disc.img.gz'));
    copyFileSync(`${VECTORS}test.image.bmap.v2.0`, join(dir, 'disc.img.bmap'));
    const r = spawnSync(process.execPath, [BIN, 'copy', 'disc.img.gz', 'disc.out'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      "bmaptool: info: discovered bmap file 'disc.img.bmap'",
      'bmaptool: info: block map format version 2.0',
      'bmaptool: info: 201 blocks of size 4096 (802.5 KiB), mapped 117 blocks (468.0 KiB or 58.2%)',
      "bmaptool: info: copying image 'disc.img.gz' to file 'disc.out' using bmap file 'disc.img.bmap'",
      "bmaptool: info: synchronizing 'disc.out'",
    ]);
    expect(lines[5]).toMatch(/^bmaptool: info: copying time: \d+\.\ds, copying speed [\d.]+ (bytes|KiB|MiB|GiB)\/sec$/);
    expect(lines[6]).toBe('');
  });

  it('from stdin: redirected from the file, and through a pipe (gzip detected by magic)', () => {
    for (const [cmd, out] of [
      [`BMAPTOOL -q copy --bmap '${VECTORS}test.image.bmap.v2.0' - stdin1.img < '${VECTORS}test.image.gz'`, 'stdin1.img'],
      [`cat '${VECTORS}test.image.gz' | BMAPTOOL -q copy --bmap '${VECTORS}test.image.bmap.v2.0' - stdin2.img`, 'stdin2.img'],
    ] as const) {
      const r = shellRun(cmd);
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, out)))).toBe(TEST_IMAGE_SHA);
    }
  });

  it('an uncompressed local image is read at the mapped ranges', async () => {
    sh(`gunzip -c '${VECTORS}test.image.gz' > raw.img`);
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v1.3`, join(dir, 'raw.img'), join(dir, 'raw.out')]);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(join(dir, 'raw.out')))).toBe(TEST_IMAGE_SHA);
    await expectSameHoles(join(dir, 'raw.out'), `${VECTORS}test.image.bmap.v1.3`);
  });

  it('writes the exact info lines of the reference for vector A', () => {
    vectorA(join(dir, 'a.raw'));
    expect(run(['create', '-o', join(dir, 'a.raw.bmap'), join(dir, 'a.raw')]).status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, 'copy', 'a.raw', 'a.out'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr.split('\n').slice(0, 4)).toEqual([
      "bmaptool: info: discovered bmap file 'a.raw.bmap'",
      'bmaptool: info: block map format version 2.0',
      'bmaptool: info: 256 blocks of size 4096 (1.0 MiB), mapped 6 blocks (24.0 KiB or 2.3%)',
      "bmaptool: info: copying image 'a.raw' to file 'a.out' using bmap file 'a.raw.bmap'",
    ]);
    expect(statSync(join(dir, 'a.out')).blocks * 512).toBe(24 * 1024);
  });
});

describe('copy: every compression format, made by the real tools, with and without a bmap', () => {
  const FORMATS: Array<[string, string, string]> = [
    ['gzip', 'gzip', 'gzip -c img > img.gz'],
    ['pigz', 'pigz', 'pigz -c -p 2 -b 128 img > img.pigz.gz'],
    ['bzip2', 'bzip2', 'bzip2 -c img > img.bz2'],
    ['pbzip2', 'pbzip2', 'pbzip2 -c -b1 -p2 img > img.p.bz2'],
    ['xz', 'xz', 'xz -c img > img.xz'],
    ['xz -T2', 'xz', 'xz -c -T2 --block-size=1MiB img > img.mt.xz'],
    ['zstd', 'zstd', 'zstd -q -c img > img.zst'],
    ['lz4', 'lz4', 'lz4 -q -c img > img.lz4'],
    ['lzop', 'lzop', 'lzop -c img > img.lzo'],
  ];
  let content: Uint8Array;
  beforeAll(() => {
    const blocks = [...new Set(Array.from({ length: 400 }, (_, i) => (i * i * 7 + 3) % 1500))];
    content = sparseImage(join(dir, 'img'), 1500 * 4096 - 999, blocks);
    expect(run(['create', '-o', join(dir, 'img.bmap'), join(dir, 'img')]).status).toBe(0);
  });

  for (const [label, tool, cmd] of FORMATS) {
    it.skipIf(!has(tool))(`${label}: path, stdin and --nobmap give the image back`, async () => {
      sh(cmd);
      const file = cmd.split('> ')[1]!;
      const bmap = join(dir, 'img.bmap');
      const out = join(dir, `${file}.out`);
      let r = run(['copy', '--bmap', bmap, join(dir, file), out]);
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(content));
      await expectSameHoles(out, bmap);
      const viaStdin = shellRun(`cat ${file} | BMAPTOOL -q copy --bmap img.bmap - ${file}.stdin`);
      expect(viaStdin.status, viaStdin.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, `${file}.stdin`)))).toBe(sha256(content));
      r = run(['copy', '--nobmap', join(dir, file), `${out}.nobmap`]);
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(`${out}.nobmap`))).toBe(sha256(content));
    });
    if (!has(tool)) console.log(`skipping the ${label} copy: ${tool} is not installed`);
  }

  it('--nobmap from a raw file, from stdin and from a pipe', () => {
    expect(run(['copy', '--nobmap', join(dir, 'img'), join(dir, 'nb1')]).status).toBe(0);
    expect(sha256(readFileSync(join(dir, 'nb1')))).toBe(sha256(content));
    for (const cmd of ['BMAPTOOL -q copy --nobmap - nb2 < img', 'cat img | BMAPTOOL -q copy --nobmap - nb3']) expect(shellRun(cmd).status).toBe(0);
    expect(sha256(readFileSync(join(dir, 'nb2')))).toBe(sha256(content));
    expect(sha256(readFileSync(join(dir, 'nb3')))).toBe(sha256(content));
  });
});
