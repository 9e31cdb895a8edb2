import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BmapkitError, parseBmap, serializeBmap, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { openFileSource, readExtents } from '@bmapkit/extent-source';
import { verifyChecksums } from '@bmapkit/verifier';
import { rangeWriter } from '@bmapkit/range-writer';
import { checkBmap, copyImage, createBmap, findBmap, verifyImage, type CopyEvent } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A real sparse file: 12 MiB + 100 bytes, data in blocks 0-9, 256-1535 (5 MiB), 2000, and the partial last block. */
function sparseImage(path: string): Buffer {
  const size = 12 * (1 << 20) + 100;
  const image = Buffer.alloc(size);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  let x = 7;
  for (const [first, last] of [[0, 9], [256, 1535], [2000, 2000], [3072, 3072]] as const) {
    const start = first * 4096;
    const end = Math.min((last + 1) * 4096, size);
    for (let i = start; i < end; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      image[i] = (x >>> 24) | 1;
    }
    writeSync(fd, image, start, end - start, start);
  }
  fsyncSync(fd);
  closeSync(fd);
  return image;
}

const imagePath = join(dir, 'disk.img');
const image = sparseImage(imagePath);
let bmap: Bmap;

describe('createBmap, findBmap, checkBmap', () => {
  it('maps the holes and hashes the ranges of a real sparse file', async () => {
    bmap = await createBmap({ image: imagePath });
    expect([...bmap.ranges].map((r) => [r.first, r.last])).toEqual([[0, 9], [256, 1535], [2000, 2000], [3072, 3072]]);
    expect([...bmap.ranges].every((r) => /^[0-9a-f]{64}$/.test(r.checksum ?? ''))).toBe(true);
    writeFileSync(`${imagePath}.bmap`, serializeBmap(bmap));
    expect([...(await createBmap({ image: imagePath, checksum: false })).ranges].every((r) => r.checksum === undefined)).toBe(true);
  });

  it('finds the bmap next to the image as bmaptool does, and checks it', async () => {
    expect(await findBmap(imagePath)).toBe(`${imagePath}.bmap`);
    const gz = join(dir, 'disk.img.gz');
    writeFileSync(gz, gzipSync(image));
    expect(await findBmap(gz)).toBe(`${imagePath}.bmap`); // disk.img.gz.bmap, then disk.img.bmap
    expect(await findBmap(join(dir, 'other.img'))).toBeUndefined();
    const checked = await checkBmap(`${imagePath}.bmap`);
    expect(checked).toMatchObject({ ranges: 4, rangesWithChecksums: 4, clearsigned: false, fileChecksum: { ok: true } });
  });
});

