import { BmapkitError } from './errors.js';
import type { ChunkLease, ImageChunk } from './types.js';

/**
 * Lent chunk buffers. A source that reads into buffers of its own (rather
 * than allocating one per chunk, which the GC frees late: a raw copy's
 * peak RSS was 130-150 MB, most of it spent buffers and malloc's
 * retention) takes them from a BufferPool. The stream owns one claim on
 * each lent chunk; whoever holds the chunk last (the range writer, once the
 * bytes are written or staged) releases it, and a stage that goes on
 * reading the bytes after passing the chunk on (the verifier's hash pool)
 * holds it first and releases it when done. A stage that drops a chunk or
 * replaces its data may release it or not: a buffer never released is
 * freed by the GC and the pool allocates another.
 *
 * When the last claim is released the buffer is detached before it is
 * reused: a view that someone kept against the rules reads as empty, never
 * as another chunk's bytes, and a released chunk sent on again is an error.
 */
export function holdChunk(chunk: ImageChunk): void {
  chunk.lease?.hold();
}

/** Gives back one claim on a lent chunk (a no-op for a chunk whose data is its own). */
export function releaseChunk(chunk: ImageChunk): void {
  chunk.lease?.release();
}

/** The chunk's bytes may still be read (false once its lent buffer has gone back). */
export function chunkAlive(chunk: ImageChunk): boolean {
  return chunk.lease === undefined || chunk.data.buffer.byteLength > 0; // a detached buffer has no bytes; pool buffers always have some
}

/** Buffers of one size, lent to chunks and taken back when released. */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  /** `keep`: how many released buffers are kept for reuse (the rest go to the GC). */
  constructor(
    readonly bufferBytes: number,
    private readonly keep: number,
  ) {}

  /** A chunk whose `data` (`length` bytes, at most bufferBytes) is lent from the pool, with one claim. */
  chunk(offset: number, length: number, range: number): ImageChunk {
    if (length > this.bufferBytes || this.bufferBytes < 1) throw new RangeError(`a chunk of ${length} bytes does not fit a pool buffer of ${this.bufferBytes}`);
    const buffer = this.free.pop() ?? new ArrayBuffer(this.bufferBytes);
    const data = new Uint8Array(buffer, 0, length);
    return { offset, data, range, lease: this.lease(buffer, offset) };
  }

  /** Buffers waiting to be lent again. */
  get idle(): number {
    return this.free.length;
  }

  private lease(buffer: ArrayBuffer, offset: number): ChunkLease {
    let claims = 1;
    const misuse = (what: string) =>
      new BmapkitError(
        'CHUNK_LEASE',
        `the chunk at byte ${offset} was ${what} after its buffer went back to its pool; a stage that emits several chunks over one chunk's data must holdChunk() each one it adds`,
      );
    return {
      hold: () => {
        if (claims <= 0) throw misuse('held');
        claims += 1;
      },
      release: () => {
        if (claims <= 0) throw misuse('released');
        claims -= 1;
        if (claims > 0) return;
        const moved = structuredClone(buffer, { transfer: [buffer] }); // detaches every view of it
        if (this.free.length < this.keep) this.free.push(moved);
      },
    };
  }
}
