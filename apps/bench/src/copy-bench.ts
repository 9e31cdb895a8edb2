import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { interleave, type Contender } from './interleave.js';
import { LIMIT, table, type ToolResult } from './report.js';
import type { Workload } from './workload.js';

export interface CopyBenchOptions {
  repo: string;
  image: string;
  workload: Workload;
  runs: number;
  destDir: string;
  /** Copy to a loop device over a file in destDir (root), instead of to a file. */
  loop: boolean;
  formats: string[];
  /** Another checkout whose built CLI runs beside this one (before/after a change). */
  baseline?: string | undefined;
  env: NodeJS.ProcessEnv;
  log: (s: string) => void;
}

/**
 * How each format is made from the raw image (realistic settings: what image
 * builders use), and its decoder's limit: the format's own tool decoding the
 * whole image to /dev/null with two threads where it has them.
 */
const MAKERS: Record<string, { ext: string; cmd: (src: string, out: string) => string; tool: string; decode?: (src: string) => string }> = {
  raw: { ext: '', cmd: () => '', tool: 'true' },
  zst: { ext: '.zst', cmd: (s, o) => `zstd -q -T0 -3 -c '${s}' > '${o}'`, tool: 'zstd', decode: (s) => `zstd -q -dc '${s}' > /dev/null` },
  gz: { ext: '.gz', cmd: (s, o) => `pigz -c -p 2 '${s}' > '${o}'`, tool: 'pigz', decode: (s) => `pigz -dc '${s}' > /dev/null` },
  xz: { ext: '.xz', cmd: (s, o) => `xz -T0 -3 -c '${s}' > '${o}'`, tool: 'xz', decode: (s) => `xz -T2 -dc '${s}' > /dev/null` },
  bz2: { ext: '.bz2', cmd: (s, o) => `pbzip2 -c -p2 '${s}' > '${o}'`, tool: 'pbzip2', decode: (s) => `pbzip2 -dc -p2 '${s}' > /dev/null` },
  lz4: { ext: '.lz4', cmd: (s, o) => `lz4 -q -c '${s}' > '${o}'`, tool: 'lz4', decode: (s) => `lz4 -q -dc '${s}' > /dev/null` },
};

export function copyBench(o: CopyBenchOptions): { results: Record<string, ToolResult[]>; text: string } {
  const bmapkit = join(o.repo, 'apps', 'cli', 'dist', 'bmaptool.js');
  const limits = join(o.repo, 'apps', 'bench', 'dist', 'limits.js');
  const bmap = `${o.image}.bmap`;
  if (!existsSync(bmap)) {
    o.log(`creating ${bmap} ...`);
    const r = spawnSync(process.execPath, [bmapkit, 'create', '-o', bmap, o.image], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('bmapkit create failed');
  }
  const hasRef = spawnSync('bmaptool', ['--version']).status === 0;
  if (!hasRef) o.log('the Python bmaptool is not installed (apt-get install bmap-tools): measuring bmapkit alone');
  const results: Record<string, ToolResult[]> = {};
  const lines: string[] = [];
  const loop = o.loop ? attachLoop(join(o.destDir, 'bench-loop-backing.img'), statSync(o.image).size) : undefined;
  try {
    for (const format of o.formats) copyFormat(format);
  } finally {
    loop?.detach();
  }
  return { results, text: lines.join('\n') };

  function copyFormat(format: string): void {
    const maker = MAKERS[format];
    if (maker === undefined) throw new Error(`unknown format '${format}' (known: ${Object.keys(MAKERS).join(', ')})`);
    if (spawnSync(maker.tool, ['--version'], { stdio: 'ignore' }).error) {
      o.log(`skipping ${format}: ${maker.tool} is not installed`);
      return;
    }
    const src = `${o.image}${maker.ext}`;
    if (!existsSync(src)) {
      o.log(`making ${src} ...`);
      const r = spawnSync('sh', ['-c', maker.cmd(o.image, src)], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`could not make ${src}`);
    }
    const dest = loop?.dev ?? join(o.destDir, `bench-copy-${format}.img`);
    const contenders: Contender[] = [{ name: 'bmapkit', argv: [process.execPath, bmapkit, '-q', 'copy', '--bmap', bmap, src, dest] }];
    if (o.baseline !== undefined) contenders.push({ name: 'baseline', argv: [process.execPath, join(o.baseline, 'apps', 'cli', 'dist', 'bmaptool.js'), '-q', 'copy', '--bmap', bmap, src, dest] });
    // the same copy composed from the stages by hand (raw file to file: what a library user writes)
    if (format === 'raw' && loop === undefined) contenders.push({ name: 'stages by hand', argv: [process.execPath, join(o.repo, 'apps', 'bench', 'dist', 'hand-copy.js'), bmap, src, dest] });
    if (hasRef) contenders.push({ name: 'bmaptool', argv: ['bmaptool', '-q', 'copy', '--bmap', bmap, src, dest] });
    // the job's parts alone, in the same run: decoding, hashing the mapped bytes, writing them to DEST
    // (the format's own tool is a peer, not a limit: pigz decodes the bench image slower than the addon)
    if (maker.decode !== undefined) {
      contenders.push({ name: `${LIMIT}decode`, argv: [process.execPath, limits, 'decode', src] });
      contenders.push({ name: maker.decode('IMAGE').replace(/ '.*$/, '').replace(/ -q/, ''), argv: ['sh', '-c', maker.decode(src)] });
    }
    contenders.push({ name: `${LIMIT}hash mapped`, argv: [process.execPath, limits, 'hash', bmap, o.image] });
    contenders.push({ name: `${LIMIT}write mapped`, argv: [process.execPath, limits, 'write', bmap, dest] });
    const clean = () => (loop === undefined ? rmSync(dest, { force: true }) : undefined);
    results[format] = interleave(contenders, o.runs, o.env, clean);
    clean();
    lines.push(`copy ${format === 'raw' ? 'raw image' : `.${format}`} -> ${loop === undefined ? o.destDir : `${loop.dev} (loop device on ${o.destDir})`}`, table(results[format]!, 'bmaptool'), '');
  }
}

/** A loop device over a sparse file of `size` bytes (detach() also removes the file). */
function attachLoop(backing: string, size: number): { dev: string; detach(): void } {
  const fd = openSync(backing, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  const r = spawnSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(backing, { force: true });
    throw new Error(`cannot attach a loop device (needs root): ${r.stderr.trim()}`);
  }
  const dev = r.stdout.trim();
  return {
    dev,
    detach() {
      spawnSync('losetup', ['-d', dev]);
      rmSync(backing, { force: true });
    },
  };
}
