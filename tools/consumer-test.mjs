#!/usr/bin/env node
// bmapkit as a user installs it: every publishable package packed (pnpm
// pack, with the prebuilt addons), the tarballs installed with npm into an
// empty project on each Node version, with no C compiler, make or python on
// PATH, then the installed `bmaptool` run on the bundled sample (create,
// copy raw, .gz and .zst, verify) and every package imported from an ESM
// script, and once more with pnpm (whose install skips dependencies' build
// scripts). Run by .ci/run; needs a built workspace (pnpm build) and the
// cross compiler for the arm64 prebuild (else x64 only, said so).
//
//   node tools/consumer-test.mjs [--node 20,22,24,26] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { nodeBinary } from './node-binaries.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, fallback) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const versions = arg('--node', '20,22,24,26').split(',');
const work = mkdtempSync(join(tmpdir(), 'bmapkit-consumer-'));
const failures = [];

function step(what, fn) {
  try {
    fn();
    console.log(`  ok   ${what}`);
  } catch (e) {
    failures.push(`${what}: ${e.message.split('\n').slice(0, 6).join(' | ')}`);
    console.log(`  FAIL ${what}\n       ${e.message.split('\n').slice(0, 6).join('\n       ')}`);
  }
}
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000, ...opts });
  if (r.error !== undefined || r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} exited ${r.status ?? r.error}:\n${r.stderr}${r.stdout}`);
  return r;
};

// 1. the prebuilt addons and the tarballs
console.log('== packing');
const prebuilt = spawnSync(process.execPath, [join(ROOT, 'packages/native/scripts/prebuilds.mjs')], { encoding: 'utf8' });
if (prebuilt.status !== 0) {
  console.log(`prebuilds: ${prebuilt.stderr.trim()}; packing the x64 prebuild only`);
  run(process.execPath, [join(ROOT, 'packages/native/scripts/prebuilds.mjs'), '--arch', 'x64']);
}
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);
const packages = [...readdirSync(join(ROOT, 'packages')).map((d) => join(ROOT, 'packages', d)), join(ROOT, 'apps', 'cli')].filter(
  (d) => existsSync(join(d, 'package.json')) && !JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).private,
);
for (const dir of packages) run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
const files = readdirSync(tarballs).map((f) => join(tarballs, f));
console.log(`${files.length} tarballs: ${readdirSync(tarballs).join(', ')}`);
const nativeTarball = files.find((f) => f.includes('native'));
const listing = run('tar', ['-tzf', nativeTarball]).stdout;
for (const want of ['package/prebuilds/linux-x64/', 'package/LICENSE']) if (!listing.includes(want)) failures.push(`${nativeTarball} lacks ${want}`);
console.log(`native tarball: ${listing.includes('linux-arm64') ? 'x64 and arm64 prebuilds' : 'x64 prebuild only'}`);

// 2. the sample, as a user has it
const sample = join(work, 'sample');
mkdirSync(sample);
copyFileSync(join(ROOT, 'samples/sample.img.gz'), join(sample, 'sample.img.gz'));
copyFileSync(join(ROOT, 'samples/sample.img.bmap'), join(sample, 'sample.img.bmap'));
const raw = gunzipSync(readFileSync(join(sample, 'sample.img.gz')));
const hasZstd = spawnSync('zstd', ['-q', '-f', '-o', join(sample, 'sample.img.zst')], { input: raw }).status === 0;
if (!hasZstd) console.log('the .zst copies are left out: zstd is not installed');
const hasXz = spawnSync('sh', ['-c', `xz -c > '${join(sample, 'sample.img.xz')}'`], { input: raw }).status === 0;
if (!hasXz) console.log('the .xz copies are left out: xz is not installed');

const IMPORTS = `
import { strict as assert } from 'node:assert';
const m = {};
for (const p of ['bmap-format', 'decompress-stream', 'device-guard', 'extent-source', 'native', 'range-writer', 'pipeline', 'signature', 'verifier', 'cli']) m[p] = await import('@bmapkit/' + p);
assert.equal(typeof m['bmap-format'].parseBmap, 'function');
assert.equal(typeof m['decompress-stream'].decompress, 'function');
assert.equal(typeof m['range-writer'].rangeWriter, 'function');
assert.equal(typeof m.cli.main, 'function');
assert.equal(typeof m.pipeline.copyImage, 'function');
assert.ok(m.native.nativeAvailable(), 'the addon loads');
for (const kind of ['zstd', 'xz', 'gzip']) { const d = m.native.openDecoder(kind); assert.ok(d, kind + ' decodes in process'); d.close(); }
assert.ok(m.native.canDigestFiles('sha256'), 'the addon hashes with Node\\'s OpenSSL');
const bmap = await m['bmap-format'].parseBmap((await import('node:fs')).readFileSync('sample.img.bmap'));
assert.equal(bmap.ranges.length > 0, true);
console.log(Object.keys(m).length + ' packages imported; addon from ' + (await import('node-gyp-build')).default.resolve((await import('node:path')).dirname((await import('node:module')).createRequire(import.meta.url).resolve('@bmapkit/native/package.json'))));
`;

// 3. each Node version: an npm install with nothing to build with, then the commands
const npmCli = join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm', 'bin', 'npm-cli.js');
for (const v of versions) {
  const node = v === process.versions.node.split('.')[0] ? { path: process.execPath } : nodeBinary(v);
  console.log(`== Node ${v}`);
  if (node.path === undefined) {
    failures.push(`Node ${v}: ${node.reason}`);
    console.log(`  FAIL ${node.reason}`);
    continue;
  }
  const project = join(work, `node${v}`);
  const bin = join(project, '.bin-only');
  mkdirSync(bin, { recursive: true });
  // PATH: this node, npm run by it, and sh for npm's lifecycle scripts; no cc, make or python
  symlinkSync(node.path, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec '${node.path}' '${npmCli}' "$@"\n`, { mode: 0o755 });
  for (const f of readdirSync(sample)) copyFileSync(join(sample, f), join(project, f));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // the machine's settings (registry, certificates) stay; only PATH changes
  const env = { ...process.env, PATH: bin, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
  const version = run(join(bin, 'node'), ['--version'], { env }).stdout.trim();
  for (const tool of ['cc', 'gcc', 'make', 'python3']) if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status === 0) failures.push(`Node ${v}: ${tool} is on PATH`);
  const bmaptool = (args) => run(join(project, 'node_modules', '.bin', 'bmaptool'), args, { cwd: project, env });
  step(`${version}: npm install of ${files.length} tarballs, nothing compiled`, () => {
    const r = run(join(bin, 'npm'), ['install', '--no-save', ...files], { cwd: project, env, timeout: 600_000 });
    const said = `${r.stdout}${r.stderr}`;
    if (/building it from source|node-gyp|gyp ERR|not built/.test(said)) throw new Error(`the install built or failed to build the addon:\n${said}`);
  });
  step(`${version}: bmaptool copy sample.img.gz (bmap found beside it)`, () => {
    bmaptool(['copy', 'sample.img.gz', 'from-gz.img']);
    if (!readFileSync(join(project, 'from-gz.img')).equals(raw)) throw new Error('from-gz.img differs from the sample');
  });
  step(`${version}: bmaptool create gives the sample's bmap back, byte for byte`, () => {
    const made = bmaptool(['create', 'from-gz.img']).stdout;
    if (made !== readFileSync(join(project, 'sample.img.bmap'), 'utf8')) throw new Error('the bmap differs from samples/sample.img.bmap');
  });
  step(`${version}: bmaptool copy of the raw image`, () => {
    bmaptool(['copy', '--bmap', 'sample.img.bmap', 'from-gz.img', 'from-raw.img']);
    if (!readFileSync(join(project, 'from-raw.img')).equals(raw)) throw new Error('from-raw.img differs from the sample');
  });
  if (hasZstd) {
    step(`${version}: bmaptool copy sample.img.zst`, () => {
      bmaptool(['copy', 'sample.img.zst', 'from-zst.img']);
      if (!readFileSync(join(project, 'from-zst.img')).equals(raw)) throw new Error('from-zst.img differs from the sample');
    });
  }
  // Without the addon's decoders (and with no programs on PATH): the in-process
  // libraries where this Node has them, else a one-line error naming the program.
  const [major, minor] = version.slice(1).split('.').map(Number);
  const off = { ...env, BMAPKIT_NO_NATIVE_DECODERS: '1' };
  for (const [ext, has, since, lib] of [['zst', hasZstd, [22, 15], 'node:zlib'], ['xz', hasXz, [22, 20], '@napi-rs/lzma']]) {
    if (!has) continue;
    const inProcess = major > since[0] || (major === since[0] && minor >= since[1]);
    step(`${version}: .${ext} without the addon's decoder: ${inProcess ? lib : 'a clear error (no program, no library)'}`, () => {
      const r = spawnSync(join(project, 'node_modules', '.bin', 'bmaptool'), ['copy', `sample.img.${ext}`, `lib-${ext}.img`], { cwd: project, env: off, encoding: 'utf8' });
      if (inProcess) {
        if (r.status !== 0) throw new Error(r.stderr);
        if (!readFileSync(join(project, `lib-${ext}.img`)).equals(raw)) throw new Error(`lib-${ext}.img differs from the sample`);
      } else if (r.status !== 1 || !/program is not available .*; install it/.test(r.stderr) || r.stderr.trim().split('\n').length !== 1) {
        throw new Error(`expected one 'program is not available' error line, got status ${r.status}: ${r.stderr}`);
      }
    });
  }
  step(`${version}: bmaptool verify`, () => {
    bmaptool(['verify', '--bmap', 'sample.img.bmap', 'from-raw.img']);
  });
  step(`${version}: every package imports from ESM; the addon loads, decodes zstd, xz, gzip and hashes in process`, () => {
    writeFileSync(join(project, 'imports.mjs'), IMPORTS);
    const out = run(join(bin, 'node'), ['imports.mjs'], { cwd: project, env }).stdout.trim();
    if (!/prebuilds\/linux-x64\//.test(out)) throw new Error(`the addon is not the prebuild: ${out}`);
    console.log(`       ${out.replace(project, '.')}`);
  });
}

