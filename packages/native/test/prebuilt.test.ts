import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { missingProgram, skipNote } from '../../../tools/test-needs.js';
import { nodeBinary } from '../../../tools/node-binaries.js';

// The prebuilt addons the npm package ships (scripts/prebuilds.mjs), built
// as a release builds them and run in Node binaries other than this one: the
// x64 build here, the arm64 build (Debian's cross compiler) in an arm64 Node
// under qemu-user. Each loads, reads extents, hashes and decodes in process.

const PREBUILDS = fileURLToPath(new URL('../scripts/prebuilds.mjs', import.meta.url));
const PROBE = fileURLToPath(new URL('./fixtures/probe.mjs', import.meta.url));
const x64Missing = process.arch !== 'x64' ? 'the prebuild tests run on x64 hosts' : missingProgram('cc', 'make', 'python3');
const arm64Missing =
  x64Missing ??
  missingProgram('aarch64-linux-gnu-gcc', 'qemu-aarch64') ??
  (existsSync('/lib/ld-linux-aarch64.so.1') && existsSync('/usr/lib/aarch64-linux-gnu/libzstd.so.1')
    ? undefined
    : 'the arm64 C library and libzstd are not installed (dpkg --add-architecture arm64; apt-get install libc6:arm64 libstdc++6:arm64 libzstd1:arm64 liblzma5:arm64)');
// an arm64 Node from the npm registry, fetched once (only when all else is here)
const arm64Node = arm64Missing === undefined ? nodeBinary('20', 'arm64') : undefined;
const arm64Why = arm64Missing ?? arm64Node?.reason;
skipNote(x64Missing === undefined ? undefined : `the prebuild tests: ${x64Missing}`);
skipNote(arm64Why === undefined || x64Missing !== undefined ? undefined : `the arm64 prebuild test: ${arm64Why}`);

let dir: string;
let rawSha: string;
const compressed: string[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-prebuilt-'));
  // 1 MiB of data between zeros, compressed by every tool that is here
  const raw = Buffer.concat([Buffer.alloc(1 << 20), Buffer.alloc(1 << 20, 'bmapkit prebuild probe\n'), Buffer.alloc(3 << 20)]);
  rawSha = createHash('sha256').update(raw).digest('hex');
  writeFileSync(join(dir, 'raw'), raw);
  writeFileSync(join(dir, 'raw.gz'), gzipSync(raw));
  compressed.push(`gzip=${join(dir, 'raw.gz')}`);
  for (const [kind, tool, args, ext] of [['zstd', 'zstd', ['-q', '-f'], 'zst'], ['xz', 'xz', ['-k', '-f', '-T2'], 'xz']] as const) {
    if (skipNote(missingProgram(tool) && `in-process ${kind} in the prebuild tests: ${tool} is not installed`)) continue;
    spawnSync(tool, [...args, join(dir, 'raw')], { stdio: 'ignore' });
    compressed.push(`${kind}=${join(dir, `raw.${ext}`)}`);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(arch: 'x64' | 'arm64'): string {
  const r = spawnSync(process.execPath, [PREBUILDS, '--arch', arch, '--out', dir], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const file = join(dir, 'prebuilds', `linux-${arch}`, '@bmapkit+native.glibc.node');
  expect(existsSync(file)).toBe(true);
  return file;
}

function probe(command: string[], addon: string): Record<string, unknown> {
  const r = spawnSync(command[0]!, [...command.slice(1), PROBE, dir, rawSha, ...compressed], { encoding: 'utf8', env: { ...process.env, BMAPKIT_NATIVE_ADDON: addon } });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function expectWorking(out: Record<string, unknown>, arch: string): void {
  expect(out).toMatchObject({ arch, loaded: true, seek: [4096, 1 << 20, -1], sha256ok: true });
  // FIEMAP where the filesystem has it (tmpfs has not, then SEEK_DATA does the work)
  if (Array.isArray(out['extents'])) expect(out['extents']).toEqual([[0, 4096], [1 << 20, 8192]]);
  for (const c of compressed) expect(out[c.split('=')[0]!], c).toBe('ok');
}

describe.skipIf(x64Missing !== undefined)('the x64 prebuild', () => {
  it('builds stripped, needs no glibc above 2.34, and loads and works in this Node', () => {
    const addon = build('x64');
    const syms = spawnSync('objdump', ['-T', addon], { encoding: 'utf8' });
    if (syms.status === 0) {
      const versions = [...syms.stdout.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1]));
      expect(Math.max(...versions)).toBeLessThanOrEqual(34);
      expect(syms.stdout).not.toMatch(/\bZSTD_|\blzma_/); // opened at run time, never linked
    }
    expectWorking(probe([process.execPath], addon), 'x64');
  });
});

describe.skipIf(arm64Why !== undefined)('the arm64 prebuild (cross-compiled, run under qemu-user)', () => {
  it('loads in an arm64 Node, reads extents, hashes, and decodes in process', () => {
    const addon = build('arm64');
    expect(spawnSync('file', ['-b', addon], { encoding: 'utf8' }).stdout ?? '').toMatch(/^$|ARM aarch64/);
    expectWorking(probe(['qemu-aarch64', '-L', '/', arm64Node!.path!], addon), 'arm64');
  }, 300_000);
});
