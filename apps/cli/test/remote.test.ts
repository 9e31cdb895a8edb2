import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serveFiles, startProxy, type FileServer } from '../../../tools/http-fixture.js';
import { gpgSupport, makeKey } from '../../../tools/gpg-fixture.js';
import { BIN, runAsync, type Run } from './run.js';
import { sha256, sparseImage } from './images.js';
import { missingProgram, skipNote } from '../../../tools/test-needs.js';

let dir: string;
let www: string;
let image: Uint8Array;
let mappedBytes: number;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-cliremote-'));
  www = join(dir, 'www');
  mkdirSync(www);
  // 48 MiB, a third of it mapped in runs of 1-8 blocks
  const blocks: number[] = [];
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let b = 0; b < (48 << 20) / 4096; b++) if (rnd() < 1 / 3) blocks.push(b);
  image = sparseImage(join(www, 'disk.img'), 48 << 20, blocks);
  mappedBytes = blocks.length * 4096;
  const c = spawnSync(process.execPath, [BIN, 'create', '-o', join(www, 'disk.img.bmap'), join(www, 'disk.img')], { encoding: 'utf8' });
  if (c.status !== 0) throw new Error(c.stderr);
  writeFileSync(join(www, 'disk.img.gz'), gzipSync(image, { level: 1 }));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function copy(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out = join(dir, `out${n++}.img`);
  const r = await runAsync(['copy', ...args, out], { env });
  return { ...r, out };
}
function expectCopied(r: Run & { out: string }) {
  expect(r.status, r.stderr).toBe(0);
  expect(sha256(readFileSync(r.out))).toBe(sha256(image));
}
const perPath = (s: FileServer) => s.log.reduce<Record<string, number>>((m, r) => ((m[r.path] = (m[r.path] ?? 0) + 1), m), {});

describe('copy from http(s)', () => {
  let server: FileServer;
  beforeAll(async () => {
    server = await serveFiles(www);
  });
  afterAll(() => server.close());

  it('a raw image: only the mapped bytes are fetched (plus less than 1%)', async () => {
    server.reset();
    const r = await copy([`${server.url}/disk.img`]);
    expectCopied(r);
    expect(r.stderr).toContain(`discovered bmap file '${server.url}/disk.img.bmap'`);
    const bmapSize = readFileSync(join(www, 'disk.img.bmap')).length;
    expect(server.bytesServed() - bmapSize).toBeLessThanOrEqual(mappedBytes * 1.01);
    expect(server.bytesServed() - bmapSize).toBeGreaterThanOrEqual(mappedBytes);
  });

  it('a gzip image behind a signed-URL-style query: bmap found with the query kept, each URL opened once, 404s silent', async () => {
    server.reset();
    const r = await copy([`${server.url}/disk.img.gz?X-Signature=abc%3D&exp=1`]);
    expectCopied(r);
    expect(server.log.every((e) => e.query === '?X-Signature=abc%3D&exp=1')).toBe(true);
    expect(perPath(server), JSON.stringify(server.log)).toEqual({
      '/disk.img.gz': 2, // the first 4 KiB (format, size, Range support), then the rest in one Range request
      '/disk.img.gz.bmap': 1, // 404, passed over silently
      '/disk.img.bmap': 1,
      '/disk.img.bmap.asc': 1, // 404: unsigned
      '/disk.img.bmap.sig': 1,
    });
    expect(server.log.find((e) => e.path === '/disk.img.gz' && e.range !== 'bytes=0-4095')?.range).toMatch(/^bytes=4096-\d+$/);
    expect(server.log.filter((e) => e.path.endsWith('.bmap') || e.path.endsWith('.asc') || e.path.endsWith('.sig')).every((e) => e.range === null)).toBe(true);
    expect(r.stderr).not.toMatch(/WARNING|ERROR/);
  });

  it('a missing image is one clear line; a missing --bmap URL too', async () => {
    const r = await copy([`${server.url}/nope.img`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^bmaptool: ERROR: cannot open image \(HTTP 404 Not Found\) 'http:\/\/127\.0\.0\.1:\d+\/nope\.img'\n$/);
    const b = await copy(['--bmap', `${server.url}/nope.bmap`, `${server.url}/disk.img`]);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/ERROR: cannot open bmap file \(HTTP 404 Not Found\) '.*nope\.bmap'\n$/);
    expect(existsSync(b.out)).toBe(false);
  });

  it('bmaptool verify reads a remote raw image at its mapped ranges', async () => {
    const r = await runAsync(['verify', `${server.url}/disk.img`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/all \d+ ranges of 'http:.*disk\.img' match the bmap/);
  });
});

describe('copy from http: servers that misbehave', () => {
  it('a server without Range support: the raw image is streamed in one request', async () => {
    const server = await serveFiles(www, { ranges: false });
    try {
      const r = await copy(['--bmap', join(www, 'disk.img.bmap'), `${server.url}/disk.img`]);
      expectCopied(r);
      expect(perPath(server)).toEqual({ '/disk.img': 1 });
    } finally {
      await server.close();
    }
  });

  it('connections that drop mid-body are resumed', async () => {
    const server = await serveFiles(www, { dropAfter: { bytes: 200_000, times: 3 } });
    try {
      expectCopied(await copy(['--bmap', join(www, 'disk.img.bmap'), `${server.url}/disk.img.gz`]));
      expect(server.log.filter((e) => e.path === '/disk.img.gz').length).toBeGreaterThan(2);
    } finally {
      await server.close();
    }
  });

  it('Basic auth from the URL or ~/.netrc; a wrong password is never printed', async () => {
    const server = await serveFiles(www, { auth: { user: 'ann', password: 'pa55' } });
    const host = server.url.slice('http://'.length);
    try {
      expectCopied(await copy([`http://ann:pa55@${host}/disk.img.gz`]));
      const home = join(dir, 'home');
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, '.netrc'), `machine 127.0.0.1 login ann password pa55\n`);
      expectCopied(await copy([`${server.url}/disk.img.gz`], { HOME: home }));
      const bad = await copy(['--json', `http://ann:hunter2@${host}/disk.img.gz`]);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('HTTP 401 Unauthorized');
      expect(`${bad.stderr}${bad.stdout}`).not.toContain('hunter2');
      expect(bad.stdout).toContain('ann:***@');
    } finally {
      await server.close();
    }
  });
});

