import type { BlockRange, ImageChunk } from '@bmapkit/bmap-format';

export const BS = 4096;

/** Chunks of `step` bytes covering each range (clamped to the image size), byte i = fill(i). */
export function chunksFor(ranges: BlockRange[], imageSize: number, fill: (i: number) => number, step = 5000): ImageChunk[] {
  const out: ImageChunk[] = [];
  ranges.forEach((r, range) => {
    const start = r.first * BS;
    const end = Math.min((r.last + 1) * BS, imageSize);
    for (let off = start; off < end; off += step) {
      const n = Math.min(step, end - off);
      out.push({ offset: off, data: new Uint8Array(n).map((_, k) => fill(off + k)), range });
    }
  });
  return out;
}

export function streamOf(chunks: ImageChunk[]): ReadableStream<ImageChunk> {
  let i = 0;
  return new ReadableStream<ImageChunk>({ pull: (c) => (i < chunks.length ? c.enqueue(chunks[i++]!) : c.close()) });
}
