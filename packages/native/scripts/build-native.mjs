#!/usr/bin/env node
// Builds the native addon at install time. A failed build must not fail the
// whole install: everything else works, and `bmaptool create` then says in one
// line what is missing and how to build it (see src/native.ts).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (process.platform !== 'linux') {
  console.warn('@bmapkit/native: not Linux; the native addon is not built');
  process.exit(0);
}
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  console.warn('@bmapkit/native: node-gyp is not installed; the native addon was not built');
  process.exit(0);
}
const r = spawnSync(process.execPath, [gyp, 'rebuild'], { stdio: 'inherit', cwd: new URL('..', import.meta.url).pathname });
if (r.status !== 0) {
  console.warn(
    '@bmapkit/native: building the native addon failed (it needs python3, make, a C compiler and the Node headers); ' +
      "'bmaptool create' and device checks will not work until 'pnpm --filter @bmapkit/native build:native' succeeds",
  );
}
process.exit(0);
