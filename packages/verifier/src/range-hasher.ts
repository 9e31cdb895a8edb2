import { BmapkitError, rangeByteSpan, requireHashName, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { canDigestFiles } from '@bmapkit/native';
import { HashPool, type ChainHasher, type HashPoolOptions } from './hash-pool.js';
import { NativeHashPool } from './native-hash-pool.js';

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
  private readonly pending: Array<Promise<void>> = [];

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
      this.expectedOffset = rangeByteSpan(this.bmap.ranges[chunk.range]!, this.bmap).start;
      const index = chunk.range;
      this.pending.push(this.pool.begin(index, this.algorithm).then((hex) => this.onDigest(index, hex)));
    }
    if (chunk.offset !== this.expectedOffset) {
      throw new BmapkitError(
        'CHUNK_ORDER',
        `chunk at byte ${chunk.offset} of range #${chunk.range} does not follow byte ${this.expectedOffset}; chunks must be contiguous`,
      );
    }
    this.expectedOffset += chunk.data.byteLength;
    return this.pool.update(chunk.range, chunk.data);
  }

  /** Ends the last range and waits for every digest. */
  async finish(): Promise<void> {
    if (this.current >= 0) this.finishRange();
    this.pool.flush();
    try {
      await Promise.all(this.pending);
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
    const range = this.bmap.ranges[this.current]!;
    const span = rangeByteSpan(range, this.bmap);
    if (this.expectedOffset !== span.end) {
      throw new BmapkitError(
        'IMAGE_TRUNCATED',
        `blocks ${range.first}-${range.last} ended after ${this.expectedOffset - span.start} of their ${span.end - span.start} bytes`,
      );
    }
    this.pool.end(this.current);
  }
}
