import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpgSupport, makeKey, type TestKey } from '../../../tools/gpg-fixture.js';
import { TEST_IMAGE_SHA, VECTORS, run } from './run.js';
import { sha256 } from './images.js';
import { skipNote } from '../../../tools/test-needs.js';

const gpg = gpgSupport();
if (!gpg.ok) skipNote(`CLI signature tests: ${gpg.reason}`);

/** The reference suite's signature cases (behaviour doc §18), with keys made on every run. */
describe.skipIf(!gpg.ok)('copy: OpenPGP-signed bmaps', () => {
  let dir: string;
  let correct: TestKey;
  let unknown: TestKey;
  let env: NodeJS.ProcessEnv;
  const f = (name: string) => join(dir, name);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-clisig-'));
    correct = makeKey(dir, 'correct', 'foo@bar.org');
    unknown = makeKey(dir, 'unknown', 'blub@bla.net');
    env = { GNUPGHOME: correct.home };
    for (const v of ['2.0', '1.4']) {
      const b = f(`v${v}`);
      copyFileSync(`${VECTORS}test.image.bmap.v${v}`, b);
      for (const [name, key] of [['correct', correct], ['unknown', unknown]] as const) {
        key.clearsign(b, f(`v${v}${name}.asc`));
        key.detachSign(b, f(`v${v}${name}.det.asc`));
      }
    }
  }, 60_000);
  afterAll(() => {
    correct?.stop();
    unknown?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const copy = (args: string[], e: NodeJS.ProcessEnv = env) => {
    const out = f(`out${n++}.img`);
    const r = run(['copy', ...args, `${VECTORS}test.image.gz`, out], { env: e });
    expect(r.stdout).toBe('');
    return { ...r, out };
  };
  const ok = (r: ReturnType<typeof copy>) => {
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`successfully verified bmap file signature of correct <foo@bar.org> (fingerprint ${correct.fingerprint})`);
    expect(sha256(readFileSync(r.out))).toBe(TEST_IMAGE_SHA);
  };
  const bad = (r: ReturnType<typeof copy>, message: string | RegExp) => {
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(r.out)).toBe(false);
  };

  it('valid detached', () => ok(copy(['--bmap', f('v2.0'), '--bmap-sig', f('v2.0correct.det.asc')])));
  it('valid clearsigned + fingerprint', () => ok(copy(['--bmap', f('v2.0correct.asc'), '--fingerprint', correct.fingerprint])));
  it('valid + fingerprint + keyring, GNUPGHOME unset', () => {
    const e = { ...process.env };
    delete e['GNUPGHOME'];
    e['HOME'] = dir; // no keyring of the user's either
    ok(copy(['--bmap', f('v2.0correct.asc'), '--fingerprint', correct.fingerprint, '--keyring', correct.keyring], e));
  });
  it('clearsigned', () => ok(copy(['--bmap', f('v2.0correct.asc')])));
  it('unknown signer', () => bad(copy(['--bmap', f('v2.0'), '--bmap-sig', f('v2.0unknown.det.asc')]), /ERROR: discovered a BAD GPG signature: v2\.0unknown\.det\.asc \(signed by unknown key/));
  it('wrong data', () => bad(copy(['--bmap', f('v1.4'), '--bmap-sig', f('v2.0correct.det.asc')]), /ERROR: discovered a BAD GPG signature: v2\.0correct\.det\.asc/));
  it('wrong data, unknown signer', () => bad(copy(['--bmap', f('v1.4'), '--bmap-sig', f('v2.0unknown.det.asc')]), /ERROR: discovered a BAD GPG signature/));
  it('fingerprint, no signature', () => bad(copy(['--bmap', f('v2.0'), '--fingerprint', correct.fingerprint]), /ERROR: no signature found but --fingerprint given\n$/));
  it('fingerprint of another key', () =>
    bad(copy(['--bmap', f('v2.0correct.asc'), '--fingerprint', unknown.fingerprint]), new RegExp(`ERROR: requested fingerprint ${unknown.fingerprint} did not sign the bmap file\\. Only have these sigs: \\* ${correct.fingerprint}`)));
  it('--no-sig-verify uses a clearsigned bmap by another key without checking it', () => {
    const r = copy(['--no-sig-verify', '--bmap', f('v2.0unknown.asc')]);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(r.out))).toBe(TEST_IMAGE_SHA);
  });
  it('a signature discovered next to the bmap is checked', () => {
    copyFileSync(f('v2.0'), f('disc.bmap'));
    copyFileSync(f('v2.0unknown.det.asc'), f('disc.bmap.asc'));
    bad(copy(['--bmap', f('disc.bmap')]), /info: discovered signature file for bmap '.*disc\.bmap\.asc'\n(.*\n)*.*ERROR: discovered a BAD GPG signature/);
  });
});