// 4. pnpm, on this Node: pnpm 10 runs no dependency's install script until it
// is approved, so the prebuild must be found with no install step at all.
if (spawnSync('pnpm', ['--version']).status === 0) {
  console.log('== pnpm (install scripts not approved)');
  const project = join(work, 'pnpm');
  mkdirSync(project);
  for (const f of readdirSync(sample)) copyFileSync(join(sample, f), join(project, f));
  const overrides = Object.fromEntries(files.map((f) => [`@bmapkit/${/^bmapkit-(.*)-\d+\.\d+\.\d+\.tgz$/.exec(basename(f))[1]}`, `file:${f}`]));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { '@bmapkit/cli': overrides['@bmapkit/cli'] }, pnpm: { overrides } }));
  const env = { ...process.env, npm_config_store_dir: join(work, 'pnpm-store') };
  step('pnpm install, then bmaptool create and copy (raw, .gz) with the prebuild', () => {
    run('pnpm', ['install'], { cwd: project, env, timeout: 600_000 });
    const bmaptool = (args) => run(join(project, 'node_modules', '.bin', 'bmaptool'), args, { cwd: project, env });
    bmaptool(['copy', 'sample.img.gz', 'from-gz.img']);
    if (bmaptool(['create', 'from-gz.img']).stdout !== readFileSync(join(project, 'sample.img.bmap'), 'utf8')) throw new Error('the bmap differs from the sample');
    bmaptool(['copy', '--bmap', 'sample.img.bmap', 'from-gz.img', 'from-raw.img']);
    if (!readFileSync(join(project, 'from-raw.img')).equals(raw)) throw new Error('from-raw.img differs from the sample');
  });
}

if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
else console.log(`kept ${work}`);
if (failures.length > 0) {
  console.log(`consumer test: ${failures.length} failed\n${failures.map((f) => `- ${f}`).join('\n')}`);
  process.exit(1);
}
console.log(`consumer test: passed on Node ${versions.join(', ')}`);
