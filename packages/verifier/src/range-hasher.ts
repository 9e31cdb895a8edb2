import { createHash, type Hash } from 'node:crypto';
import { BmapkitError, rangeByteSpan, requireHashName, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { canDigestFiles } from '@bmapkit/native';
import { HashPool, type ChainHasher, type HashPoolOptions } from './hash-pool.js';
import { NativeHashPool } from './native-hash-pool.js';

/** Ranges up to this size are hashed on the main thread as their bytes pass. */
const INLINE_BYTES = 64 << 10;

export interface RangeHasherOptions extends HashPoolOptions {
  /** ChecksumType as in a bmap ("sha256", "sha1", "SHA256", "sha3_256"); default sha256. */
  algorithm?: string;
}

/**
 * Follows a stream of ImageChunks and hashes each range's bytes as one
 * chain, checking that chunks arrive in order and that each range's bytes are
 * all there. `onDigest` gets (rangeIndex, hex) as soon as a range is hashed.
 */
export class RangeHasher {
  readonly algorithm: string;
  private readonly pool: ChainHasher;
  private current = -1;
  private expectedOffset = 0;
  /** Digests not yet delivered (only those: a million ranges must not keep a million promises). */
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown;
  /** The current range's hash, when it is small enough to hash inline. */
  private inline: Hash | undefined;
  private rangeEnd = 0;

  constructor(
    private readonly bmap: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>,
    private readonly onDigest: (range: number, hex: string) => void,
    options: RangeHasherOptions = {},
  ) {
    this.algorithm = requireHashName(options.algorithm ?? 'sha256', 'checksums');
    // The addon's pool hashes in place on libuv threads: no copies, no
    // worker heaps (bench .zst copy without SHA extensions: 3.54 s, 312 MB
    // with worker threads; 3.44-3.60 s, 190 MB), and the main thread is left
    // to move chunks. That pays even where one core hashes fast enough: with
    // the decoder on its own thread and queues bounded in bytes, the bench
    // .zst copy with SHA extensions took 1.79-2.07 s hashing on the pool,
    // 1.96-2.18 s inline, at the same peak RSS (134-138 MB; before the
    // queues were bounded, off-thread hashing cost 122 -> 193 MB). Worker
    // threads (or inline hashing, where calibration finds one core fast
    // enough) when asked for (option, BMAPKIT_HASH_WORKERS) or when the
    // addon cannot hash.
    const workersChosen = options.workers !== undefined || (process.env['BMAPKIT_HASH_WORKERS'] ?? '') !== '';
    this.pool = !workersChosen && canDigestFiles(this.algorithm) ? new NativeHashPool(options.maxInFlight ?? 4 << 20) : new HashPool(options);
  }

  /** Hashes a chunk; returns a promise only when the caller must wait for room. */
  add(chunk: ImageChunk): Promise<void> | undefined {
    if (chunk.range !== this.current) {
      if (this.current >= 0) this.finishRange();
      if (chunk.range <= this.current || chunk.range >= this.bmap.ranges.length) {
        throw new BmapkitError('CHUNK_ORDER', `chunk for range #${chunk.range} arrived after range #${this.current}; chunks must come in range order`);
      }
      this.current = chunk.range;
      const span = rangeByteSpan(this.bmap.ranges.at(chunk.range)!, this.bmap);
      this.expectedOffset = span.start;
      this.rangeEnd = span.end;
      const index = chunk.range;
      // A small range is hashed here and now: a pool chain costs ~50 us a
      // range, which a bmap of a million 512-byte ranges turned into a minute.
      if (span.end - span.start <= INLINE_BYTES) {
        this.inline = createHash(this.algorithm);
        return this.addInline(chunk);
      }
      this.inline = undefined;
      const digest: Promise<void> = this.pool.begin(index, this.algorithm).then(
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
    if (chunk.offset !== this.expectedOffset) {
      throw new BmapkitError(
        'CHUNK_ORDER',
        `chunk at byte ${chunk.offset} of range #${chunk.range} does not follow byte ${this.expectedOffset}; chunks must be contiguous`,
      );
    }
    if (this.inline !== undefined) return this.addInline(chunk);
    this.expectedOffset += chunk.data.byteLength;
    return this.pool.update(chunk.range, chunk.data);
  }

  private addInline(chunk: ImageChunk): undefined {
    if (chunk.offset !== this.expectedOffset) {
      throw new BmapkitError(
        'CHUNK_ORDER',
        `chunk at byte ${chunk.offset} of range #${chunk.range} does not follow byte ${this.expectedOffset}; chunks must be contiguous`,
      );
    }
    this.inline!.update(chunk.data);
    this.expectedOffset += chunk.data.byteLength;
    return undefined;
  }

  /** Ends the last range and waits for every digest. */
  async finish(): Promise<void> {
    if (this.current >= 0) this.finishRange();
    this.pool.flush();
    try {
      while (this.pending.size > 0) await Promise.all([...this.pending]);
      if (this.failure !== undefined) throw this.failure;
    } finally {
      await this.pool.close();
    }
  }

  async abort(): Promise<void> {
    await this.pool.close();
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

  private finishRange(): void {
    if (this.expectedOffset !== this.rangeEnd) {
      const range = this.bmap.ranges.at(this.current)!;
      const span = rangeByteSpan(range, this.bmap);
      throw new BmapkitError(
        'IMAGE_TRUNCATED',
        `blocks ${range.first}-${range.last} ended after ${this.expectedOffset - span.start} of their ${span.end - span.start} bytes`,
      );
    }
    if (this.inline !== undefined) {
      const hex = this.inline.digest('hex');
      this.inline = undefined;
      this.onDigest(this.current, hex);
      return;
    }
    this.pool.end(this.current);
  }
}
