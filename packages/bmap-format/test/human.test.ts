import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { formatFixed1, humanSize, humanTime, mappedPercent } from '../src/index.js';
import { skipNote } from '../../../tools/test-needs.js';

describe('human_size (bmap-format.md §8.3)', () => {
  it.each([
    [0, '0 bytes'],
    [1, '1 byte'],
    [2, '2 bytes'],
    [511, '511 bytes'],
    [512, '0.5 KiB'],
    [1280, '1.2 KiB'], // exact tie, to even
    [1792, '1.8 KiB'], // exact tie, to even
    [10000, '9.8 KiB'],
    [24576, '24.0 KiB'],
    [1048575, '1024.0 KiB'],
    [1048576, '1.0 MiB'],
    [821752, '802.5 KiB'],
    [4 * 2 ** 30, '4.0 GiB'],
    [2 ** 40, '1.0 TiB'],
    [2 ** 50, '1.0 PiB'], // the reference says "1024.0 EiB"
    [2 ** 60, '1.0 EiB'],
  ])('%d bytes -> %s', (n, s) => expect(humanSize(n)).toBe(s));
});

describe('percentages and Python rounding', () => {
  it.each([
    [1, 16, '6.2'],
    [1, 400, '0.2'],
    [3, 16, '18.8'],
    [6, 256, '2.3'],
    [117, 201, '58.2'],
    [255, 256, '99.6'],
    [0, 256, '0.0'],
    [1, 1, '100.0'],
    [1, 3, '33.3'],
  ])('%d of %d blocks -> %s%%', (m, b, s) => expect(mappedPercent(m, b)).toBe(s));

  it('rounds exact ties to even and everything else to nearest', () => {
    expect(formatFixed1(0.25)).toBe('0.2');
    expect(formatFixed1(0.75)).toBe('0.8');
    expect(formatFixed1(2.25)).toBe('2.2');
    expect(formatFixed1(2.35)).toBe('2.4'); // 2.35 is stored as 2.35000000000000008882
    expect(formatFixed1(0.05)).toBe('0.1'); // 0.05 is stored above the tie
    expect(formatFixed1(0.15)).toBe('0.1'); // 0.15 is stored below the tie
    expect(formatFixed1(1023.95)).toBe('1024.0'); // stored above the tie
  });
});

describe('human_time (bmaptool-behaviour.md §10)', () => {
  it.each([
    [0.04, '0.0s'],
    [59.99, '60.0s'],
    [60, '1m 0.0s'],
    [3600, '1h 0.0s'],
    [3725.2, '1h 2m 5.2s'],
    [0.25, '0.2s'],
  ])('%d s -> %s', (t, s) => expect(humanTime(t)).toBe(s));
});

describe("agreement with Python's %.1f", () => {
  const python = spawnSync('python3', ['--version']).status === 0;
  it.skipIf(!python)('formats 3000 sizes, percentages and ties exactly as Python does', () => {
    const values: number[] = [];
    for (let k = 1; k < 1000; k++) values.push(k / 4, k / 8 + 0.05, (k * 100) / 3);
    for (let i = 0; i < 600; i++) values.push((i * 7919) / 1024, (i * 104729) / 1048576);
    const out = spawnSync('python3', ['-c', 'import sys\nfor l in sys.stdin: print("%.1f" % float(l))'], {
      input: values.map((v) => v.toString()).join('\n') + '\n',
      encoding: 'utf8',
    });
    expect(out.status).toBe(0);
    expect(values.map(formatFixed1)).toEqual(out.stdout.trim().split('\n'));
  });
  if (!python) skipNote('Python cross-check: python3 is not installed');
});
