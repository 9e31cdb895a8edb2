import { rangeByteSpan, type Bmap, type ImageChunk, type RangeList } from '@bmapkit/bmap-format';
import type { HttpGetOptions } from './http-client.js';
import { readSpan, type ByteSpanReader } from './resumable.js';

/** One HTTP request: bytes [start, end) and the pieces of ranges in it (the rest is gap, dropped). */
export interface FetchSpan {
  start: number;
  end: number;
  pieces: Array<{ range: number; start: number; end: number }>;
}

export interface FetchPlanOptions {
  /** Gaps wasted on coalescing stay under this fraction of the mapped bytes (default 0.005). */
  wasteFraction?: number;
  /** No gap larger than this is fetched (default 256 KiB). */
  maxGap?: number;
  /** Bytes per request at most (default 16 MiB: a dropped request loses little, requests run in parallel). */
  maxSpan?: number;
  /** Plan only the bytes from here on (the ones before are had already). */
  from?: number;
}

/**
 * Plans the requests for fetching mapped ranges: neighbouring ranges are
 * coalesced across the smallest gaps first, as long as the gap bytes fetched
 * stay under `wasteFraction` of the mapped bytes, so the transfer is the
 * mapped bytes plus less than 1% whatever the layout; long ranges are split.
 */
export function planSpans(ranges: RangeList, geometry: Pick<Bmap, 'blockSize' | 'imageSize'>, options: FetchPlanOptions = {}): FetchSpan[] {
  const maxSpan = options.maxSpan ?? 16 << 20;
  const maxGap = options.maxGap ?? 256 << 10;
  const from = options.from ?? 0;
  const pieces: FetchSpan['pieces'] = [];
  for (let i = 0; i < ranges.length; i++) {
    const { start, end } = rangeByteSpan(ranges.at(i)!, geometry);
    for (let s = Math.max(start, from); s < end; s += maxSpan) pieces.push({ range: i, start: s, end: Math.min(end, s + maxSpan) });
  }
  const mapped = pieces.reduce((n, p) => n + p.end - p.start, 0);
  let budget = mapped * (options.wasteFraction ?? 0.005);
  const gaps = pieces
    .slice(1)
    .map((p, i) => ({ i: i + 1, size: p.start - pieces[i]!.end }))
    .filter((g) => g.size <= maxGap)
    .sort((a, b) => a.size - b.size);
  const join = new Uint8Array(pieces.length); // join[i]: piece i is fetched with piece i-1
  for (const g of gaps) {
    if (g.size > budget) break;
    budget -= g.size;
    join[g.i] = 1;
  }
  const spans: FetchSpan[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    const last = spans.at(-1);
    if (last !== undefined && join[i] === 1 && p.end - last.start <= maxSpan) {
      last.end = p.end;
      last.pieces.push(p);
    } else spans.push({ start: p.start, end: p.end, pieces: [p] });
  }
  return spans;
}

export interface FetchExtentsOptions extends Omit<FetchPlanOptions, 'from'>, HttpGetOptions {
  /** Requests in flight (default 4). */
  parallel?: number;
  /** The image's first `length` bytes, had already (the probe's response): their mapped bytes are taken from there. */
  head?: { length: number; bytes(): Promise<Uint8Array>; destroy(): void };
}

/**
 * Fetches only the mapped ranges of a remote image with HTTP Range requests,
 * several in flight, as ImageChunks in order: the remote counterpart of
 * readExtents. Each request resumes where it stopped if the connection drops.
 */
export function fetchExtents(url: URL, ranges: RangeList, geometry: Pick<Bmap, 'blockSize' | 'imageSize'>, options: FetchExtentsOptions = {}): ReadableStream<ImageChunk> {
  const head = options.head;
  const spans = planSpans(ranges, geometry, { ...options, from: head?.length ?? 0 });
  const parallel = Math.max(1, options.parallel ?? 4);
  const readers: ByteSpanReader[] = [];
  let next = 0;
  const startMore = () => {
    while (next < spans.length && readers.length < parallel) {
      const s = spans[next++]!;
      const reader = readSpan(url, s.start, s.end, true, undefined, options);
      // start the request now; bytes are taken in order below
      const first = reader.bytes.next();
      first.catch(() => undefined); // surfaced when this span's turn comes
      readers.push({ ...reader, bytes: prepend(first, reader.bytes) });
    }
  };
  async function* chunks(): AsyncGenerator<ImageChunk> {
    if (head !== undefined) {
      startMore(); // the first requests go out while the head is taken
      const bytes = await head.bytes();
      for (let i = 0; i < ranges.length; i++) {
        const { start, end } = rangeByteSpan(ranges.at(i)!, geometry);
        if (start >= head.length) break;
        yield { offset: start, data: bytes.subarray(start, Math.min(end, head.length)), range: i };
      }
    }
    for (let i = 0; i < spans.length; i++) {
      startMore();
      const span = spans[i]!;
      const reader = readers[0]!;
      let pos = span.start;
      let piece = 0;
      for await (const data of reader.bytes) {
        let off = 0;
        while (off < data.byteLength && piece < span.pieces.length) {
          const p = span.pieces[piece]!;
          const at = pos + off;
          if (at < p.start) {
            off += Math.min(p.start - at, data.byteLength - off); // gap bytes: dropped
            continue;
          }
          const n = Math.min(p.end - at, data.byteLength - off);
          yield { offset: at, data: data.subarray(off, off + n), range: p.range };
          off += n;
          if (at + n >= p.end) piece++;
        }
        pos += data.byteLength;
      }
      readers.shift();
    }
  }
  const it = chunks();
  return new ReadableStream<ImageChunk>(
    {
      async pull(controller) {
        const { value, done } = await it.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        head?.destroy();
        for (const r of readers) r.destroy();
        await it.return(undefined);
      },
    },
    { highWaterMark: 4 },
  );
}

/** An async generator that yields `first` (an already started next()) and then the rest of `rest`. */
async function* prepend<T>(first: Promise<IteratorResult<T, void>>, rest: AsyncGenerator<T, void, undefined>): AsyncGenerator<T, void, undefined> {
  const r = await first;
  if (r.done === true) return;
  yield r.value;
  yield* rest;
}
