import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, run as a user runs it: a real process, real stdout/stderr/exit status. */
export const BIN = fileURLToPath(new URL('../dist/bmaptool.js', import.meta.url));
export const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const VECTORS = `${SHARED}testdata/bmaptool/`;
export const BLOCKMAP = `${SHARED}testdata/blockmap/`;

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(args: string[], opts: { env?: NodeJS.ProcessEnv; bin?: string; cwd?: string } = {}): Run {
  const env = { ...process.env, ...opts.env };
  delete env['NO_COLOR'];
  if (opts.env?.['NO_COLOR'] !== undefined) env['NO_COLOR'] = opts.env['NO_COLOR'];
  const r = spawnSync(process.execPath, [opts.bin ?? BIN, ...args], { encoding: 'utf8', env, cwd: opts.cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI under a pseudo-terminal (util-linux `script`), so stderr is a TTY. */
export function runInPty(args: string[], env: NodeJS.ProcessEnv = {}): Run | undefined {
  if (spawnSync('script', ['--version']).status !== 0) return undefined;
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', quoted, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As run(), without blocking this process: for tests whose servers (HTTP on 127.0.0.1) live in it. */
export function runAsync(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const env = { ...process.env, ...opts.env };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
