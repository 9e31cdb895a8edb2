#!/usr/bin/env node
// Reproducible benchmark workloads: sparse disk images of a given size and
// mapped amount, the same bytes for the same arguments.
//
//   node tools/make-image.mjs fs-like OUT --size 4G --mapped 750M [--seed N]
//     an ext4 filesystem made by `mkfs.ext4 -d` from a directory of files:
//     few, large mapped ranges, like a real root filesystem image
//   node tools/make-image.mjs random-sparse OUT --size 4G --mapped 750M [--seed N]
//     runs of 1-64 mapped blocks scattered at random: many small ranges
//
// Data is an AES-CTR keystream seeded by --seed: incompressible and fast.
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const UNITS = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
function bytes(s) {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(String(s));
  if (!m) throw new Error(`not a size: ${s} (e.g. 4G, 750M)`);
  return Math.round(Number(m[1]) * (UNITS[m[2].toUpperCase()] ?? 1));
}

function keystream(seed) {
  const key = createHash('sha256').update(`bmapkit-bench-${seed}`).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return (n) => cipher.update(Buffer.alloc(n));
}

function lcg(seed) {
  let x = BigInt(seed) || 1n;
  return (n) => {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number((x >> 33n) % BigInt(n));
  };
}

function fsLike(out, size, mapped, seed) {
  const src = mkdtempSync(join(tmpdir(), 'bmapkit-bench-src-'));
  try {
    const data = keystream(seed);
    const rnd = lcg(seed);
    let left = Math.floor(mapped * 0.97); // ext4 metadata takes the rest
    let i = 0;
    while (left > 0) {
      const d = join(src, `dir${i % 37}`);
      mkdirSync(d, { recursive: true });
      // mostly small files, some large ones, as on a root filesystem
      const n = Math.min(left, rnd(10) < 8 ? 4096 + rnd(256 * 1024) : (1 << 20) + rnd(64 << 20));
      const fd = openSync(join(d, `file${i++}`), 'w');
      for (let off = 0; off < n; off += 1 << 20) writeSync(fd, data(Math.min(1 << 20, n - off)));
      closeSync(fd);
      left -= n;
    }
    rmSync(out, { force: true });
    const r = spawnSync('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,nodiscard', '-d', src, out, `${Math.floor(size / 1024)}K`], {
      encoding: 'utf8',
      env: { ...process.env, E2FSPROGS_FAKE_TIME: '1700000000' },
    });
    if (r.status !== 0) throw new Error(`mkfs.ext4 failed: ${r.stderr || r.error}`);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}

function randomSparse(out, size, mapped, seed) {
  const data = keystream(seed);
  const rnd = lcg(seed);
  const blocks = Math.floor(size / 4096);
  const fd = openSync(out, 'w');
  ftruncateSync(fd, size);
  let left = Math.floor(mapped / 4096);
  const density = mapped / size;
  let b = 0;
  while (left > 0 && b < blocks) {
    const run = Math.min(left, 1 + rnd(64), blocks - b);
    writeSync(fd, data(run * 4096), 0, run * 4096, b * 4096);
    left -= run;
    // a gap that keeps the mapped fraction even across the image
    b += run + Math.max(1, Math.round((run * (1 - density)) / density * (0.5 + rnd(1000) / 1000)));
  }
  closeSync(fd);
}

const [kind, out, ...rest] = process.argv.slice(2);
const opts = { size: '4G', mapped: '750M', seed: '1' };
for (let i = 0; i < rest.length; i += 2) opts[rest[i].replace(/^--/, '')] = rest[i + 1];
if (!out || !['fs-like', 'random-sparse'].includes(kind)) {
  console.error('usage: node tools/make-image.mjs fs-like|random-sparse OUT [--size 4G] [--mapped 750M] [--seed N]');
  process.exit(2);
}
mkdirSync(dirname(out), { recursive: true });
const size = bytes(opts.size);
const mapped = bytes(opts.mapped);
(kind === 'fs-like' ? fsLike : randomSparse)(out, size, mapped, Number(opts.seed));
console.log(`${out}: ${kind}, ${size} bytes, about ${mapped} mapped (seed ${opts.seed})`);
