import { BmapkitError, rangeByteSpan, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';

export interface SelectRangesOptions {
  /** How the image is named in messages. */
  source: string;
  /** Told once when the input goes on past the image size (it is then no longer read). */
  onWarning?: (message: string) => void;
}

/**
 * Cuts the mapped ranges out of a linear stream of image bytes (a
 * decompressor's output) as ImageChunks, and drops everything else without
 * copying it: the chunks are views of the input. Reads on to the end after
 * the last range, so that the decoder's own integrity checks run, but never
 * past the image size: input that goes on beyond it (an endless source such
 * as /dev/zero, an image with something appended) is not read further, and
 * `onWarning` says so. Input that ends before the last mapped byte is
 * IMAGE_TRUNCATED, naming the range.
 */
export function selectRanges(bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>, options: SelectRangesOptions): TransformStream<Uint8Array, ImageChunk> {
  const n = bmap.ranges.length;
  let index = 0;
  let span = n > 0 ? rangeByteSpan(bmap.ranges.at(0)!, bmap) : { start: 0, end: 0 };
  let pos = 0;
  return new TransformStream<Uint8Array, ImageChunk>(
    {
      transform(chunk, controller) {
        const start = pos;
        const end = pos + chunk.byteLength;
        while (index < n) {
          const s = Math.max(span.start, start);
          const e = Math.min(span.end, end);
          if (s < e) controller.enqueue({ offset: s, data: chunk.subarray(s - start, e - start), range: index });
          if (span.end > end) break;
          index += 1;
          if (index < n) span = rangeByteSpan(bmap.ranges.at(index)!, bmap);
        }
        pos = end;
        if (pos > bmap.imageSize && index >= n) {
          options.onWarning?.(
            `image '${options.source}' goes on past the ${bmap.imageSize} bytes its bmap describes; the rest was not read (is it the right bmap?)`,
          );
          controller.terminate(); // stops reading: the source is cancelled
        }
      },
      flush() {
        if (index < n) {
          const r = bmap.ranges.at(index)!;
          throw new BmapkitError(
            'IMAGE_TRUNCATED',
            `image '${options.source}' ends at byte ${pos}, inside blocks ${r.first}-${r.last} (bytes ${span.start}-${span.end - 1}); ` +
              `its bmap says it has ${bmap.imageSize} bytes: the image is truncated, or the bmap belongs to another image`,
            { details: { image: options.source, range: index, available: pos, expected: bmap.imageSize } },
          );
        }
      },
    },
    { highWaterMark: 4 },
    // up to 4 MiB of ranges' bytes wait for downstream (not 16 chunks: up to 16 MiB)
    { highWaterMark: 4 << 20, size: (chunk: ImageChunk) => Math.max(1, chunk.data.byteLength) },
  );
}
