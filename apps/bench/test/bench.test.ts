import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jobLimit, measure, median, summarise, table } from '../src/index.js';
import { skipNote } from '../../../tools/test-needs.js';

const BENCH = fileURLToPath(new URL('../dist/bench.js', import.meta.url));

describe('statistics and the report', () => {
  it('median of odd and even samples', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('a table with ratios against the reference', () => {
    const t = table([summarise('bmapkit', [{ wall: 1, rssMB: 50 }, { wall: 3, rssMB: 70 }, { wall: 2, rssMB: 60 }]), summarise('bmaptool', [{ wall: 4, rssMB: 20 }])], 'bmaptool');
    expect(t.split('\n')).toEqual([
      'tool      median wall  peak RSS  vs bmaptool',
      'bmapkit   2.000 s      60 MB     0.50x      ',
      'bmaptool  4.000 s      20 MB     1.00x      ',
    ]);
  });

  it('limit rows: each tool against the slowest part of the job measured alone', () => {
    const one = (tool: string, wall: number, rssMB: number) => summarise(tool, [{ wall, rssMB }]);
    const rs = [one('bmapkit', 3, 90), one('bmaptool', 6, 30), one('limit: decode (zstd)', 2, 5), one('limit: write mapped', 1.5, 60)];
    expect(jobLimit(rs)).toBe(2);
    expect(table(rs, 'bmaptool').split('\n')).toEqual([
      'tool                  median wall  peak RSS  vs bmaptool  vs limit',
      'bmapkit               3.000 s      90 MB     0.50x        1.50x   ',
      'bmaptool              6.000 s      30 MB     1.00x        3.00x   ',
      'limit: decode (zstd)  2.000 s      5 MB      0.33x                ',
      'limit: write mapped   1.500 s      60 MB     0.25x                ',
    ]);
    expect(jobLimit(rs.slice(0, 2))).toBeUndefined();
  });

  it('measures a real process: wall time and peak RSS', () => {
    const s = measure([process.execPath, '-e', 'const b = Buffer.alloc(64 << 20, 1); setTimeout(() => b, 200)']);
    expect(s.wall).toBeGreaterThan(0.15);
    if (s.rssMB !== undefined) expect(s.rssMB).toBeGreaterThan(64);
  });

  it('a failing command is an error, not a sample', () => {
    expect(() => measure([process.execPath, '-e', 'process.exit(3)'])).toThrow(/failed \(3\)/);
  });
});

describe('pnpm bench create, end to end on a small image', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-bench-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['random-sparse', 'fs-like']) {
    const hasMkfs = kind !== 'fs-like' || spawnSync('mkfs.ext4', ['-V']).status === 0;
    it.skipIf(!hasMkfs)(`${kind}: generates the workload, runs interleaved, reports JSON`, () => {
      const json = join(dir, `${kind}.json`);
      const r = spawnSync(process.execPath, [BENCH, 'create', '--kind', kind, '--size', '64M', '--mapped', '8M', '--runs', '2', '--dir', dir, '--json', json], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^tool +median wall +peak RSS +vs bmaptool$/m);
      const report = JSON.parse(readFileSync(json, 'utf8'));
      expect(report.benchmark).toBe('create');
      expect(report.mappedBlocks).toBeGreaterThan(2000);
      expect(report.results[0].tool).toBe('bmapkit');
      expect(report.results[0].wallSeconds).toHaveLength(2);
      const hasRef = spawnSync('bmaptool', ['--version']).status === 0;
      expect(report.results).toHaveLength(hasRef ? 2 : 1);
      if (hasRef) expect(report.ratio).toBeGreaterThan(0);
    }, 120_000);
    if (!hasMkfs) skipNote('fs-like bench run: mkfs.ext4 is not installed (apt-get install e2fsprogs)');
  }
});

describe('limits.js: the parts of a copy alone', () => {
  const LIMITS = fileURLToPath(new URL('../dist/limits.js', import.meta.url));
  const CLI = fileURLToPath(new URL('../../cli/dist/bmaptool.js', import.meta.url));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-limits-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('write puts bytes at the mapped ranges of DEST and nowhere else; hash reads the image', () => {
    const image = join(dir, 'sparse.img');
    const fd = openSync(image, 'w');
    writeSync(fd, Buffer.alloc(12288, 7), 0, 12288, 1 << 20); // blocks 256-258
    writeSync(fd, Buffer.alloc(4096, 9), 0, 4096, 5 << 20); // block 1280
    ftruncateSync(fd, 8 << 20);
    closeSync(fd);
    const bmap = join(dir, 'sparse.bmap');
    const c = spawnSync(process.execPath, [CLI, 'create', '-o', bmap, image], { encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    const dest = join(dir, 'dest.img');
    const w = spawnSync(process.execPath, [LIMITS, 'write', bmap, dest, '--size', '8192'], { encoding: 'utf8' });
    expect(w.status, w.stderr).toBe(0);
    const got = readFileSync(dest);
    expect(got.length).toBe((5 << 20) + 4096); // truncated, then only the mapped bytes
    const written = (i: number) => (i >= 1 << 20 && i < (1 << 20) + 12288) || i >= 5 << 20;
    for (let i = 0; i < got.length; i += 512) expect(got[i] !== 0, `byte ${i}`).toBe(written(i));
    const h = spawnSync(process.execPath, [LIMITS, 'hash', bmap, image], { encoding: 'utf8' });
    expect(h.status, h.stderr).toBe(0);
    expect(spawnSync(process.execPath, [LIMITS, 'hash', bmap, join(dir, 'missing.img')]).status).not.toBe(0);
    // decode: the decompress stage alone; a corrupt stream fails it
    writeFileSync(`${image}.gz`, gzipSync(readFileSync(image)));
    const d = spawnSync(process.execPath, [LIMITS, 'decode', `${image}.gz`], { encoding: 'utf8' });
    expect(d.status, d.stderr).toBe(0);
    const gz = readFileSync(`${image}.gz`);
    writeFileSync(`${image}.bad.gz`, gz.subarray(0, gz.length - 20));
    expect(spawnSync(process.execPath, [LIMITS, 'decode', `${image}.bad.gz`]).status).not.toBe(0);
  });
});
