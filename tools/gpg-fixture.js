// Real OpenPGP keys for tests, made with the system gpg in temporary homes:
// generated on every run and without an expiry date, so tests never expire.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** { ok: true } when gpg is installed, else { ok: false, reason }. */
export function gpgSupport() {
  const r = spawnSync('gpg', ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0 ? { ok: true } : { ok: false, reason: 'gpg is not installed (apt-get install gnupg)' };
}

const gpg = (home, args, input) => execFileSync('gpg', ['--batch', '--homedir', home, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'] });

/** Makes a key "<name> <email>" in its own home under DIR; returns its home, fingerprint and a binary keyring of its public key. */
export function makeKey(dir, name, email) {
  const home = join(dir, `gnupg-${name}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  gpg(home, ['--passphrase', '', '--quick-gen-key', `${name} <${email}>`, 'ed25519', 'sign', 'never']);
  const colons = gpg(home, ['--with-colons', '--list-keys']).toString('utf8');
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)[1];
  const keyring = join(dir, `${name}.keyring.gpg`);
  writeFileSync(keyring, gpg(home, ['--export', fingerprint]));
  return {
    home,
    fingerprint,
    keyring,
    /** Writes FILE.asc (clearsigned) or SIGFILE (detached, armoured). */
    clearsign(file, out) {
      gpg(home, ['--yes', '--clearsign', '--output', out, file]);
    },
    detachSign(file, out) {
      gpg(home, ['--yes', '--armor', '--detach-sign', '--output', out, file]);
    },
    stop() {
      spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { stdio: 'ignore' });
    },
  };
}
