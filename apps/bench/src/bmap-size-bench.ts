import { closeSync, createWriteStream, existsSync, ftruncateSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { serializeBmapStream, type BlockRange, type RangeList } from '@bmapkit/bmap-format';
import { measure } from './measure.js';

/**
 * Memory against the bmap's size: a bmap of N single-block ranges (512-byte
 * blocks, every other block mapped) over an image that is all holes (so each
 * range's checksum is that of 512 zero bytes), and the peak RSS and time of
 * check, verify and copy (raw and gzip) with it.
 */
export async function bmapSizeBench(o: { repo: string; dir: string; ranges: number; destDir: string; log: (s: string) => void }): Promise<string> {
  mkdirSync(o.dir, { recursive: true });
  const bmap = join(o.dir, `ranges-${o.ranges}.bmap`);
  const image = join(o.dir, `ranges-${o.ranges}.img`);
  if (!existsSync(bmap)) {
    o.log(`writing ${bmap} (${o.ranges} ranges) ...`);
    await writeBmap(bmap, o.ranges);
  }
  if (!existsSync(image)) {
    const fd = openSync(image, 'w');
    ftruncateSync(fd, 2 * o.ranges * 512);
    closeSync(fd);
  }
  const gz = `${image}.gz`;
  if (!existsSync(gz) && spawnSync('sh', ['-c', `gzip -1 -c '${image}' > '${gz}'`]).status !== 0) rmSync(gz, { force: true });
  const cli = join(o.repo, 'apps', 'cli', 'dist', 'bmaptool.js');
  const out = join(o.destDir, 'bench-bmap-size.out');
  const jobs: Array<[string, string[]]> = [
    ['check', ['check', bmap]],
    ['verify (raw)', ['verify', '--bmap', bmap, image]],
    ['copy (raw)', ['copy', '--bmap', bmap, image, out]],
  ];
  if (existsSync(gz)) jobs.push(['verify (.gz)', ['verify', '--bmap', bmap, gz]], ['copy (.gz)', ['copy', '--bmap', bmap, gz, out]]);
  const lines = [`bmap of ${o.ranges} ranges (${(o.ranges / 1e6).toFixed(2)} million), one 512-byte block each`, 'job            wall      peak RSS'];
  for (const [name, args] of jobs) {
    o.log(`${name} ...`);
    const s = measure([process.execPath, cli, '-q', ...args]);
    lines.push(`${name.padEnd(14)} ${s.wall.toFixed(2).padStart(7)} s ${s.rssMB === undefined ? '?' : `${s.rssMB.toFixed(0).padStart(5)} MB`}`);
  }
  rmSync(out, { force: true });
  return lines.join('\n');
}

async function writeBmap(path: string, n: number): Promise<void> {
  const zero = createHash('sha256').update(Buffer.alloc(512)).digest('hex');
  const ranges: RangeList = {
    length: n,
    at: (i: number): BlockRange | undefined => (i >= 0 && i < n ? { first: 2 * i, last: 2 * i, checksum: zero } : undefined),
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) yield { first: 2 * i, last: 2 * i, checksum: zero };
    },
  };
  const bmap = { version: '2.0', imageSize: 2 * n * 512, blockSize: 512, blocksCount: 2 * n, mappedBlocksCount: n, checksumType: 'sha256', ranges };
  const out = createWriteStream(path);
  for await (const piece of serializeBmapStream(bmap) as unknown as AsyncIterable<Uint8Array>) {
    if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve) => out.end(resolve));
}
