import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpgSupport, makeKey, type TestKey } from '../../../tools/gpg-fixture.js';
import { testVectors, skipNote } from '../../../tools/test-needs.js';
import { checkBmapSignature, normalizeFingerprint, parseStatus } from '../src/index.js';

const VECTORS = testVectors('bmaptool').dir;

describe('parseStatus', () => {
  it('reads good, bad and unknown-key signatures', () => {
    const good = parseStatus(
      '[GNUPG:] NEWSIG\n[GNUPG:] KEY_CONSIDERED AAAA 0\n[GNUPG:] SIG_ID x 2026-11-26 1\n[GNUPG:] GOODSIG 0123456789ABCDEF correct <foo@bar.org>\n' +
        '[GNUPG:] VALIDSIG 1111111111111111111111110123456789ABCDEF 2026-11-26 1 0 4 0 22 10 01 2222222222222222222222220123456789ABCDEF\n',
    );
    expect(good.signatures).toEqual([
      { status: 'good', keyId: '0123456789ABCDEF', userId: 'correct <foo@bar.org>', fingerprint: '1111111111111111111111110123456789ABCDEF', primaryFingerprint: '2222222222222222222222220123456789ABCDEF' },
    ]);
    expect(parseStatus('[GNUPG:] NEWSIG\n[GNUPG:] BADSIG 0123456789ABCDEF x <y@z>\n').signatures[0]).toMatchObject({ status: 'bad', userId: 'x <y@z>' });
    expect(parseStatus('[GNUPG:] NEWSIG\n[GNUPG:] ERRSIG 0123456789ABCDEF 22 10 01 1700000000 9 -\n[GNUPG:] NO_PUBKEY 0123456789ABCDEF\n').signatures).toEqual([
      { status: 'no-public-key', keyId: '0123456789ABCDEF' },
    ]);
    expect(parseStatus('[GNUPG:] NODATA 1\n')).toEqual({ signatures: [], noData: true });
  });

  it('compares fingerprints without case or spaces', () => {
    expect(normalizeFingerprint('abcd 1234 ef')).toBe('ABCD1234EF');
  });
});

const gpg = gpgSupport();
if (!gpg.ok) skipNote(`signature tests with real keys: ${gpg.reason}`);

