import { spawn } from 'node:child_process';
import { BmapkitError } from '@bmapkit/bmap-format';
import { readableFromNode } from '../node-readable.js';
import { redactUrl } from './redact.js';

/**
 * The stdout of a program (ssh, curl) as a byte stream that fails, instead
 * of ending short, when the program exits non-zero: a missing remote file or
 * a refused login is an error before anything is written anywhere.
 */
export function commandStream(program: string, args: string[], uri: string, hint: string): ReadableStream<Uint8Array> {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4096)));
  const exited = new Promise<BmapkitError | undefined>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) =>
      resolve(new BmapkitError('IMAGE_OPEN', `cannot open image '${redactUrl(uri)}': ${e.code === 'ENOENT' ? `'${program}' is not installed (${hint})` : e.message}`)),
    );
    child.once('close', (code, signal) => {
      if (code === 0 || signal === 'SIGTERM') return resolve(undefined);
      const last = stderr.trim().split('\n').at(-1) ?? '';
      resolve(new BmapkitError('IMAGE_OPEN', `cannot open image '${redactUrl(uri)}': ${program} failed${last ? `: ${last}` : ` (exit status ${code})`}`));
    });
  });
  const out = readableFromNode(child.stdout);
  const reader = out.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await reader.read();
        if (!done) return controller.enqueue(value);
        const err = await exited;
        if (err !== undefined) controller.error(err);
        else controller.close();
      },
      async cancel() {
        child.kill('SIGTERM');
        await reader.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * ssh://[user@]host[:port]/path through the system ssh (keys and config as
 * the user has them; never a password prompt). BMAPKIT_SSH_COMMAND replaces
 * "ssh" with a command and options, as GIT_SSH_COMMAND does ("ssh -i key -F cfg").
 */
export function sshStream(uri: string, env: NodeJS.ProcessEnv = process.env): ReadableStream<Uint8Array> {
  const u = new URL(uri);
  const path = decodeURIComponent(u.pathname);
  const target = `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.hostname}`;
  const quoted = `'${path.replace(/'/g, `'\\''`)}'`;
  const [program = 'ssh', ...options] = (env['BMAPKIT_SSH_COMMAND'] ?? 'ssh').split(/\s+/).filter((w) => w !== '');
  const args = [...options, '-o', 'BatchMode=yes', ...(u.port ? ['-p', u.port] : []), '--', target, `cat -- ${quoted}`];
  return commandStream(program, args, uri, 'install openssh-client');
}

/** ftp:// through curl (credentials from the URL or ~/.netrc, proxies from the environment, as curl does). */
export function ftpStream(uri: string): ReadableStream<Uint8Array> {
  return commandStream('curl', ['--silent', '--show-error', '--fail', '--netrc-optional', '--', uri], uri, 'install curl');
}
