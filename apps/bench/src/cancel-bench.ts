import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How long Ctrl-C takes to end a copy: an image of two 1 GiB ranges (each
 * range is one hash chain; before the pool jobs could be cancelled, a whole
 * range held a thread), copied raw (read by readExtents) and as .zst (decoded);
 * SIGINT once DEST has `after` MiB, then the time until the
 * process is gone, DEST removed.
 */
export async function cancelBench(o: { repo: string; dir: string; destDir: string; runs: number; log: (s: string) => void }): Promise<string> {
  mkdirSync(o.dir, { recursive: true });
  const image = join(o.dir, 'two-1G-ranges.img');
  const cli = join(o.repo, 'apps', 'cli', 'dist', 'bmaptool.js');
  if (!existsSync(image)) {
    o.log(`writing ${image} (4 GiB, two 1 GiB ranges of data) ...`);
    const fd = openSync(image, 'w');
    const GiB = 1024 ** 3;
    ftruncateSync(fd, 4 * GiB);
    const chunk = Buffer.alloc(8 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + (i >>> 13)) & 0xff;
    for (const start of [GiB / 2, 2.5 * GiB]) for (let off = 0; off < GiB; off += chunk.length) writeSync(fd, chunk, 0, chunk.length, start + off);
    closeSync(fd);
    spawnSync(process.execPath, [cli, 'create', '-o', `${image}.bmap`, image], { stdio: 'inherit' });
  }
  const images: Array<[string, string]> = [['raw', image]];
  const zst = `${image}.zst`;
  if (existsSync(zst) || spawnSync('sh', ['-c', `zstd -q -T0 -1 -c '${image}' > '${zst}'`]).status === 0) images.push(['.zst', zst]);
  const lines = ['path            SIGINT -> exit (ms), each run'];
  for (const [name, src] of images) {
    const times: number[] = [];
    for (let run = 0; run < o.runs; run++) times.push(await interruptOnce(cli, src, `${image}.bmap`, join(o.destDir, 'bench-cancel.out')));
    lines.push(`${name.padEnd(15)} ${times.map((t) => t.toFixed(0)).join(', ')}`);
  }
  return lines.join('\n');
}

/** One copy, interrupted once 64 MiB are written; the milliseconds from the signal to the exit. */
async function interruptOnce(cli: string, image: string, bmap: string, dest: string): Promise<number> {
  rmSync(dest, { force: true });
  const started = Date.now();
  const child = spawn(process.execPath, [cli, '-q', 'copy', '--bmap', bmap, image, dest], { stdio: 'ignore' });
  const exited = new Promise<bigint>((resolve) => child.on('exit', () => resolve(process.hrtime.bigint())));
  const allocated = () => {
    try {
      return statSync(dest).blocks * 512;
    } catch {
      return 0;
    }
  };
  while (allocated() < 64 << 20 && child.exitCode === null && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 2));
  if (child.exitCode !== null) throw new Error('the copy ended before it could be interrupted: use a larger image');
  const t0 = process.hrtime.bigint();
  child.kill('SIGINT');
  const ms = Number((await exited) - t0) / 1e6;
  if (existsSync(dest)) throw new Error(`the interrupted copy left ${dest}`);
  return ms;
}
