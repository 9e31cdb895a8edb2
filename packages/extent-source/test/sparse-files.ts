// The reference test suite's file generator (bmaptool-behaviour.md §18),
// writing real sparse files and saying which blocks must come out mapped.
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockRange } from '@bmapkit/bmap-format';

export interface TestFile {
  path: string;
  size: number;
  mapped: BlockRange[];
  unmapped: BlockRange[];
  kind: string;
}

/** A small seeded PRNG (mulberry32), so a failing case can be reproduced from its seed. */
export function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
  };
}

/** Runs of equal decisions -> inclusive ranges. */
function runs(decisions: boolean[], want: boolean): BlockRange[] {
  const out: BlockRange[] = [];
  decisions.forEach((d, i) => {
    if (d !== want) return;
    const last = out[out.length - 1];
    if (last && last.last === i - 1) last.last = i;
    else out.push({ first: i, last: i });
  });
  return out;
}

const blocks = (size: number, bs: number) => Math.ceil(size / bs);

export function* generateFiles(dir: string, bs: number, max: number, seed: number): Generator<TestFile> {
  const rnd = prng(seed);
  const randomSizes = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(rnd(max)));
  let serial = 0;
  const name = (kind: string) => join(dir, `${kind}-${serial++}.img`);

  // all holes, made by truncate alone
  for (const size of [bs, bs + 1, bs - 1, 1, ...randomSizes(10)]) {
    const path = name('holes');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
    yield { path, size, kind: 'all holes', mapped: [], unmapped: [{ first: 0, last: blocks(size, bs) - 1 }] };
  }

  // random sparse: truncate first, then a run of one random byte value (maybe 0) in each chosen block
  for (const size of [max, max + 1, max - 1, ...randomSizes(10)]) {
    const path = name('sparse');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, size);
    const decisions: boolean[] = [];
    for (let b = 0; b < blocks(size, bs); b++) {
      const map = rnd(2) >= 1;
      decisions.push(map);
      if (!map) continue;
      const blockLen = Math.min(bs, size - b * bs);
      const offset = Math.floor(rnd(blockLen));
      const len = 1 + Math.floor(rnd(blockLen - offset));
      writeSync(fd, new Uint8Array(len).fill(Math.floor(rnd(256))), 0, len, b * bs + offset);
    }
    ftruncateSync(fd, size);
    fsyncSync(fd);
    closeSync(fd);
    yield { path, size, kind: 'random sparse', mapped: runs(decisions, true), unmapped: runs(decisions, false) };
  }

  // fully mapped: each chunk of up to 1 MiB filled with one random byte
  for (const size of [bs, bs + 1, bs - 1, 1, ...randomSizes(10)]) {
    const path = name('full');
    const fd = openSync(path, 'w');
    for (let off = 0; off < size; off += 1 << 20) {
      const len = Math.min(1 << 20, size - off);
      writeSync(fd, new Uint8Array(len).fill(Math.floor(rnd(256))), 0, len, off);
    }
    fsyncSync(fd);
    closeSync(fd);
    yield { path, size, kind: 'fully mapped', mapped: [{ first: 0, last: blocks(size, bs) - 1 }], unmapped: [] };
  }
}

/** Clips inclusive ranges to blocks [first, first + count). */
export function clip(ranges: BlockRange[], first: number, count: number): BlockRange[] {
  const end = first + count - 1;
  return ranges
    .filter((r) => r.last >= first && r.first <= end)
    .map((r) => ({ first: Math.max(r.first, first), last: Math.min(r.last, end) }));
}
