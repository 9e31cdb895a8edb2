#!/usr/bin/env node
// Fuzzes the addon's C code with libFuzzer and AddressSanitizer (+ UBSan):
// the in-process decoders (zstd, xz, gzip) and the FIEMAP wrapper.
//
//   node tools/fuzz.mjs [--runs N | --seconds S] [--seed 1] [--target decode,fiemap] [--dir DIR] [--json]
//   node tools/fuzz.mjs --addon-tests   (the whole addon built with ASan, and
//       the native and decoder test suites run against it)
//
// Builds packages/native/fuzz/*.c with clang (Debian: clang, libclang-rt-dev;
// liblzma-dev for xz), makes a seed corpus of real compressed streams
// (truncated, bit-flipped and concatenated variants included), runs each
// target and prints one line per target: executions, crashes, seconds. Exit
// status 0 when nothing crashed, 1 when something did (the crashing input is
// kept and named), 2 when clang or libFuzzer is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const native = fileURLToPath(new URL('../packages/native/', import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const runs = opt('runs', undefined);
const seconds = opt('seconds', runs === undefined ? '30' : undefined);
const seed = opt('seed', '1');
const targets = opt('target', 'decode,fiemap').split(',');
const dir = opt('dir', undefined) ?? mkdtempSync(join(tmpdir(), 'bmapkit-fuzz-'));
mkdirSync(dir, { recursive: true });
const json = args.includes('--json');

