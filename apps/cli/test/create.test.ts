import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, watch, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBmap, rangeByteSpan } from '@bmapkit/bmap-format';
import { BIN, run } from './run.js';
import { sha256, sparseImage, vectorA } from './images.js';
import { skipNote } from '../../../tools/test-needs.js';

const hasBmaptool = spawnSync('bmaptool', ['--version']).status === 0;
if (!hasBmaptool) skipNote('comparisons with Debian bmaptool: it is not installed (apt-get install bmap-tools)');

const places = [tmpdir()];
if (existsSync('/dev/shm') && statfsSync('/dev/shm').type === 0x01021994) places.push('/dev/shm');

for (const root of places) {
  describe(`create on ${root}`, () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(root, 'bmapkit-create-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('writes vector A byte for byte to stdout, and nothing to stderr', () => {
      const img = join(dir, 'a.raw');
      vectorA(img);
      const r = run(['create', img]);
      expect(r).toMatchObject({ status: 0, stderr: '' });
      expect(sha256(r.stdout)).toBe('55cd74a37205d23faf15069cd8a9433d5b244d2c08b0f9ca011f8ac8dd1dd87f');
      const noSum = run(['create', '--no-checksum', img]);
      expect(sha256(noSum.stdout)).toBe('1b941a6bd88265ac9246552536d96946482ed4fa742f642b7589e9afc5914b11');
    });

    it('maps and hashes a scattered sparse image exactly', async () => {
      const img = join(dir, 'scattered.raw');
      const blocks = [...new Set(Array.from({ length: 300 }, (_, i) => (i * i * 13 + 7) % 2000))].sort((a, b) => a - b);
      const size = 2000 * 4096 - 100;
      const content = sparseImage(img, size, blocks);
      const r = run(['create', img]);
      expect(r.status, r.stderr).toBe(0);
      const bmap = await parseBmap(r.stdout);
      expect(bmap.imageSize).toBe(size);
      expect(bmap.mappedBlocksCount).toBe(blocks.length);
      const mapped = [...bmap.ranges].flatMap((x) => Array.from({ length: x.last - x.first + 1 }, (_, k) => x.first + k));
      expect(mapped).toEqual(blocks);
      for (const range of bmap.ranges) {
        const { start, end } = rangeByteSpan(range, bmap);
        expect(range.checksum).toBe(sha256(content.subarray(start, end)));
      }
    });

    it.skipIf(!hasBmaptool)('agrees with Debian bmaptool create, range for range and checksum for checksum', async () => {
      const img = join(dir, 'ref.raw');
      sparseImage(img, 6 << 20, [0, 1, 2, 3, 100, 101, 700, 1000, 1001, 1002, 1535]);
      const ours = await parseBmap(run(['create', img]).stdout);
      const theirs = spawnSync('bmaptool', ['create', img], { encoding: 'utf8' });
      expect(theirs.status, theirs.stderr).toBe(0);
      expect([...ours.ranges]).toEqual([...(await parseBmap(theirs.stdout)).ranges]);
      expect({ ...ours, fileChecksum: '', ranges: [] }).toEqual({ ...(await parseBmap(theirs.stdout)), fileChecksum: '', ranges: [] });
    });

    it.skipIf(!hasBmaptool)('Debian bmaptool copy accepts our bmap and reproduces the image, holes and all', () => {
      const img = join(dir, 'copy.raw');
      const content = sparseImage(img, 3 << 20, [5, 6, 7, 300, 767]);
      const bmapPath = join(dir, 'copy.bmap');
      expect(run(['create', '-o', bmapPath, img]).status).toBe(0);
      const out = join(dir, 'copy.out');
      const r = spawnSync('bmaptool', ['copy', '--bmap', bmapPath, img, out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(content));
    });
  });
}

