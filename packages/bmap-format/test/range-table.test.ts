import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { RangeTable, type BlockRange } from '../src/index.js';

const sum = (i: number, alg = 'sha256') => createHash(alg).update(String(i)).digest('hex');
function ranges(n: number, withSum: (i: number) => string | undefined = (i) => sum(i)): BlockRange[] {
  return Array.from({ length: n }, (_, i) => {
    const r: BlockRange = { first: 3 * i, last: 3 * i + (i % 2) };
    const s = withSum(i);
    if (s !== undefined) r.checksum = s;
    return r;
  });
}
const fill = (list: BlockRange[], memory?: number) => {
  const t = new RangeTable(memory);
  for (const r of list) t.push(r);
  return t;
};

describe('RangeTable', () => {
  it('gives back every range as pushed: at(), negative at(), iteration, out of range', () => {
    const list = ranges(50_000);
    const t = fill(list);
    expect(t.length).toBe(50_000);
    expect([...t]).toEqual(list);
    expect(t.at(12_345)).toEqual(list[12_345]);
    expect(t.at(-1)).toEqual(list.at(-1));
    expect(t.at(50_000)).toBeUndefined();
    expect(t.at(1.5)).toBeUndefined();
  });

  it('holds ranges with and without checksums, and checksums of another length apart', () => {
    const list = ranges(40_000, (i) => (i % 3 === 0 ? undefined : i === 7 ? sum(i, 'sha1') : sum(i)));
    expect([...fill(list)]).toEqual(list);
  });

  it('keeps at most its memory budget and reads written-out chunks back exactly, in order and at random', () => {
    const list = ranges(300_000, (i) => sum(i % 1000));
    const t = fill(list, 2 << 20); // about 40000 ranges' worth in memory
    expect(t.bytes).toBeGreaterThan(4 * (2 << 20));
    expect(t.residentBytes).toBeLessThanOrEqual(2 << 20);
    expect([...t]).toEqual(list);
    expect(t.residentBytes).toBeLessThanOrEqual(2 << 20);
    let seed = 5;
    for (let k = 0; k < 2000; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const i = seed % list.length;
      expect(t.at(i)).toEqual(list[i]);
    }
    expect(t.residentBytes).toBeLessThanOrEqual(2 << 20);
    t.dispose();
  });

  it('a table with no checksums in its first chunks keeps later ones once chunks were written out', () => {
    const list = ranges(120_000, (i) => (i < 70_000 ? undefined : sum(i)));
    expect([...fill(list, 1 << 20)]).toEqual(list);
  });
});
