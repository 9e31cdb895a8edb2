import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BIN, VECTORS, rangeChecksum, run } from './run.js';

const BMAP = `${VECTORS}test.image.bmap.v2.0`;
let dir: string;
let image: Buffer;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-verify-'));
  image = gunzipSync(readFileSync(`${VECTORS}test.image.gz`));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, data: Uint8Array) => {
  writeFileSync(join(dir, name), data);
  return join(dir, name);
};
const flipped = () => {
  const bad = Buffer.from(image);
  bad[16 * 4096 + 5]! ^= 1; // in range 15-18
  bad[2 * 4096 + 9]! ^= 1; // block 2: unmapped in the bmap, so not checked
  return bad;
};

describe('bmaptool verify on files and images', () => {
  it('passes a raw image, a gzip image and stdin that match', () => {
    for (const target of [write('good.img', image), `${VECTORS}test.image.gz`]) {
      const r = run(['verify', '--bmap', BMAP, target]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/info: all \d+ ranges of '.*' match the bmap\n$/);
    }
    const s = spawnSync(process.execPath, [BIN, 'verify', '--bmap', BMAP, '-'], { input: readFileSync(`${VECTORS}test.image.gz`), encoding: 'utf8' });
    expect(s.status, s.stderr).toBe(0);
  });

  it('lists the range that differs, raw or compressed, and exits 1', () => {
    const bad = flipped();
    for (const target of [write('bad.img', bad), write('bad.img.gz', gzipSync(bad))]) {
      const r = run(['verify', '--bmap', BMAP, target]);
      expect(r.status).toBe(1);
      const errors = r.stderr.split('\n').filter((l) => l.includes('ERROR'));
      expect(errors).toEqual([
        expect.stringMatching(new RegExp(`^bmaptool: ERROR: blocks range 15-18 differs: calculated [0-9a-f]{64}, bmap says ${rangeChecksum('15-18')}$`)),
        expect.stringMatching(/^bmaptool: ERROR: 1 of \d+ ranges \(16\.0 KiB\) of '.*' differ from bmap file '.*test.image.bmap.v2.0'$/),
      ]);
    }
    const j = run(['verify', '--json', '--bmap', BMAP, join(dir, 'bad.img')]);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ event: 'verify', ok: false, mismatches: [{ first: 15, last: 18, expected: rangeChecksum('15-18') }] });
  });

  it('discovers the bmap next to an image', () => {
    write('disc.img', image);
    writeFileSync(join(dir, 'disc.img.bmap'), readFileSync(BMAP));
    const r = run(['verify', join(dir, 'disc.img')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("discovered bmap file '");
  });

  it('refuses clearly: no bmap, a bmap without checksums, a truncated raw image, a missing target', () => {
    const lone = write('lone.img', image);
    expect(run(['verify', lone]).stderr).toMatch(/ERROR: no bmap found for '.*lone.img'; give it with --bmap\n$/);
    const noSums = write('nosums.bmap', new Uint8Array());
    const c = spawnSync(process.execPath, [BIN, 'create', '--no-checksum', '-o', noSums, lone], { encoding: 'utf8' });
    expect(c.status, c.stderr).toBe(0);
    const r = run(['verify', '--bmap', noSums, lone]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERROR: bmap file '.*nosums.bmap' has no range checksums, so there is nothing to verify against; create it without --no-checksum\n$/);
    const short = write('short.img', image.subarray(0, 100_000));
    const t = run(['verify', '--bmap', BMAP, short]);
    expect(t.status).toBe(1);
    expect(t.stderr).toMatch(/ERROR: '.*short.img' has 100000 bytes, but the bmap describes an image of 821752 bytes\n$/);
    const m = run(['verify', '--bmap', BMAP, join(dir, 'missing.img')]);
    expect(m.status).toBe(1);
    expect(m.stderr).toMatch(/ERROR: cannot open image '.*missing.img': /);
  });
});
