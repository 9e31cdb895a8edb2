import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { testVectors } from '../../../tools/test-needs.js';
import { declaredFileChecksum } from '../../../tools/own-vectors.js';

/** The built CLI, run as a user runs it: a real process, real stdout/stderr/exit status. */
export const BIN = fileURLToPath(new URL('../dist/bmaptool.js', import.meta.url));
/** The bmaptool and blockmap vectors: the reference ones in ../shared when present, else the project's stand-ins (tools/own-vectors.js). */
export const VECTORS = testVectors('bmaptool').dir;
export const BLOCKMAP = testVectors('blockmap').dir;
/** The sha256 of test.image.gz's image (the reference one's is d1ff17fa...f5b). */
export const TEST_IMAGE_SHA = createHash('sha256').update(gunzipSync(readFileSync(`${VECTORS}test.image.gz`))).digest('hex');
/** The file checksum a bmap of VECTORS declares (test.image.bmap.v2.0's is d9cf7d44...070 in the reference set). */
/** The sha256 test.image.bmap.v2.0 gives range SPAN ('15-18'). */
export const rangeChecksum = (span: string): string => new RegExp(`chksum="([0-9a-f]{64})">\\s*${span}\\s*<`).exec(readFileSync(`${VECTORS}test.image.bmap.v2.0`, 'utf8'))![1]!;
export const declaredChecksum = (name: string): string => declaredFileChecksum(readFileSync(`${VECTORS}${name}`, 'utf8'))!;

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
