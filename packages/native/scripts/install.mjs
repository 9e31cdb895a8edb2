#!/usr/bin/env node
// The install step of @bmapkit/native. The package ships prebuilt addons
// (prebuilds/linux-x64 and prebuilds/linux-arm64, for glibc >= 2.34), found
// at run time by node-gyp-build; nothing is compiled when one of them loads
// here. Otherwise (another architecture, musl, an older glibc) the addon is
// built from source with node-gyp. A failed build never fails the install:
// everything but the native parts works, and using those says in one line
// what is missing and how to fix it (src/index.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

if (process.platform !== 'linux') {
  console.warn('@bmapkit/native: not Linux; the native addon is not built (bmapkit reads extents and writes devices on Linux only)');
  process.exit(0);
}

const found = loads();
if (found.ok) process.exit(0);

let gyp;
try {
  gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  console.warn(`@bmapkit/native: no prebuilt addon fits this machine (${found.why}) and node-gyp cannot be found to build one`);
  process.exit(0);
}
if (existsSync(join(root, 'prebuilds'))) console.warn(`@bmapkit/native: no prebuilt addon fits this machine (${found.why}); building it from source`);
else console.log('@bmapkit/native: building the addon from source (a development checkout has no prebuilds)');
const r = spawnSync(process.execPath, [gyp, 'rebuild'], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.warn(
    '@bmapkit/native: building the native addon failed (it needs python3, make, a C compiler and the Node headers); ' +
      "install those, then run 'npm rebuild @bmapkit/native'",
  );
}
process.exit(0);

/** Whether the addon node-gyp-build picks (an earlier build, else a prebuild) loads in this Node. */
function loads() {
  let file;
  try {
    file = require('node-gyp-build').resolve(root);
  } catch (e) {
    return { ok: false, why: String(e.message).split('\n')[0] };
  }
  const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { encoding: 'utf8' });
  if (probe.status === 0) return { ok: true };
  return { ok: false, why: `${file.slice(root.length)} does not load: ${(/Error: .*/.exec(probe.stderr) ?? ['unknown error'])[0]}` };
}
