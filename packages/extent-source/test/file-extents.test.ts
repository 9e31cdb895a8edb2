import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, closeSync, openSync, ftruncateSync, existsSync, statfsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filesystemBlockSize } from '@bmapkit/native';
import { fileExtents, unmappedRanges, type ExtentBackend } from '../src/index.js';
import { clip, generateFiles, prng } from './sparse-files.js';
import { skipNote } from '../../../tools/test-needs.js';

const SEED = Number(process.env['BMAPKIT_TEST_SEED'] ?? 20261126);

interface Place {
  label: string;
  root: string;
  backends: ExtentBackend[];
}
const TMPFS_MAGIC = 0x01021994;
const places: Place[] = [{ label: `${tmpdir()} (${statfsSync(tmpdir()).type === TMPFS_MAGIC ? 'tmpfs' : 'disk filesystem'})`, root: tmpdir(), backends: ['fiemap', 'seek'] }];
if (existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC) places.push({ label: '/dev/shm (tmpfs)', root: '/dev/shm', backends: ['seek'] });
else skipNote('tmpfs runs: /dev/shm is not a tmpfs here');

for (const place of places) {
  describe(`fileExtents on ${place.label}`, () => {
    let dir: string;
    let bs: number;
    beforeAll(() => {
      dir = mkdtempSync(join(place.root, 'bmapkit-extents-'));
      const probe = join(dir, 'probe');
      writeFileSync(probe, 'x');
      const fd = openSync(probe, 'r');
      bs = filesystemBlockSize(fd);
      closeSync(fd);
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('auto picks the backend the filesystem supports', async () => {
      const f = join(dir, 'auto.img');
      writeFileSync(f, 'data');
      const map = await fileExtents(f);
      expect(map.backend).toBe(place.root === '/dev/shm' || statfsSync(place.root).type === TMPFS_MAGIC ? 'seek' : 'fiemap');
      expect(map.blockSize).toBe(bs);
    });

    for (const backend of place.backends) {
      it(`${backend}: every generated file maps exactly as expected, whole and in random windows (seed ${SEED})`, async () => {
        const rnd = prng(SEED + 1);
        let files = 0;
        for (const f of generateFiles(dir, bs, 16 << 20, SEED)) {
          files++;
          const what = `${f.kind} file of ${f.size} bytes (${f.path})`;
          const map = await fileExtents(f.path, { backend });
          expect(map.imageSize, what).toBe(f.size);
          expect(map.blocksCount, what).toBe(Math.ceil(f.size / bs));
          expect(map.ranges, what).toEqual(f.mapped);
          expect(unmappedRanges(map.ranges, map.blocksCount), what).toEqual(f.unmapped);
          expect(map.mappedBlocksCount, what).toBe(f.mapped.reduce((n, r) => n + r.last - r.first + 1, 0));
          for (let w = 0; w < 10; w++) {
            const first = Math.floor(rnd(map.blocksCount));
            const count = 1 + Math.floor(rnd(map.blocksCount - first));
            const win = await fileExtents(f.path, { backend, window: { first, count } });
            expect(win.ranges, `${what}, window ${first}+${count}`).toEqual(clip(f.mapped, first, count));
            expect(unmappedRanges(win.ranges, count, first), `${what}, window ${first}+${count}`).toEqual(clip(f.unmapped, first, count));
          }
          rmSync(f.path);
        }
        expect(files).toBe(41);
      }, 300_000);
    }
  });
}

describe('fileExtents edge cases', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-extents-edge-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts fallocated (unwritten) extents as mapped where FIEMAP is used, like the reference', async () => {
    const f = join(dir, 'falloc.img');
    const fd = openSync(f, 'w');
    ftruncateSync(fd, 1 << 20);
    closeSync(fd);
    const r = spawnSync('fallocate', ['-o', '40960', '-l', '16384', f]);
    if (r.status !== 0) {
      skipNote(`fallocate check: ${r.stderr?.toString().trim() || 'fallocate is not available'}`);
      return;
    }
    const map = await fileExtents(f);
    if (map.backend !== 'fiemap') return;
    expect(map.ranges).toEqual([{ first: 10, last: 13 }]);
  });

  it('a zero-byte file is refused', async () => {
    const f = join(dir, 'empty.img');
    writeFileSync(f, '');
    await expect(fileExtents(f)).rejects.toMatchObject({ code: 'IMAGE_EMPTY', message: `cannot generate bmap for zero-sized image file '${f}'` });
  });

  it('a directory is refused', async () => {
    await expect(fileExtents(dir)).rejects.toMatchObject({ code: 'IMAGE_NOT_FILE', message: expect.stringContaining('it is a directory') });
  });

  it('a missing file is named', async () => {
    await expect(fileExtents(join(dir, 'nope.img'))).rejects.toMatchObject({
      code: 'IMAGE_OPEN',
      message: `cannot open image file '${join(dir, 'nope.img')}': no such file or directory`,
    });
  });

  it('a character device is refused', async () => {
    await expect(fileExtents('/dev/null')).rejects.toMatchObject({ code: 'IMAGE_NOT_FILE' });
  });
});
