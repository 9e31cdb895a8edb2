#!/usr/bin/env node
// pnpm bench create [--kind fs-like|random-sparse] [--size 4G] [--mapped 660M]
//   [--runs 5] [--dir /var/tmp/bmapkit-bench] [--json FILE] [--no-sha-ext]
// pnpm bench bmap-size [--ranges N]; pnpm bench cancel [--runs N]
// Runs `bmaptool create` of bmapkit and of the Python bmaptool (when
// installed) interleaved on the same image, and prints median wall time,
// peak RSS and the ratio, as a table and as JSON.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { measure, type Sample } from './measure.js';
import { jobLimit, summarise, table, type ToolResult } from './report.js';
import { cpuInfo, ensureImage, type Workload } from './workload.js';
import { copyBench } from './copy-bench.js';
import { bmapSizeBench } from './bmap-size-bench.js';
import { cancelBench } from './cancel-bench.js';
import { codecBench } from './codec-bench.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const [command, ...rest] = process.argv.slice(2);
const opts: Record<string, string> = { kind: 'fs-like', size: '4G', mapped: '660M', runs: '5', dir: '/var/tmp/bmapkit-bench', seed: '1' };
for (let i = 0; i < rest.length; i++) {
  const k = rest[i]!.replace(/^--/, '');
  if (k === 'no-sha-ext') opts[k] = 'yes';
  else opts[k] = rest[++i] ?? '';
}
if (!['create', 'copy', 'bmap-size', 'cancel', 'fuzz', 'codecs'].includes(command ?? '')) {
  console.error(
    'usage: pnpm bench create|copy [--kind fs-like|random-sparse] [--size 4G] [--mapped 660M] [--runs 5] [--dir DIR] [--json FILE] [--no-sha-ext]\n' +
      '       copy also takes [--formats raw,zst,gz,xz] [--dest-dir /dev/shm] [--dest loop] (a loop device over a file in --dest-dir; root)\n' +
      '       create and copy take [--baseline CHECKOUT] (another built checkout\'s CLI runs beside this one); copy raw also runs the stages composed by hand (dist/hand-copy.js)\n' +
      '       pnpm bench bmap-size [--ranges 1000000] [--dir DIR] [--dest-dir /dev/shm]   (peak RSS of check, verify, copy against the bmap\'s size)\n' +
      '       pnpm bench cancel [--runs 3] [--dir DIR] [--dest-dir /dev/shm]   (Ctrl-C to exit, two 1 GiB ranges)\n' +
      '       pnpm bench codecs [--node 20,22,24,26] [--formats zstd,xz,gzip,deflate] [--runs 3] [--size 4G] [--mapped 660M] [--dir DIR]   (the addon\'s decoders against node:zlib, fflate and @napi-rs/lzma, per Node version)\n' +
      '       pnpm bench fuzz [--seconds 600] [--seed 1]   (libFuzzer + ASan on the decoders and FIEMAP, then the test suites on an ASan build of the addon)',
  );
  process.exit(2);
}

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
if (command === 'bmap-size') {
  console.log(await bmapSizeBench({ repo, dir: opts['dir']!, ranges: Number(opts['ranges'] ?? 1_000_000), destDir: opts['dest-dir'] ?? '/dev/shm', log }));
  process.exit(0);
}
if (command === 'fuzz') {
  const fuzz = join(repo, 'tools', 'fuzz.mjs');
  const a = spawnSync(process.execPath, [fuzz, '--seconds', opts['seconds'] ?? '600', '--seed', opts['seed'] ?? '1'], { stdio: 'inherit' });
  const b = spawnSync(process.execPath, [fuzz, '--addon-tests'], { stdio: 'inherit' });
  process.exit(a.status === 0 && b.status === 0 ? 0 : 1);
}
if (command === 'cancel') {
  console.log(await cancelBench({ repo, dir: opts['dir']!, destDir: opts['dest-dir'] ?? '/dev/shm', runs: Number(opts['runs'] ?? 3), log }));
  process.exit(0);
}
const workload: Workload = { kind: opts['kind'] as Workload['kind'], size: opts['size']!, mapped: opts['mapped']!, seed: Number(opts['seed']) };
const image = ensureImage(repo, opts['dir']!, workload, log);
if (command === 'codecs') {
  console.log(codecBench({ repo, image, dir: opts['dir']!, nodes: (opts['node'] ?? '20,22,24,26').split(','), ...(opts['formats'] === undefined ? {} : { formats: opts['formats'].split(',') }), runs: rest.includes('--runs') ? Number(opts['runs']) : 3, log }));
  process.exit(0);
}
// OPENSSL_ia32cap=:~0x20000000 hides the SHA extensions from OpenSSL (Node's and Python's alike).
const env = opts['no-sha-ext'] === 'yes' ? { ...process.env, OPENSSL_ia32cap: ':~0x20000000' } : process.env;
if (command === 'copy') {
  const formats = (opts['formats'] ?? 'raw,zst,gz,xz').split(',');
  const { results, text } = copyBench({ repo, image, workload, runs: Number(opts['runs']), destDir: opts['dest-dir'] ?? '/dev/shm', loop: opts['dest'] === 'loop', formats, baseline: opts['baseline'], env, log });
  const cpu = cpuInfo();
  console.log(`copy: ${image} (${workload.kind}), ${opts['runs']} interleaved runs; cpu: ${cpu.model}, SHA extensions ${cpu.shaExtensions && opts['no-sha-ext'] !== 'yes' ? 'used' : 'not used'}\n`);
  console.log(text);
  const report = {
    benchmark: 'copy',
    image,
    workload,
    runs: Number(opts['runs']),
    node: process.version,
    formats: Object.fromEntries(
      Object.entries(results).map(([f, rs]) => [
        f,
        {
          results: rs.map((r) => ({ tool: r.tool, medianWallSeconds: r.medianWall, medianPeakRssMB: r.medianRssMB, wallSeconds: r.samples.map((x) => x.wall) })),
          ...ratios(rs),
        },
      ]),
    ),
  };
  const json = JSON.stringify(report, null, 2);
  if (opts['json'] !== undefined && opts['json'] !== '-') writeFileSync(opts['json'], `${json}\n`);
  else console.log(json);
  process.exit(0);
}
const bmapkit = join(repo, 'apps', 'cli', 'dist', 'bmaptool.js');
const tools: Array<{ name: string; argv: (out: string) => string[] }> = [
  { name: 'bmapkit', argv: (out) => [process.execPath, bmapkit, 'create', '-o', out, image] },
];
const baseline = opts['baseline'];
if (baseline !== undefined) tools.push({ name: 'baseline', argv: (out) => [process.execPath, join(baseline, 'apps', 'cli', 'dist', 'bmaptool.js'), 'create', '-o', out, image] });
const ref = spawnSync('bmaptool', ['--version'], { encoding: 'utf8' });
if (ref.status === 0) tools.push({ name: 'bmaptool', argv: (out) => ['bmaptool', 'create', '-o', out, image] });
else log('the Python bmaptool is not installed (apt-get install bmap-tools): measuring bmapkit alone');

