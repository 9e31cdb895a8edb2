import { availableParallelism } from 'node:os';
import { BmapkitError, BufferPool, rangeByteSpan, type RangeList, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import type { RandomAccessSource } from './file-source.js';

export interface ReadExtentsOptions {
  /** Bytes per chunk (default 1 MiB). */
  chunkSize?: number;
  /** Reads in flight ahead of the consumer (default 4): memory is chunkSize x this (plus one queued chunk). */
  queueDepth?: number;
  /**
   * Ranges read at once, their chunks interleaved (default: one per core,
   * at most 4). A range is one hash chain, so this is how many ranges a
   * verifier downstream can hash in parallel. 1: strictly in range order.
   */
  lanes?: number;
  /** Close the source when the stream ends or is cancelled (default true). */
  closeSource?: boolean;
}

/**
 * Released buffers kept for reuse: about what a copy holds at once (reads
 * ahead, the verifier's queues and hash pool, the writer's queue).
 */
const POOL_KEEP = 24;

/** Ranges at least this big are read first, largest first, so that the last lane to finish is not left with a big one. */
const BIG_RANGE = 4 << 20;

/** A lane's place: the range it reads and its next byte. */
interface Cursor {
  index: number;
  offset: number;
  end: number;
}

/**
 * Pulls only the mapped bytes of a random-access source as ImageChunks:
 * holes are never read. The chunks of one range come in order; with more
 * than one lane, chunks of several ranges interleave (big ranges first,
 * then the rest in order), which is what lets hashing run on every core.
 * The last range is clipped to the image size. A source that ends early is
 * an IMAGE_TRUNCATED error naming the range. Each chunk's buffer is lent
 * (ImageChunk.lease): reused once released, never while held.
 */
export function readExtents(
  source: RandomAccessSource,
  ranges: RangeList,
  geometry: Pick<Bmap, 'blockSize' | 'imageSize'>,
  options: ReadExtentsOptions = {},
): ReadableStream<ImageChunk> {
  const chunkSize = Math.max(1, options.chunkSize ?? 1 << 20);
  // the chunks' buffers are lent (ImageChunk.lease): a writer that releases
  // them lets the next reads reuse them instead of leaving them to the GC
  const pool = new BufferPool(chunkSize, POOL_KEEP);
  const closeSource = options.closeSource ?? true;
  const lanes = Math.max(1, options.lanes ?? Math.min(4, availableParallelism()));
  const order = readOrder(ranges, geometry, lanes);
  const cursors: Cursor[] = [];
  let turn = 0;
  const close = async () => {
    if (closeSource) await source.close();
  };
  /** Fills the lanes from the order; false when nothing is left to read. */
  const refill = (): boolean => {
    while (cursors.length < lanes) {
      const index = order.next();
      if (index === undefined) break;
      const span = rangeByteSpan(ranges.at(index)!, geometry);
      cursors.push({ index, offset: span.start, end: span.end });
    }
    return cursors.length > 0;
  };
  /** Reads started and not yet enqueued, in the order they are enqueued. */
  const reads: Array<Promise<ImageChunk>> = [];
  const ahead = Math.max(1, options.queueDepth ?? 4);
  /** Starts the next read (its lane's next chunk); false when nothing is left. */
  const startRead = (): boolean => {
    if (!refill()) return false;
    turn %= cursors.length;
    const c = cursors[turn]!;
    const index = c.index;
    const offset = c.offset;
    const n = Math.min(chunkSize, c.end - offset);
    c.offset += n;
    if (c.offset >= c.end) cursors.splice(turn, 1);
    else turn += 1;
    const chunk = pool.chunk(offset, n, index);
    const read = source.read(chunk.data, offset).then((got) => {
      if (got < n) throw truncated(index, offset + got);
      return chunk;
    });
    read.catch(() => undefined); // surfaced when its turn comes
    reads.push(read);
    return true;
  };
  const truncated = (index: number, available: number) => {
    const range = ranges.at(index)!;
    const span = rangeByteSpan(range, geometry);
    return new BmapkitError(
      'IMAGE_TRUNCATED',
      `image '${source.name}' ends at byte ${available}, inside blocks ${range.first}-${range.last} ` +
        `(bytes ${span.start}-${span.end - 1}); the image is shorter than its bmap says (${geometry.imageSize} bytes)`,
      { details: { image: source.name, range: index, available, expected: geometry.imageSize } },
    );
  };
  /** Waits for the reads still in flight (a cancel must not close the source under them). */
  const settle = () => Promise.allSettled(reads.splice(0));
  return new ReadableStream<ImageChunk>(
    {
      // Reads run ahead of the consumer, `queueDepth` at a time on the
      // thread pool, while earlier chunks are hashed and written.
      async pull(controller) {
        while (reads.length < ahead && startRead());
        const next = reads.shift();
        if (next === undefined) {
          await close();
          controller.close();
          return;
        }
        try {
          controller.enqueue(await next);
        } catch (e) {
          await settle();
          await close();
          throw e;
        }
      },
      async cancel() {
        await settle();
        await close();
      },
    },
    { highWaterMark: 1 },
  );
}

/**
 * The order ranges are read in: with one lane, 0, 1, 2, ...; with more, the
 * big ranges largest first, then the others in order. Only the big ranges'
 * indices are kept (at most one per 4 MiB of image), whatever the count of ranges.
 */
function readOrder(ranges: RangeList, geometry: Pick<Bmap, 'blockSize' | 'imageSize'>, lanes: number): { next(): number | undefined } {
  const count = ranges.length;
  const big: number[] = [];
  if (lanes > 1) {
    const sizes = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const span = rangeByteSpan(ranges.at(i)!, geometry);
      if (span.end - span.start >= BIG_RANGE) {
        big.push(i);
        sizes.set(i, span.end - span.start);
      }
    }
    big.sort((a, b) => sizes.get(b)! - sizes.get(a)! || a - b);
  }
  const isBig = new Set(big);
  let b = 0;
  let i = 0;
  return {
    next() {
      if (b < big.length) return big[b++];
      while (i < count && isBig.has(i)) i++;
      return i < count ? i++ : undefined;
    },
  };
}
