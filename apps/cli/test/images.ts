import { closeSync, ftruncateSync, openSync, writeSync, fsyncSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { vectorAImage } from '../../../tools/vector-a.js';

/** Writes a real sparse file of `size` bytes whose listed 4 KiB blocks hold data; returns its content. */
export function sparseImage(path: string, size: number, blocks: number[], fill = (b: number, i: number) => ((b * 31 + i * 7) % 255) + 1): Uint8Array {
  const image = new Uint8Array(size);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  for (const b of blocks) {
    const start = b * 4096;
    const data = new Uint8Array(Math.min(4096, size - start)).map((_, i) => fill(b, i));
    image.set(data, start);
    writeSync(fd, data, 0, data.length, start);
  }
  fsyncSync(fd);
  closeSync(fd);
  return image;
}

/** Vector A of bmap-format.md §9.1. */
export function vectorA(path: string): Uint8Array {
  const img = vectorAImage();
  const fd = openSync(path, 'w');
  ftruncateSync(fd, img.length);
  for (const [start, len] of [[0, 10], [10 * 4096, 8192], [100 * 4096, 1], [101 * 4096, 1], [200 * 4096, 1]] as const) {
    writeSync(fd, img, start, len, start);
  }
  closeSync(fd);
  return img;
}

export const sha256 = (d: Uint8Array | string) => createHash('sha256').update(d).digest('hex');