describe.skipIf(!gpg.ok)('checkBmapSignature with real gpg keys', () => {
  let dir: string;
  let correct: TestKey;
  let unknown: TestKey;
  let bmap: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-sig-'));
    correct = makeKey(dir, 'correct', 'foo@bar.org');
    unknown = makeKey(dir, 'unknown', 'blub@bla.net');
    env = { ...process.env, GNUPGHOME: correct.home };
    bmap = join(dir, 'test.image.bmap');
    copyFileSync(`${VECTORS}test.image.bmap.v2.0`, bmap);
    correct.clearsign(bmap, join(dir, 'correct.clear.bmap'));
    unknown.clearsign(bmap, join(dir, 'unknown.clear.bmap'));
    correct.detachSign(bmap, join(dir, 'correct.det.asc'));
    unknown.detachSign(bmap, join(dir, 'unknown.det.asc'));
  }, 60_000);
  afterAll(() => {
    correct?.stop();
    unknown?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a good detached signature, named, and a good clearsigned bmap', async () => {
    const infos: string[] = [];
    const r = await checkBmapSignature({ bmap, clearsigned: false, signature: join(dir, 'correct.det.asc'), env, onInfo: (i) => infos.push(i) });
    expect(r.signatures).toHaveLength(1);
    expect(infos).toEqual([`successfully verified bmap file signature of correct <foo@bar.org> (fingerprint ${correct.fingerprint})`]);
    const c = await checkBmapSignature({ bmap: join(dir, 'correct.clear.bmap'), clearsigned: true, fingerprint: correct.fingerprint.toLowerCase(), env });
    expect(c.source).toBe('inline');
  });

  it('discovers <bmap>.asc next to the bmap', async () => {
    const b = join(dir, 'disc.bmap');
    copyFileSync(bmap, b);
    copyFileSync(join(dir, 'correct.det.asc'), `${b}.asc`);
    const infos: string[] = [];
    await checkBmapSignature({ bmap: b, clearsigned: false, env, onInfo: (i) => infos.push(i) });
    expect(infos[0]).toBe(`discovered signature file for bmap '${b}.asc'`);
  });

  it('an unknown signer, altered data and a signature file without a signature are errors', async () => {
    await expect(checkBmapSignature({ bmap, clearsigned: false, signature: join(dir, 'unknown.det.asc'), env })).rejects.toMatchObject({
      code: 'SIGNATURE_BAD',
      message: expect.stringMatching(/^discovered a BAD GPG signature: unknown\.det\.asc \(signed by unknown key [0-9A-F]{16}: import the signer's public key/),
    });
    const tampered = join(dir, 'tampered.bmap');
    writeFileSync(tampered, readFileSync(bmap, 'utf8').replace('<BlockSize> 4096', '<BlockSize>  4096'));
    await expect(checkBmapSignature({ bmap: tampered, clearsigned: false, signature: join(dir, 'correct.det.asc'), env })).rejects.toMatchObject({
      code: 'SIGNATURE_BAD',
      message: expect.stringMatching(/^discovered a BAD GPG signature: correct\.det\.asc \(the bmap or the signature was altered; signer correct <foo@bar\.org>\)/),
    });
    const junk = join(dir, 'junk.asc');
    writeFileSync(junk, 'not a signature\n');
    await expect(checkBmapSignature({ bmap, clearsigned: false, signature: junk, env })).rejects.toMatchObject({
      code: 'SIGNATURE_BAD',
      message: expect.stringContaining('signature file does not actually contain any valid signatures'),
    });
  });

  it('--fingerprint: a match passes, another key fails listing the signers, and no signature fails', async () => {
    await expect(checkBmapSignature({ bmap, clearsigned: false, signature: join(dir, 'correct.det.asc'), fingerprint: unknown.fingerprint, env })).rejects.toMatchObject({
      code: 'SIGNATURE_FINGERPRINT',
      message: `requested fingerprint ${unknown.fingerprint} did not sign the bmap file. Only have these sigs: * ${correct.fingerprint}`,
    });
    await expect(checkBmapSignature({ bmap, clearsigned: false, fingerprint: correct.fingerprint, env })).rejects.toThrow('no signature found but --fingerprint given');
    await expect(checkBmapSignature({ bmap, clearsigned: false, keyring: correct.keyring, env })).rejects.toThrow('no signature found but --keyring given');
  });

  it('--keyring checks against that keyring only, whatever GNUPGHOME says', async () => {
    const noHome = { ...process.env, GNUPGHOME: join(dir, 'no-such-home') };
    const ok = await checkBmapSignature({ bmap: join(dir, 'correct.clear.bmap'), clearsigned: true, keyring: correct.keyring, fingerprint: correct.fingerprint, env: noHome });
    expect(ok.signatures[0]!.fingerprint).toBe(correct.fingerprint);
    await expect(checkBmapSignature({ bmap: join(dir, 'unknown.clear.bmap'), clearsigned: true, keyring: correct.keyring, env: noHome })).rejects.toMatchObject({ code: 'SIGNATURE_BAD' });
  });

  it('a missing --bmap-sig and a missing gpg are clear errors', async () => {
    await expect(checkBmapSignature({ bmap, clearsigned: false, signature: join(dir, 'nope.asc'), env })).rejects.toThrow(/^cannot open bmap signature file '.*nope\.asc': no such file or directory$/);
    await expect(checkBmapSignature({ bmap, clearsigned: false, signature: join(dir, 'correct.det.asc'), gpg: 'bmapkit-no-such-gpg', env })).rejects.toMatchObject({
      code: 'GPG_MISSING',
      message: expect.stringMatching(/^Cannot verify GPG signature without GPG/),
    });
  });
});