const tlsReason = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0 ? 'openssl is not installed' : undefined;
if (tlsReason !== undefined) skipNote(`https tests: ${tlsReason}`);
describe.skipIf(tlsReason !== undefined)('copy from https (a self-signed server on 127.0.0.1)', () => {
  it('directly and through https_proxy (CONNECT), with Range requests', async () => {
    const key = join(dir, 'tls.key');
    const cert = join(dir, 'tls.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const server = await serveFiles(www, { tls: { key: readFileSync(key), cert: readFileSync(cert) } });
    const proxy = await startProxy();
    try {
      const env = { NODE_EXTRA_CA_CERTS: cert };
      expectCopied(await copy([`${server.url}/disk.img`], env));
      expect(server.log.filter((e) => e.path === '/disk.img' && e.range !== 'bytes=0-4095').length).toBeGreaterThan(0);
      expectCopied(await copy([`${server.url}/disk.img.gz`], { ...env, https_proxy: proxy.url, no_proxy: '' }));
      expect(proxy.requests.length).toBeGreaterThan(0);
      expect(proxy.requests.every((r) => r === `CONNECT ${server.url.slice('https://'.length)}`)).toBe(true);
      const untrusted = await copy([`${server.url}/disk.img.gz`]);
      expect(untrusted.status).toBe(1);
      expect(untrusted.stderr).toMatch(/ERROR: cannot open image 'https:.*': self.signed certificate/);
    } finally {
      await proxy.close();
      await server.close();
    }
  });
});

describe('copy from file: URLs', () => {
  it('reads the file and finds the bmap next to it', async () => {
    const r = await copy([`file://${join(www, 'disk.img.gz')}`]);
    expectCopied(r);
    expect(r.stderr).toContain(`discovered bmap file 'file://${join(www, 'disk.img.bmap')}'`);
  });
});

const gpg = gpgSupport();
describe.skipIf(!gpg.ok)('a signed bmap on a server', () => {
  it('finds <bmap>.asc next to the bmap URL (query kept) and checks it', async () => {
    const signed = join(dir, 'signed');
    mkdirSync(signed, { recursive: true });
    copyFileSync(join(www, 'disk.img.gz'), join(signed, 'disk.img.gz'));
    copyFileSync(join(www, 'disk.img.bmap'), join(signed, 'disk.img.bmap'));
    const key = makeKey(dir, 'signer', 'sign@example.org');
    key.detachSign(join(signed, 'disk.img.bmap'), join(signed, 'disk.img.bmap.asc'));
    const server = await serveFiles(signed);
    try {
      const r = await copy(['--fingerprint', key.fingerprint, `${server.url}/disk.img.gz?t=1`], { GNUPGHOME: key.home });
      expectCopied(r);
      expect(r.stderr).toContain(`discovered signature file for bmap '${server.url}/disk.img.bmap.asc?t=1'`);
      expect(r.stderr).toContain(`successfully verified bmap file signature of signer <sign@example.org> (fingerprint ${key.fingerprint})`);
    } finally {
      key.stop();
      await server.close();
    }
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

// Debian's python3 (python3-pyftpdlib), not a pyenv shim that may shadow it
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const ftpReason = spawnSync(PYTHON, ['-c', 'import pyftpdlib'], { stdio: 'ignore' }).status !== 0 ? 'python3-pyftpdlib is not installed' : spawnSync('curl', ['--version'], { stdio: 'ignore' }).status !== 0 ? 'curl is not installed' : undefined;
if (ftpReason !== undefined) skipNote(`ftp:// tests: ${ftpReason}`);
describe.skipIf(ftpReason !== undefined)('copy from ftp:// (curl against a pyftpdlib server on 127.0.0.1)', () => {
  it('copies, and a missing file is a clear error', async () => {
    const port = await freePort();
    const server = spawn(PYTHON, ['-m', 'pyftpdlib', '-i', '127.0.0.1', '-p', String(port), '-d', www], { stdio: 'ignore' });
    try {
      await waitForPort(port, server);
      expectCopied(await copy(['--bmap', join(www, 'disk.img.bmap'), `ftp://127.0.0.1:${port}/disk.img.gz`]));
      const r = await copy(['--bmap', join(www, 'disk.img.bmap'), `ftp://127.0.0.1:${port}/nope.gz`]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ERROR: cannot open image 'ftp:\/\/127\.0\.0\.1:\d+\/nope\.gz': curl failed: curl: \(78\)/);
    } finally {
      server.kill();
    }
  });
});

const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));
const sshReason =
  sshd === undefined ? 'sshd is not installed (openssh-server)' : missingProgram('ssh', 'ssh-keygen') ?? (process.getuid?.() !== 0 ? 'starting sshd for the test needs root' : undefined);
if (sshReason !== undefined) skipNote(`ssh:// tests: ${sshReason}`);
describe.skipIf(sshReason !== undefined)('copy from ssh:// (the system ssh against an sshd started on 127.0.0.1)', () => {
  it('copies through ssh, and a missing remote file is a clear error', async () => {
    const s = join(dir, 'ssh');
    mkdirSync(s, { recursive: true, mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(s, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(s, 'client_key')]);
    copyFileSync(join(s, 'client_key.pub'), join(s, 'authorized_keys'));
    const port = await freePort();
    writeFileSync(
      join(s, 'sshd_config'),
      [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(s, 'host_key')}`, `AuthorizedKeysFile ${join(s, 'authorized_keys')}`, 'PermitRootLogin yes', 'StrictModes no', 'PasswordAuthentication no', 'UsePAM no', `PidFile ${join(s, 'pid')}`].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true });
    const server = spawn(sshd!, ['-D', '-e', '-f', join(s, 'sshd_config')], { stdio: 'ignore' });
    try {
      await waitForPort(port, server);
      const env = { BMAPKIT_SSH_COMMAND: `ssh -i ${join(s, 'client_key')} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR` };
      expectCopied(await copy(['--bmap', join(www, 'disk.img.bmap'), `ssh://root@127.0.0.1:${port}${join(www, 'disk.img.gz')}`], env));
      const r = await copy(['--bmap', join(www, 'disk.img.bmap'), `ssh://root@127.0.0.1:${port}${join(www, 'no such.gz')}`], env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ERROR: cannot open image 'ssh:.*no such\.gz': ssh failed: cat: .*No such file or directory/);
    } finally {
      server.kill();
    }
  });
});
