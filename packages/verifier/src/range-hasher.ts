import { createHash, type Hash } from 'node:crypto';
import { BmapkitError, holdChunk, rangeByteSpan, releaseChunk, requireHashName, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { canDigestFiles } from '@bmapkit/native';
import { NativeHashPool } from './native-hash-pool.js';

/** Ranges up to this size are hashed on the main thread as their bytes pass. */
const INLINE_BYTES = 64 << 10;

/**
 * Where range digests are computed. `native`: the addon's pool on libuv
 * threads, one lane per core (ranges hashed in parallel, the bytes where
 * they are); `js`: node:crypto on the calling thread, the pure-JS fallback.
 * `auto` (the default): native when the addon loads and has the algorithm.
 */
export type HashEngine = 'auto' | 'native' | 'js';

export interface RangeHasherOptions {
  /** ChecksumType as in a bmap ("sha256", "sha1", "SHA256", "sha3_256"); default sha256. */
  algorithm?: string;
  /** Which engine hashes (default auto). */
  engine?: HashEngine;
  /** Bytes handed to the pool and not yet hashed before the stream waits (default 4 MiB). */
  maxInFlight?: number;
}

/** A range being hashed: where its next byte must start, where it ends, and its inline hash when small. */
interface OpenRange {
  next: number;
  end: number;
  inline: Hash | undefined;
}

/**
 * Follows a stream of ImageChunks and hashes each range's bytes as one
 * chain. Chunks of one range must come in order and contiguous; chunks of
 * different ranges may interleave (readExtents does, so that ranges hash in
 * parallel). A range ends when its last byte has arrived; `onDigest` gets
 * (rangeIndex, hex) as soon as it is hashed.
 */
export class RangeHasher {
  readonly algorithm: string;
  private readonly pool: NativeHashPool | undefined;
  private readonly open = new Map<number, OpenRange>();
  /** One bit per range: its bytes have all arrived. */
  private readonly done: Uint8Array;
  /** Digests not yet delivered (only those: a million ranges must not keep a million promises). */
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
    private readonly onDigest: (range: number, hex: string) => void,
    options: RangeHasherOptions = {},
  ) {
    this.algorithm = requireHashName(options.algorithm ?? 'sha256', 'checksums');
    this.done = new Uint8Array(Math.ceil(bmap.ranges.length / 8));
    // The addon's pool hashes in place on libuv threads: no copies, no
    // worker heaps, and the main thread is left to move chunks (bench .zst
    // copy without SHA extensions: 3.44-3.60 s, 190 MB against 3.54 s,
    // 312 MB with worker threads; with them, 1.79-2.07 s against 1.96-2.18 s
    // inline). node:crypto inline is the fallback, and chosen explicitly.
    const engine = options.engine ?? 'auto';
    const native = engine !== 'js' && canDigestFiles(this.algorithm);
    if (engine === 'native' && !native) {
      throw new BmapkitError('NATIVE_UNAVAILABLE', `hashing ${this.algorithm} on the native pool needs bmapkit's native addon with that algorithm; use the 'js' engine`);
    }
    this.pool = native ? new NativeHashPool(options.maxInFlight ?? 4 << 20) : undefined;
  }

  /** Hashes a chunk; returns a promise only when the caller must wait for room. */
  add(chunk: ImageChunk): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    const index = chunk.range;
    let r = this.open.get(index);
    if (r === undefined) r = this.begin(chunk);
    if (chunk.offset !== r.next) {
      throw new BmapkitError(
        'CHUNK_ORDER',
        `chunk at byte ${chunk.offset} of range #${index} does not follow byte ${r.next}; the chunks of a range must come in order and contiguous`,
      );
    }
    const length = chunk.data.byteLength;
    if (r.next + length > r.end) {
      throw new BmapkitError('CHUNK_ORDER', `chunk at byte ${chunk.offset} (${length} bytes) runs past the end of range #${index} at byte ${r.end}`);
    }
    r.next += length;
    let wait: Promise<void> | undefined;
    if (r.inline !== undefined) {
      r.inline.update(chunk.data);
    } else {
      // the pool reads the bytes after the chunk has moved on: hold them till then
      holdChunk(chunk);
      // (a CHUNK_LEASE from giving it back too often fails the pool, and the copy with it)
      wait = this.pool!.update(index, chunk.data, () => releaseChunk(chunk));
    }
    if (r.next === r.end) this.end(index, r);
    return wait;
  }

  private begin(chunk: ImageChunk): OpenRange {
    const index = chunk.range;
    const range = Number.isInteger(index) && index >= 0 ? this.bmap.ranges.at(index) : undefined;
    if (range === undefined) throw new BmapkitError('CHUNK_ORDER', `chunk for range #${index}, but the bmap has ${this.bmap.ranges.length} ranges`);
    if ((this.done[index >> 3]! & (1 << (index & 7))) !== 0) {
      throw new BmapkitError('CHUNK_ORDER', `chunk at byte ${chunk.offset} for range #${index}, whose bytes have all arrived already`);
    }
    const span = rangeByteSpan(range, this.bmap);
    // A small range is hashed here and now: a pool chain costs ~50 us a
    // range, which a bmap of a million 512-byte ranges turned into a minute.
    const inline = this.pool === undefined || span.end - span.start <= INLINE_BYTES ? createHash(this.algorithm) : undefined;
    if (inline === undefined) {
      const digest: Promise<void> = this.pool!.begin(index, this.algorithm).then(
        (hex) => {
          this.pending.delete(digest);
          this.onDigest(index, hex);
        },
        (e: unknown) => {
          this.pending.delete(digest);
          this.failure ??= e;
        },
      );
      this.pending.add(digest);
    }
    const r: OpenRange = { next: span.start, end: span.end, inline };
    this.open.set(index, r);
    return r;
  }

  private end(index: number, r: OpenRange): void {
    this.open.delete(index);
    this.done[index >> 3]! |= 1 << (index & 7);
    if (r.inline !== undefined) this.onDigest(index, r.inline.digest('hex'));
    else this.pool!.end(index);
  }

  /** Waits for every digest; a range left incomplete is IMAGE_TRUNCATED. */
  async finish(): Promise<void> {
    try {
      for (const [index, r] of this.open) {
        const range = this.bmap.ranges.at(index)!;
        const span = rangeByteSpan(range, this.bmap);
        throw new BmapkitError('IMAGE_TRUNCATED', `blocks ${range.first}-${range.last} ended after ${r.next - span.start} of their ${span.end - span.start} bytes`);
      }
      while (this.pending.size > 0) await Promise.all([...this.pending]);
      if (this.failure !== undefined) throw this.failure;
    } finally {
      await this.pool?.close();
    }
  }

  async abort(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * Hashes a chunk and passes it on: synchronously when the pool has room
   * (no extra microtask per chunk), after waiting when it has not. On any
   * failure the pool is closed and `fail` decides what is thrown.
   */
  passOn(chunk: ImageChunk, controller: TransformStreamDefaultController<ImageChunk>, fail: (e: unknown) => never): void | Promise<void> {
    const failed = async (e: unknown): Promise<never> => {
      await this.abort();
      return fail(e);
    };
    let wait: Promise<void> | undefined;
    try {
      wait = this.add(chunk);
    } catch (e) {
      return failed(e);
    }
    if (wait === undefined) return controller.enqueue(chunk);
    return wait.then(() => controller.enqueue(chunk), failed);
  }
}