/** Why fuzzing cannot run here, or undefined. */
export function fuzzUnavailable() {
  const probe = mkdtempSync(join(tmpdir(), 'bmapkit-fuzz-probe-'));
  try {
    writeFileSync(join(probe, 'p.c'), 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n');
    const r = spawnSync('clang', ['-fsanitize=fuzzer,address', '-o', join(probe, 'p'), join(probe, 'p.c')], { encoding: 'utf8' });
    if (r.error !== undefined) return 'clang is not installed (apt-get install clang libclang-rt-14-dev)';
    if (r.status !== 0) return `clang cannot build a libFuzzer target (apt-get install libclang-rt-14-dev): ${r.stderr.trim().split('\n')[0]}`;
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

function build(target) {
  const sources = {
    decode: ['native/decoders.c', 'native/gzip-decoder.c', 'fuzz/decode-fuzz.c'],
    fiemap: ['native/extents.c', 'fuzz/fiemap-fuzz.c'],
  }[target];
  const out = join(dir, `${target}-fuzz`);
  execFileSync('clang', ['-g', '-O1', '-std=gnu11', '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined', '-o', out, ...sources.map((s) => join(native, s)), '-ldl', '-lpthread'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return out;
}

/** Real streams to start from: each format, several frames or members, and broken variants of them. */
function seedCorpus(target) {
  const corpus = join(dir, `corpus-${target}`);
  mkdirSync(corpus, { recursive: true });
  const put = (name, bytes) => writeFileSync(join(corpus, name), bytes);
  if (target === 'fiemap') {
    put('plain', Buffer.from([16, 0, 0, 40, 1, 0x85, 0x03, 0x90, 0x10, 0xff]));
    put('count-only', Buffer.from([0, 0, 0, 0xff, 0, 0x81, 0x02, 0x81]));
    put('many', Buffer.from([200, 0, 1, 0xff, 1, ...Array.from({ length: 64 }, (_, i) => (i % 2 === 0 ? 0x81 : 0x01))]));
    return corpus;
  }
  const plain = Buffer.concat([Buffer.alloc(20000), Buffer.from('bmapkit '.repeat(3000)), Buffer.alloc(70000, 7)]);
  const streams = { gzip: [gzipSync(plain), Buffer.concat([gzipSync(plain.subarray(0, 1000)), gzipSync(plain.subarray(1000))])] };
  const tool = (program, argv) => {
    const r = spawnSync(program, argv, { input: plain, maxBuffer: 1 << 26 });
    return r.status === 0 ? r.stdout : undefined;
  };
  const zst = tool('zstd', ['-q', '-c', '-3']);
  if (zst !== undefined) streams.zstd = [zst, Buffer.concat([zst, zst]), tool('zstd', ['-q', '-c', '--long=27']) ?? zst];
  const xz = tool('xz', ['-c', '-1']);
  if (xz !== undefined) streams.xz = [xz, Buffer.concat([xz, xz]), tool('xz', ['-c', '-1', '--block-size=16384']) ?? xz];
  const kindByte = { zstd: 0, xz: 1, gzip: 2 };
  for (const [kind, list] of Object.entries(streams)) {
    list.forEach((s, i) => {
      for (const feed of [0, 7, 255]) {
        const head = Buffer.from([kindByte[kind], feed]);
        put(`${kind}-${i}-f${feed}`, Buffer.concat([head, s]));
        put(`${kind}-${i}-f${feed}-cut`, Buffer.concat([head, s.subarray(0, s.length >> 1)]));
        const flipped = Buffer.from(s);
        flipped[flipped.length >> 2] ^= 0x10;
        put(`${kind}-${i}-f${feed}-flip`, Buffer.concat([head, flipped]));
      }
    });
  }
  return corpus;
}

function fuzz(target) {
  const binary = build(target);
  const corpus = seedCorpus(target);
  const work = join(dir, `work-${target}`);
  mkdirSync(work, { recursive: true });
  const flags = [`-seed=${seed}`, '-max_len=65536', '-timeout=20', '-rss_limit_mb=4096', `-artifact_prefix=${join(dir, `crash-${target}-`)}`, '-print_final_stats=1'];
  if (runs !== undefined) flags.push(`-runs=${runs}`);
  if (seconds !== undefined) flags.push(`-max_total_time=${seconds}`);
  const t0 = Date.now();
  const r = spawnSync(binary, [...flags, work, corpus], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    cwd: dir,
    env: { ...process.env, BMAPKIT_FUZZ_DIR: dir, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
  });
  const out = `${r.stdout}${r.stderr}`;
  const executions = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(out)?.[1] ?? /Done (\d+) runs/.exec(out)?.[1] ?? 0);
  const crashes = readdirSync(dir).filter((f) => f.startsWith(`crash-${target}-`) || f.startsWith(`leak-${target}-`) || f.startsWith(`timeout-${target}-`));
  return { target, executions, crashes, seconds: (Date.now() - t0) / 1000, status: r.status, log: crashes.length > 0 || r.status !== 0 ? out.slice(-6000) : '' };
}

/**
 * The addon built with AddressSanitizer (clang, -O1) and the test suites that
 * load it (native, decompress-stream) run against it, with the sanitizer's
 * runtime preloaded into Node. Leak checking is off: Node itself does not
 * free everything at exit.
 */
function addonTests() {
  const include = [join(process.execPath, '..', '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
  if (include === undefined) throw new Error("Node's headers (node_api.h) are not installed");
  const sources = JSON.parse(readFileSync(join(native, 'binding.gyp'), 'utf8')).targets[0].sources.map((s) => join(native, s));
  const addon = join(dir, 'bmapkit_native_asan.node');
  execFileSync('clang', ['-shared', '-fPIC', '-g', '-O1', '-std=gnu11', '-fsanitize=address', '-fno-omit-frame-pointer', `-I${include}`, '-o', addon, ...sources, '-ldl', '-lpthread'], { stdio: 'inherit' });
  const runtime = execFileSync('clang', ['-print-file-name=libclang_rt.asan-x86_64.so'], { encoding: 'utf8' }).trim();
  let failed = false;
  for (const pkg of ['native', 'decompress-stream']) {
    const r = spawnSync('npx', ['vitest', 'run', '--exclude', 'test/fuzz.test.ts'], {
      cwd: join(native, '..', pkg),
      encoding: 'utf8',
      env: { ...process.env, BMAPKIT_NATIVE_ADDON: addon, LD_PRELOAD: runtime, ASAN_OPTIONS: 'detect_leaks=0:verify_asan_link_order=0' },
    });
    const out = `${r.stdout}${r.stderr}`;
    const summary = /Tests\s+(.*)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ''))?.[1] ?? 'no summary';
    const asan = /ERROR: AddressSanitizer[^\n]*/.exec(out)?.[0];
    console.log(`asan addon, ${pkg} tests: ${summary}${asan === undefined ? ', no AddressSanitizer report' : `, ${asan}`}`);
    if (r.status !== 0 || asan !== undefined) {
      failed = true;
      console.error(out.slice(-4000));
    }
  }
  return !failed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (args.includes('--addon-tests')) process.exit(addonTests() ? 0 : 1);
  const why = fuzzUnavailable();
  if (why !== undefined) {
    console.error(`fuzz: cannot run: ${why}`);
    process.exit(2);
  }
  const results = targets.map(fuzz);
  for (const r of results) {
    console.log(`fuzz ${r.target}: ${r.executions} executions, ${r.crashes.length} crashes, ${r.seconds.toFixed(1)} s${r.crashes.length > 0 ? ` (${r.crashes.map((c) => join(dir, c)).join(', ')})` : ''}`);
    if (r.log !== '') console.error(r.log);
  }
  if (json) console.log(JSON.stringify(results.map(({ log, ...r }) => r)));
  if (opt('dir', undefined) === undefined && results.every((r) => r.crashes.length === 0 && r.status === 0)) rmSync(dir, { recursive: true, force: true });
  process.exit(results.every((r) => r.crashes.length === 0 && r.status === 0) ? 0 : 1);
}
