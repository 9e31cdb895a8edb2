import { BmapkitError, rangeByteSpan, type RangeList, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import type { RandomAccessSource } from './file-source.js';

export interface ReadExtentsOptions {
  /** Bytes per chunk (default 1 MiB). */
  chunkSize?: number;
  /** Chunks read ahead of the consumer (default 4): memory is chunkSize x this. */
  queueDepth?: number;
  /** Allocate chunks on SharedArrayBuffer so hashing workers read them without a copy (default false: V8 does not count SharedArrayBuffers as memory pressure, so many short-lived ones pile up). */
  shared?: boolean;
  /** Close the source when the stream ends or is cancelled (default true). */
  closeSource?: boolean;
}

/**
 * Pulls only the mapped bytes of a random-access source, range by range, as
 * ImageChunks: holes are never read. The last range is clipped to the image
 * size. A source that ends early is an IMAGE_TRUNCATED error naming the range.
 */
export function readExtents(
  source: RandomAccessSource,
  ranges: RangeList,
  geometry: Pick<Bmap, 'blockSize' | 'imageSize'>,
  options: ReadExtentsOptions = {},
): ReadableStream<ImageChunk> {
  const chunkSize = Math.max(1, options.chunkSize ?? 1 << 20);
  const shared = options.shared ?? false;
  const closeSource = options.closeSource ?? true;
  let index = 0;
  let offset = ranges.length > 0 ? rangeByteSpan(ranges.at(0)!, geometry).start : 0;
  const close = async () => {
    if (closeSource) await source.close();
  };
  return new ReadableStream<ImageChunk>(
    {
      async pull(controller) {
        if (index >= ranges.length) {
          await close();
          controller.close();
          return;
        }
        const range = ranges.at(index)!;
        const span = rangeByteSpan(range, geometry);
        const n = Math.min(chunkSize, span.end - offset);
        // not zero-filled: the read overwrites every byte, and a short read is an error
        const data = shared ? new Uint8Array(new SharedArrayBuffer(n)) : Buffer.allocUnsafeSlow(n);
        const got = await source.read(data, offset);
        if (got < n) {
          await close();
          throw new BmapkitError(
            'IMAGE_TRUNCATED',
            `image '${source.name}' ends at byte ${offset + got}, inside blocks ${range.first}-${range.last} ` +
              `(bytes ${span.start}-${span.end - 1}); the image is shorter than its bmap says (${geometry.imageSize} bytes)`,
            { details: { image: source.name, range: index, available: offset + got, expected: geometry.imageSize } },
          );
        }
        controller.enqueue({ offset, data, range: index });
        offset += n;
        if (offset >= span.end) {
          index += 1;
          if (index < ranges.length) offset = rangeByteSpan(ranges.at(index)!, geometry).start;
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: options.queueDepth ?? 4 },
  );
}
