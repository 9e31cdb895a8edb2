import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BmapkitError } from '@bmapkit/bmap-format';
import { parseStatus, type Signature } from './status.js';

export interface GpgVerifyOptions {
  /** The signed file: the bmap, or a clearsigned bmap when `signature` is absent. */
  data: string;
  /** A detached signature (armoured or binary). */
  signature?: string;
  /** Verify against this keyring file only (binary or keybox), not the user's keyring. */
  keyring?: string;
  /** The gpg program (default "gpg"). */
  gpg?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `gpg --verify` with machine-readable status on a separate descriptor
 * and returns every signature it reports. Never fetches keys from the
 * network. Without `keyring`, the user's own keyring (GNUPGHOME) is used,
 * as gpgme does; with it, an empty temporary home and only that keyring.
 */
export async function gpgVerify(options: GpgVerifyOptions): Promise<{ signatures: Signature[]; noData: boolean; stderr: string }> {
  const gpg = options.gpg ?? 'gpg';
  const home = options.keyring === undefined ? undefined : await mkdtemp(join(tmpdir(), 'bmapkit-gpg-'));
  const args = ['--batch', '--no-tty', '--no-auto-key-retrieve', '--no-auto-check-trustdb', '--status-fd', '3'];
  if (home !== undefined) args.push('--homedir', home, '--no-default-keyring', '--keyring', resolve(options.keyring!));
  args.push('--verify', ...(options.signature === undefined ? [options.data] : [options.signature, options.data]));
  try {
    const { status, stderr } = await run(gpg, args, options.env ?? process.env);
    return { ...parseStatus(status), stderr };
  } finally {
    if (home !== undefined) await rm(home, { recursive: true, force: true });
  }
}

function run(program: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env });
    let status = '';
    let stderr = '';
    child.stdio[3]!.on('data', (b: Buffer) => (status += b.toString('utf8')));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'ENOENT'
          ? new BmapkitError('GPG_MISSING', `Cannot verify GPG signature without GPG: '${program}' is not installed (install gnupg, or pass --no-sig-verify to use the bmap unverified)`)
          : new BmapkitError('GPG_FAILED', `cannot run '${program}': ${e.message}`, { cause: e }),
      );
    });
    child.on('close', () => resolvePromise({ status, stderr }));
  });
}