describe('copyImage', () => {
  it('copies a raw image through an extra stage, byte-exact, reporting as it goes', async () => {
    const dest = join(dir, 'raw.out');
    const events: CopyEvent[] = [];
    let seen = 0;
    const counter = new TransformStream<ImageChunk, ImageChunk>({
      transform(chunk, c) {
        seen += chunk.data.byteLength;
        c.enqueue(chunk);
      },
    });
    const result = await copyImage({ image: imagePath, dest, stages: [counter], onEvent: (e) => events.push(e) });
    expect(readFileSync(dest).equals(image)).toBe(true);
    expect(seen).toBe(result.bytesWritten);
    expect(result).toMatchObject({ imageSize: image.length, rewrites: 0, destKind: 'file' });
    expect(events.find((e) => e.type === 'bmap')).toMatchObject({ path: `${imagePath}.bmap`, discovered: true, format: 'raw' });
    expect(events.filter((e) => e.type === 'range-verified').map((e) => (e as { range: number }).range).sort()).toEqual([0, 1, 2, 3]);
    expect(events.filter((e) => e.type === 'progress').at(-1)).toMatchObject({ bytes: result.bytesWritten, total: result.bytesWritten });
    expect(events.some((e) => e.type === 'sync')).toBe(true);
  });

  it('copies a gzip stream with a Bmap object', async () => {
    const dest = join(dir, 'stream.out');
    const gz = gzipSync(image);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < gz.length; i += 100_000) c.enqueue(gz.subarray(i, i + 100_000));
        c.close();
      },
    });
    await copyImage({ image: stream, dest, bmap });
    expect(readFileSync(dest).equals(image)).toBe(true);
  });

  it('a range that differs from the bmap fails the copy and removes the DEST it created', async () => {
    const dest = join(dir, 'bad.out');
    const bad: Bmap = { ...bmap, ranges: [...bmap.ranges].map((r, i) => (i === 1 ? { ...r, checksum: '0'.repeat(64) } : r)) };
    await expect(copyImage({ image: imagePath, dest, bmap: bad })).rejects.toMatchObject({ code: 'RANGE_CHECKSUM', message: expect.stringContaining('blocks range 256-1535') });
    expect(existsSync(dest)).toBe(false);
  });

  it('an abort mid-copy rejects within half a second and removes the DEST it created', async () => {
    const dest = join(dir, 'aborted.out');
    const ac = new AbortController();
    // the image's bytes, fed slowly: the copy is under way when the abort comes
    let sent = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= image.length) return c.close();
        await new Promise((r) => setTimeout(r, 20));
        c.enqueue(image.subarray(sent, sent + 65536));
        sent += 65536;
      },
    });
    const events: CopyEvent[] = [];
    const copying = copyImage({ image: slow, dest, bmap, signal: ac.signal, onEvent: (e) => events.push(e) });
    while (!events.some((e) => e.type === 'progress')) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(dest)).toBe(true);
    const t0 = performance.now();
    ac.abort(new Error('stop'));
    await expect(copying).rejects.toMatchObject({ code: 'INTERRUPTED', message: expect.stringContaining('was cancelled') });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses the image as DEST before anything is written', async () => {
    const before = readFileSync(imagePath);
    await expect(copyImage({ image: imagePath, dest: imagePath })).rejects.toMatchObject({ code: 'DEST_IS_INPUT' });
    expect(readFileSync(imagePath).equals(before)).toBe(true);
  });
});

describe('verifyImage', () => {
  it('lists every range of a written file that differs', async () => {
    const dest = join(dir, 'verify.out');
    writeFileSync(dest, image);
    expect(await verifyImage({ target: dest, bmap: `${imagePath}.bmap` })).toMatchObject({ ok: true, ranges: 4, mismatches: [] });
    const fd = openSync(dest, 'r+');
    writeSync(fd, Buffer.from([0]), 0, 1, 2000 * 4096 + 5);
    closeSync(fd);
    const result = await verifyImage({ target: dest, bmap });
    expect(result.ok).toBe(false);
    expect(result.mismatches.map((m) => [m.first, m.last])).toEqual([[2000, 2000]]);
  });
});

describe('cancelled before or while working: INTERRUPTED, nothing left behind', () => {
  it('createBmap and verifyImage with an aborted signal reject at once with INTERRUPTED', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(createBmap({ image: imagePath, signal: ac.signal })).rejects.toMatchObject({ code: 'INTERRUPTED', message: expect.stringContaining(`creating the bmap of '${imagePath}' was cancelled`) });
    await expect(verifyImage({ target: imagePath, signal: ac.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    const dest = join(dir, 'never.out');
    await expect(copyImage({ image: imagePath, dest, signal: ac.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(existsSync(dest)).toBe(false);
  });

  it('a BmapkitError given as the abort reason is what the call rejects with', async () => {
    const ac = new AbortController();
    const dest = join(dir, 'reason.out');
    const copying = copyImage({ image: imagePath, dest, signal: ac.signal, onEvent: (e) => e.type === 'bmap' && ac.abort(new BmapkitError('USAGE', 'stopped by the caller')) });
    await expect(copying).rejects.toMatchObject({ code: 'USAGE', message: 'stopped by the caller' });
    expect(existsSync(dest)).toBe(false);
  });
});

describe('the stages composed by hand', () => {
  it('a raw local copy in a few lines: readExtents -> verifyChecksums -> rangeWriter, byte-exact', async () => {
    const dest = join(dir, 'hand.out');
    const parsed = await parseBmap(readFileSync(`${imagePath}.bmap`, 'utf8'));
    const out = await open(dest, 'w');
    await readExtents(await openFileSource(imagePath), parsed.ranges, parsed)
      .pipeThrough(verifyChecksums(parsed, { image: imagePath }))
      .pipeTo(rangeWriter(out, { dest, bmap: parsed, imageSize: parsed.imageSize, kind: 'file' }));
    await out.close();
    expect(readFileSync(dest).equals(image)).toBe(true);
  });
});
