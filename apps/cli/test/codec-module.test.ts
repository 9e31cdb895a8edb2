import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync } from 'node:zlib';
import { run } from './run.js';
import { sparseImage } from './images.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-codec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BROTLI = fileURLToPath(new URL('./fixtures/brotli-codec.mjs', import.meta.url));

describe('bmaptool --codec MODULE', () => {
  const raw = join(dir, 'disk.img');
  const content = sparseImage(raw, 300 * 4096 + 77, [0, 1, 2, 40, 41, 150, 299, 300]);
  const bmap = join(dir, 'disk.img.bmap');
  writeFileSync(bmap, run(['create', raw]).stdout);
  const br = join(dir, 'disk.img.br');
  writeFileSync(br, brotliCompressSync(content));

  it('copies and verifies a brotli image through a codec registered by a module (no magic bytes: chosen by name)', () => {
    const dest = join(dir, 'out.img');
    const r = run(['copy', '--codec', BROTLI, br, dest]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.status).toBe(0);
    expect(Buffer.from(readFileSync(dest)).equals(Buffer.from(content))).toBe(true);
    expect(run(['verify', '--codec', BROTLI, br]).status).toBe(0);
  });

  it('without the module, a .br image is copied as raw data and fails its checksums', () => {
    const r = run(['copy', br, join(dir, 'raw.img')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERROR: .*(checksum mismatch|cannot set image size)/);
  });

  it('a module that cannot be loaded, or registers nothing, is one error line naming it', () => {
    const missing = run(['copy', '--codec', join(dir, 'nope.mjs'), br, join(dir, 'x.img')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/ERROR: cannot load codec module '.*nope\.mjs'/);
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const nothing = 1;\n');
    const none = run(['copy', '--codec', empty, br, join(dir, 'y.img')]);
    expect(none.stderr).toMatch(/ERROR: codec module '.*empty\.mjs' exports no register\(registry\) function/);
    expect(none.stderr).not.toMatch(/^\s+at /m);
  });
});
