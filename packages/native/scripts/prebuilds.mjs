#!/usr/bin/env node
// Builds the prebuilt addons that the npm package ships, with prebuildify
// (N-API, so one binary per platform serves every Node >= 20; stripped;
// tagged glibc so that node-gyp-build never offers them on musl):
//
//   prebuilds/linux-x64/@bmapkit+native.glibc.node    the host's compiler
//   prebuilds/linux-arm64/@bmapkit+native.glibc.node  Debian's cross compiler
//                                                     (gcc-aarch64-linux-gnu)
//
// zstd, xz and gzip are always in: the addon declares the parts of libzstd's
// and liblzma's stable ABI it uses (zlib's header comes with Node's) and opens
// the libraries at run time, so no -dev package is needed to build it.
//
//   node scripts/prebuilds.mjs [--arch x64|arm64] [--out DIR]
//
// Each build runs in a temporary copy of the sources, so that a build/ in
// use (this checkout's tests load build/Release) is never touched. DIR
// (default: this package) receives prebuilds/linux-ARCH/.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = arg('--arch');
const out = arg('--out') ?? root;
const TOOLCHAINS = {
  x64: {},
  arm64: { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-gcc', PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip' },
};
const prebuildify = fileURLToPath(import.meta.resolve('prebuildify/bin.js'));
// prebuildify runs `node-gyp` from PATH; the headers are this Node's own
// (node-gyp would otherwise download them from nodejs.org).
const nodedir = resolve(dirname(process.execPath), '..');
const base = {
  PATH: `${join(root, 'node_modules', '.bin')}${delimiter}${process.env.PATH}`,
  ...(existsSync(join(nodedir, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: nodedir } : {}),
};

for (const [arch, env] of Object.entries(TOOLCHAINS)) {
  if (only !== undefined && only !== arch) continue;
  if (env.CC !== undefined && spawnSync(env.CC, ['--version']).error !== undefined) {
    console.error(`prebuilds: ${env.CC} is not installed (apt-get install gcc-aarch64-linux-gnu): no ${arch} prebuild`);
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), `bmapkit-prebuild-${arch}-`));
  try {
    for (const f of ['package.json', 'binding.gyp']) cpSync(join(root, f), join(work, f));
    cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
    const r = spawnSync(process.execPath, [prebuildify, '--napi', '--strip', '--tag-libc', '--arch', arch, '--target', process.versions.node], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      env: { ...process.env, ...base, ...env },
    });
    if (r.status !== 0) {
      console.error(`${r.stdout}${r.stderr}prebuilds: the ${arch} build failed`);
      process.exit(1);
    }
    const dest = join(out, 'prebuilds', `linux-${arch}`);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(join(out, 'prebuilds'), { recursive: true });
    cpSync(join(work, 'prebuilds', `linux-${arch}`), dest, { recursive: true });
    console.log(`prebuilds: ${join(dest, '@bmapkit+native.glibc.node')}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