describe('create: outputs and errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-create-err-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const leftovers = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  it('-o writes the same bytes as stdout, replacing an old file only on success', () => {
    const img = join(dir, 'o.raw');
    vectorA(img);
    const out = join(dir, 'o.bmap');
    writeFileSync(out, 'old content');
    expect(run(['create', '-o', out, join(dir, 'missing.raw')]).status).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('old content');
    expect(run(['create', '-o', out, img])).toMatchObject({ status: 0, stdout: '', stderr: '' });
    expect(sha256(readFileSync(out))).toBe('55cd74a37205d23faf15069cd8a9433d5b244d2c08b0f9ca011f8ac8dd1dd87f');
    expect(leftovers()).toEqual([]);
  });

  it('-o: a run killed mid-way leaves no OUTPUT; SIGTERM also removes the temporary file', async () => {
    const img = join(dir, 'big.raw');
    const blocks = Array.from({ length: 64 << 8 }, (_, i) => i); // 256 MiB of data: hashing takes a while
    sparseImage(img, blocks.length * 4096, blocks);
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const out = join(dir, `killed-${signal}.bmap`);
      // Stopped (SIGSTOP) the moment its temporary output appears, so the
      // signal is sure to come mid-run; that it did is checked, not assumed.
      const watcher = watch(dir);
      const appeared = new Promise<void>((resolve) => watcher.on('change', (_e, f) => String(f).endsWith('.tmp') && resolve()));
      const child = spawn(process.execPath, [BIN, 'create', '-o', out, img], { stdio: 'ignore' });
      const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (code, sig) => r([code, sig])));
      await appeared;
      child.kill('SIGSTOP');
      watcher.close();
      expect(leftovers()).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
      expect(child.exitCode).toBe(null);
      child.kill(signal);
      child.kill('SIGCONT');
      expect(await exited).toEqual(signal === 'SIGKILL' ? [null, 'SIGKILL'] : [143, null]);
      expect(existsSync(out)).toBe(false);
      if (signal === 'SIGTERM') expect(leftovers()).toEqual([]);
      for (const f of leftovers()) rmSync(join(dir, f));
    }
  }, 60_000);

  it('says in one line how to build the native addon when it cannot be loaded', () => {
    const img = join(dir, 'noaddon.raw');
    vectorA(img);
    const r = run(['create', img], { env: { BMAPKIT_NATIVE_ADDON: join(dir, 'missing', 'addon.node') } });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^bmaptool: ERROR: finding the holes of a file needs bmapkit's native addon, which does not load here \(Cannot find module .*\); build it with 'pnpm --filter @bmapkit\/native build:native' \(a source build needs python3, make and a C compiler\)\n$/,
    );
  });

  it('a zero-byte image', () => {
    const img = join(dir, 'zero.raw');
    writeFileSync(img, '');
    expect(run(['create', img])).toMatchObject({ status: 1, stdout: '', stderr: `bmaptool: ERROR: cannot generate bmap for zero-sized image file '${img}'\n` });
  });

  it('a directory', () => {
    expect(run(['create', dir]).stderr).toBe(`bmaptool: ERROR: cannot generate bmap for '${dir}': it is a directory; give the image file\n`);
  });

  it('a missing image', () => {
    const img = join(dir, 'nope.raw');
    expect(run(['create', img])).toMatchObject({ status: 1, stderr: `bmaptool: ERROR: cannot open image file '${img}': no such file or directory\n` });
  });

  it('an unreadable image (run as an unprivileged user)', () => {
    const sub = join(dir, 'locked');
    mkdirSync(sub, { mode: 0o755 });
    const img = join(sub, 'secret.raw');
    sparseImage(img, 8192, [0]);
    chmodSync(img, 0o000);
    chmodSync(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    const args = [BIN, 'create', img];
    const r = asRoot
      ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...args], { encoding: 'utf8' })
      : spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (asRoot && r.error) return console.log(`skipping the unreadable-image test: setpriv failed (${r.error.message})`);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`bmaptool: ERROR: cannot open image file '${img}': permission denied\n`);
  });

  it('an output directory that does not exist fails before any work', () => {
    const img = join(dir, 'o2.raw');
    vectorA(img);
    const out = join(dir, 'no', 'such', 'dir', 'x.bmap');
    expect(run(['create', '-o', out, img]).stderr).toBe(`bmaptool: ERROR: cannot open the output file '${out}': no such file or directory\n`);
  });

  it('a fully mapped image: the bmap plus the reference two warnings', async () => {
    const img = join(dir, 'full.raw');
    sparseImage(img, 40960, Array.from({ length: 10 }, (_, i) => i));
    const r = run(['create', img]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `bmaptool: WARNING: all 40.0 KiB are mapped, no holes in '${img}'\nbmaptool: WARNING: was the image handled incorrectly and holes were expanded?\n`,
    );
    expect((await parseBmap(r.stdout)).mappedBlocksCount).toBe(10);
  });

  it('-q hides nothing of the bmap and keeps the warnings', () => {
    const img = join(dir, 'fullq.raw');
    sparseImage(img, 8192, [0, 1]);
    const r = run(['-q', 'create', img]);
    expect(r.stdout).toMatch(/<\/bmap>\n$/);
    expect(r.stderr).toMatch(/WARNING: all 8.0 KiB are mapped/);
  });
});