const out = (name: string) => join(opts['dir']!, `bench-${name}.bmap`);
for (const t of tools) measure(t.argv(out(t.name)), env); // warm the page cache and the code
const ranges = tools.map((t) => readFileSync(out(t.name), 'utf8').split('\n').filter((l) => l.includes('<Range')).join('\n'));
if (ranges.some((r) => r !== ranges[0])) throw new Error('the tools wrote different block maps: not comparable');

const samples = new Map<string, Sample[]>(tools.map((t) => [t.name, []]));
const runs = Number(opts['runs']);
for (let i = 0; i < runs; i++) {
  for (const t of tools) samples.get(t.name)!.push(measure(t.argv(out(t.name)), env));
}
for (const t of tools) rmSync(out(t.name), { force: true });

const results = tools.map((t) => summarise(t.name, samples.get(t.name)!));
const cpu = cpuInfo();
const mappedBlocks = ranges[0]!.split('\n').reduce((n, l) => {
  const m = /> (\d+)(?:-(\d+))? </.exec(l);
  return m ? n + (m[2] === undefined ? 1 : Number(m[2]) - Number(m[1]) + 1) : n;
}, 0);
const report = {
  benchmark: 'create',
  image,
  workload,
  mappedRanges: ranges[0]!.split('\n').length,
  mappedBlocks,
  runs,
  cpu: { ...cpu, cores: (await import('node:os')).availableParallelism(), shaExtensionsUsed: cpu.shaExtensions && opts['no-sha-ext'] !== 'yes' },
  node: process.version,
  referenceVersion: ref.status === 0 ? ref.stdout.trim() : null,
  results: results.map((r) => ({ tool: r.tool, medianWallSeconds: r.medianWall, medianPeakRssMB: r.medianRssMB, wallSeconds: r.samples.map((s) => s.wall) })),
  ratio: results.length === 2 ? results[0]!.medianWall / results[1]!.medianWall : null,
};
console.log(`create: ${image} (${workload.kind}, ${report.mappedRanges} ranges, ${mappedBlocks} mapped blocks), ${runs} interleaved runs`);
console.log(`cpu: ${cpu.model}, ${report.cpu.cores} cores, SHA extensions ${report.cpu.shaExtensionsUsed ? 'used' : 'not used'}`);
console.log(table(results, 'bmaptool'));
const json = JSON.stringify(report, null, 2);
if (opts['json'] !== undefined && opts['json'] !== '-') writeFileSync(opts['json'], `${json}\n`);
else console.log(json);

/** bmapkit's median against bmaptool's and against the job's limit (the slowest of its parts alone). */
function ratios(rs: ToolResult[]): { ratio: number | null; limitSeconds: number | null; ratioToLimit: number | null } {
  const kit = rs.find((r) => r.tool === 'bmapkit')?.medianWall;
  const ref = rs.find((r) => r.tool === 'bmaptool')?.medianWall;
  const limit = jobLimit(rs) ?? null;
  return { ratio: kit !== undefined && ref !== undefined ? kit / ref : null, limitSeconds: limit, ratioToLimit: kit !== undefined && limit !== null ? kit / limit : null };
}
