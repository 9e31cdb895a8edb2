import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractClearsigned, isClearsigned, parseBmap, verifyBmapChecksum } from '../src/index.js';
import { text, vector } from './helpers.js';
import { skipNote } from '../../../tools/test-needs.js';

const hasGpg = spawnSync('gpg', ['--version']).status === 0;
if (!hasGpg) skipNote('clearsign tests: gpg is not installed (apt-get install gnupg)');

describe.skipIf(!hasGpg)('clearsigned bmaps, signed by real gpg', () => {
  let dir: string;
  const gpg = (...args: string[]) => {
    const r = spawnSync('gpg', ['--batch', '--homedir', join(dir, 'home'), ...args], { encoding: 'buffer' });
    if (r.status !== 0) throw new Error(`gpg ${args.join(' ')} failed: ${r.stderr.toString()}`);
    return r.stdout;
  };
  const clearsign = (name: string, content: Uint8Array | string): Buffer => {
    writeFileSync(join(dir, name), content);
    gpg('--yes', '--digest-algo', 'SHA256', '--clearsign', '--output', join(dir, `${name}.asc`), join(dir, name));
    return readFileSync(join(dir, `${name}.asc`));
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-gpg-'));
    spawnSync('mkdir', ['-m', '700', join(dir, 'home')]);
    gpg('--passphrase', '', '--quick-gen-key', 'bmapkit test <test@bmapkit.invalid>', 'ed25519', 'sign', 'never');
  });
  afterAll(() => {
    spawnSync('gpgconf', ['--homedir', join(dir, 'home'), '--kill', 'all']);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const v of ['1.2', '1.3', '1.4', '2.0']) {
    it(`v${v}: the signed text is the original file, and it parses the same`, async () => {
      const original = vector(`test.image.bmap.v${v}`);
      const signed = clearsign(`v${v}.bmap`, original);
      expect(isClearsigned(signed)).toBe(true);
      const parts = extractClearsigned(signed);
      expect(Buffer.from(parts.text).equals(Buffer.from(original))).toBe(true);
      expect(parts.hashes).toEqual(['SHA256']);
      expect(parts.signature).toMatch(/^-----BEGIN PGP SIGNATURE-----\n[^]*\n-----END PGP SIGNATURE-----\n$/);
      // gpg's own idea of the plaintext agrees
      const fromGpg = gpg('--output', '-', '--decrypt', join(dir, `v${v}.bmap.asc`));
      expect(Buffer.from(parts.text).equals(fromGpg)).toBe(true);
      expect(await parseBmap(signed)).toEqual(await parseBmap(original));
      if (v !== '1.2') expect((await verifyBmapChecksum(signed))?.ok).toBe(true);
    });
  }

  it('undoes dash-escaping', async () => {
    const doc = text(vector('test.image.bmap.v1.2')).replace('<bmap', '<!--\n- a line that starts with a dash\n-x\n-->\n<bmap');
    const signed = clearsign('dashes.bmap', doc);
    expect(signed.toString()).toContain('\n- - a line that starts with a dash\n- -x\n');
    expect(text(extractClearsigned(signed).text)).toBe(doc);
    expect((await parseBmap(signed)).ranges).toHaveLength(48);
  });

  it('finds a tampered signed text through the file checksum', async () => {
    const signed = clearsign('v2.0-t.bmap', vector('test.image.bmap.v2.0')).toString().replace('> 4096 <', '> 8192 <');
    await expect(parseBmap(signed)).rejects.toMatchObject({ code: 'BMAP_CHECKSUM' });
  });
});
