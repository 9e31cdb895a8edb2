import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveFiles } from '../../../tools/http-fixture.js';
import { BIN, run, runAsync } from './run.js';
import { sha256, sparseImage } from './images.js';
import { hasProgram as has, skipNote } from '../../../tools/test-needs.js';

// Nothing a user can feed bmapkit may keep it running forever: endless
// sources, a decoder program left behind by an error, a FIFO nobody writes,
// a connection left open. Each run here has a deadline far above its
// expected time; before the fixes each one hung until killed.

const DEADLINE = 20_000;
let dir: string;
let img: string;
let bmap: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-hangs-'));
  img = join(dir, 'img.raw');
  sparseImage(img, 1 << 20, [0, 3, 4, 200]);
  bmap = join(dir, 'img.bmap');
  expect(run(['create', '-o', bmap, img]).status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sh = (cmd: string, env: NodeJS.ProcessEnv = {}) =>
  spawnSync('sh', ['-c', cmd.replaceAll('BMAPTOOL', `'${process.execPath}' '${BIN}'`)], { cwd: dir, encoding: 'utf8', timeout: DEADLINE, env: { ...process.env, ...env } });

describe('endless sources stop at the image size', () => {
  it('verify against /dev/zero ends, saying the source goes on', () => {
    const zeros = join(dir, 'zeros.raw');
    writeFileSync(zeros, Buffer.alloc(64 << 10)); // written zeros: one mapped range whose checksum is of zeros
    const zbmap = join(dir, 'zeros.bmap');
    expect(run(['create', '-o', zbmap, zeros]).status).toBe(0);
    const r = sh(`BMAPTOOL verify --bmap '${zbmap}' /dev/zero`);
    expect(r.signal, 'killed at the deadline: it never ended').toBe(null);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("WARNING: image '/dev/zero' goes on past the 65536 bytes its bmap describes; the rest was not read");
  });

  it('an image followed by /dev/zero on stdin is copied, and the rest is not read', () => {
    const out = join(dir, 'endless.out');
    const r = sh(`cat '${img}' /dev/zero | BMAPTOOL copy --bmap '${bmap}' - '${out}'`);
    expect(r.signal, 'killed at the deadline: it never ended').toBe(null);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("WARNING: image '-' goes on past the 1048576 bytes its bmap describes");
    expect(sha256(readFileSync(out))).toBe(sha256(readFileSync(img)));
  });
});

const decoder = ['zstd', 'xz', 'bzip2', 'lz4'].find(has);
if (decoder === undefined) skipNote('decoder-program exit test: none of zstd, xz, bzip2, lz4 is installed');
describe.skipIf(decoder === undefined)('an error while a decoder program runs', () => {
  it(`ends the program and exits (${decoder})`, () => {
    const big = join(dir, 'big.raw');
    writeFileSync(big, Buffer.alloc(64 << 20, 0x42)); // enough output to fill the pipe: the program blocks writing it
    execFileSync(decoder!, decoder === 'xz' || decoder === 'bzip2' ? ['-k', '-f', '-1', big] : ['-q', '-f', big, '-o', `${big}.${decoder === 'zstd' ? 'zst' : 'lz4'}`]);
    const compressed = `${big}.${{ zstd: 'zst', xz: 'xz', bzip2: 'bz2', lz4: 'lz4' }[decoder!]}`;
    const t0 = Date.now();
    const r = sh(`BMAPTOOL copy --bmap missing.bmap '${compressed}' out.img`, { BMAPKIT_NO_NATIVE_DECODERS: '1' });
    expect(r.signal, 'killed at the deadline: it waited on the program').toBe(null);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("bmaptool: ERROR: cannot open bmap file 'missing.bmap': no such file or directory\n");
    expect(Date.now() - t0).toBeLessThan(DEADLINE);
  });
});

describe('bmaps from pipes and FIFOs', () => {
  it('a bmap on a pipe (process substitution, /dev/stdin) is read as a stream', () => {
    const out = join(dir, 'piped.out');
    const r = sh(`cat '${bmap}' | BMAPTOOL copy --bmap /dev/stdin '${img}' '${out}'`);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(readFileSync(img)));
    const c = sh(`cat '${bmap}' | BMAPTOOL check /dev/stdin`);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toContain("bmap file '/dev/stdin' is valid");
  });

  it('a FIFO that nobody writes is waited for, then given up on, saying so', () => {
    const fifo = join(dir, 'nobody.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = sh(`BMAPTOOL copy --bmap '${fifo}' '${img}' fifo.out`, { BMAPKIT_FIFO_TIMEOUT: '1.5' });
    expect(r.signal, 'killed at the deadline: it blocked in open').toBe(null);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/info: waiting for something to write bmap file '.*nobody\.fifo' \(a FIFO\)\n/);
    expect(r.stderr).toMatch(/ERROR: bmap file '.*nobody\.fifo' is a FIFO that nothing opened for writing for 2 s; start what writes it \(BMAPKIT_FIFO_TIMEOUT sets the wait in seconds\)\n$/);
  });

  it('a FIFO whose writer comes later is read', () => {
    const fifo = join(dir, 'later.fifo');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'later.out');
    const r = sh(`(sleep 0.5; cat '${bmap}' > '${fifo}') & BMAPTOOL copy --bmap '${fifo}' '${img}' '${out}'`);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(out))).toBe(sha256(readFileSync(img)));
  });

  it('a device given as the bmap is refused at its first bytes (/dev/zero)', () => {
    const r = sh(`BMAPTOOL check /dev/zero`);
    expect(r.signal).toBe(null);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("bmaptool: ERROR: bmap file '/dev/zero': contains binary data, so it is not a bmap file; is it the image? (check the order of the arguments)\n");
  });
});

describe('remote images: no connection outlives the error', () => {
  it('a raw image over HTTP whose bmap does not fit exits as soon as it says so', async () => {
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'disk.img'), readFileSync(img).subarray(0, 512 << 10)); // half the size the bmap says
    const server = await serveFiles(www);
    try {
      const t0 = Date.now();
      const r = await runAsync(['copy', '--bmap', bmap, `${server.url}/disk.img`, join(dir, 'http.out')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ERROR: cannot set image size to 524288 bytes, it is known to be 1048576 bytes/);
      expect(Date.now() - t0).toBeLessThan(4000); // it used to wait on the idle connection (6.5 s here, 30 s elsewhere)
    } finally {
      await server.close();
    }
  });
});
