import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, median, summarise, table } from '../src/index.js';
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
