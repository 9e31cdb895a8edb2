import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, writeSync, closeSync, ftruncateSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBmap, rangeByteSpan, serializeBmap, type Bmap, type BlockRange } from '../src/index.js';
import { sha256 } from './helpers.js';
import { skipNote } from '../../../tools/test-needs.js';

// The Debian bmap-tools package (bmaptool 3.6) is the reference a user already
// has: it must accept what we write, and write the same ranges and checksums.
const version = spawnSync('bmaptool', ['--version'], { encoding: 'utf8' });
const hasBmaptool = version.status === 0;
if (!hasBmaptool) skipNote('bmaptool interop tests: bmaptool is not installed (apt-get install bmap-tools)');

/** Writes a real sparse file: `size` bytes with the given blocks filled with data. */
function sparseFile(path: string, size: number, blocks: number[], bs = 4096): Uint8Array {
  const image = new Uint8Array(size);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const b of blocks) {
    const start = b * bs;
    const data = new Uint8Array(Math.min(bs, size - start)).map((_, i) => ((b * 31 + i * 7) % 255) + 1);
    image.set(data, start);
    writeSync(fd, data, 0, data.length, start);
  }
  closeSync(fd);
  return image;
}

function bmapFor(image: Uint8Array, blocks: number[], checksums: boolean, bs = 4096): Bmap {
  const ranges: BlockRange[] = [];
  for (const b of [...blocks].sort((x, y) => x - y)) {
    const last = ranges[ranges.length - 1];
    if (last && last.last + 1 === b) last.last = b;
    else ranges.push({ first: b, last: b });
  }
  const geometry = { blockSize: bs, imageSize: image.length };
  if (checksums) {
    for (const r of ranges) {
      const { start, end } = rangeByteSpan(r, geometry);
      r.checksum = sha256(image.subarray(start, end));
    }
  }
  return {
    version: '2.0',
    imageSize: image.length,
    blockSize: bs,
    blocksCount: Math.ceil(image.length / bs),
    mappedBlocksCount: blocks.length,
    checksumType: 'sha256',
    ranges,
  };
}

describe.skipIf(!hasBmaptool)(`interop with ${version.stdout?.trim() || 'bmaptool'}`, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-ref-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const layouts: Array<[string, number, number[]]> = [
    ['vector A layout', 1 << 20, [0, 10, 11, 100, 101, 200]],
    ['partial last block mapped', 10000, [2]],
    ['scattered blocks', 3 << 20, Array.from({ length: 120 }, (_, i) => (i * i * 7) % 768).filter((v, i, a) => a.indexOf(v) === i)],
    ['no mapped blocks', 2 << 20, []],
  ];

  for (const [name, size, blocks] of layouts) {
    for (const checksums of [true, false]) {
      it(`bmaptool copy accepts our bmap: ${name}${checksums ? '' : ' (no checksums)'}`, () => {
        const img = join(dir, `${name.replace(/\W+/g, '_')}.img`);
        const image = sparseFile(img, size, blocks);
        const bmapPath = `${img}.${checksums}.bmap`;
        writeFileSync(bmapPath, serializeBmap(bmapFor(image, blocks, checksums)));
        const out = `${img}.out`;
        const r = spawnSync('bmaptool', ['copy', '--bmap', bmapPath, img, out], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stderr).not.toMatch(/ERROR|WARNING/);
        expect(sha256(readFileSync(out))).toBe(sha256(image));
      });
    }
  }

  it('bmaptool create writes the same ranges and checksums as our writer for the same file', async () => {
    const img = join(dir, 'create.img');
    const blocks = [0, 1, 2, 40, 41, 500, 1023];
    const image = sparseFile(img, 4 << 20, blocks);
    const r = spawnSync('bmaptool', ['create', img], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const theirs = await parseBmap(r.stdout);
    const ours = await parseBmap(serializeBmap(bmapFor(image, blocks, true)));
    expect([...ours.ranges]).toEqual([...theirs.ranges]);
    expect({ ...ours, fileChecksum: 0, ranges: [] }).toEqual({ ...theirs, fileChecksum: 0, ranges: [] });
  });
});
