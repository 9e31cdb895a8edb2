import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createHash, type Hash } from 'node:crypto';
import { ChainBook } from './chain-book.js';
import { HASH_WORKER_SOURCE } from './hash-worker-source.js';

type Op = ['b', number, string] | ['u', number, Uint8Array] | ['e', number];

interface Lane {
  worker: Worker;
  batch: Op[];
  batchBytes: number;
  /** Bytes posted to the worker and not yet hashed. */
  inFlight: number;
  /** Batches posted and not yet answered: the worker keeps the process alive only while this is > 0. */
  outstanding: number;
}

/** Hash chains keyed by id (a bmap range): what RangeHasher needs of a pool. */
export interface ChainHasher {
  /** Starts chain `id`; resolves with its hex digest after end(id). */
  begin(id: number, algorithm: string): Promise<string>;
  /** Feeds bytes (not changed afterwards); a promise when the caller must wait for room. */
  update(id: number, data: Uint8Array): Promise<void> | undefined;
  end(id: number): void;
  /** Sends whatever waits in a batch (after the last end). */
  flush(): void;
  close(): Promise<void>;
}

export interface HashPoolOptions {
  /** Worker threads (default: one per core, at most 4; 0 hashes on the calling thread). */
  workers?: number;
  /** Bytes posted and not yet hashed before update() waits (default 32 MiB). */
  maxInFlight?: number;
}

const BATCH_BYTES = 1 << 20;

let calibrated: number | undefined;

/**
 * How many hashing workers pay off here. Moving every byte to another
 * thread costs a copy and ~100 MB of memory per worker; that is worth it
 * only where SHA-256 is slow. Where one core hashes 0.8 GB/s or more (CPUs
 * with SHA extensions: measured 1.35 GB/s), hashing on the calling thread
 * was as fast and used a third of the memory (bench copy: 1.75 s, 93 MB vs
 * 1.73 s, 291 MB). BMAPKIT_HASH_WORKERS overrides the choice.
 */
export function defaultHashWorkers(): number {
  const fromEnv = process.env['BMAPKIT_HASH_WORKERS'];
  if (fromEnv !== undefined && fromEnv !== '' && Number.isInteger(Number(fromEnv))) return Math.max(0, Number(fromEnv));
  if (calibrated === undefined) {
    const data = new Uint8Array(4 << 20);
    createHash('sha256').update(data.subarray(0, 1 << 20)).digest(); // warm up OpenSSL and the page
    const t0 = performance.now();
    createHash('sha256').update(data).digest();
    const bytesPerSecond = data.byteLength / ((performance.now() - t0) / 1000);
    calibrated = bytesPerSecond >= 0.8e9 ? 0 : Math.min(4, Math.max(1, availableParallelism() - 1));
  }
  return calibrated;
}
const BATCH_OPS = 512;

/**
 * Hash chains spread over worker threads: each chain (one bmap range) lives
 * on one worker, so its bytes are hashed in order, and different chains run
 * on different cores. Small operations are batched into one message, so a
 * million tiny ranges do not cost a million round trips. Memory is bounded:
 * update() waits while more than maxInFlight bytes are queued.
 */
export class HashPool implements ChainHasher {
  private readonly lanes: Lane[] = [];
  private readonly laneOf = new Map<number, Lane>();
  private readonly inline = new Map<number, Hash>();
  private readonly maxInFlight: number;
  private readonly book = new ChainBook(() => this.totalInFlight() > this.maxInFlight);

  constructor(options: HashPoolOptions = {}) {
    const n = options.workers ?? defaultHashWorkers();
    this.maxInFlight = options.maxInFlight ?? 32 << 20;
    for (let i = 0; i < n; i++) {
      const worker = new Worker(HASH_WORKER_SOURCE, { eval: true });
      const lane: Lane = { worker, batch: [], batchBytes: 0, inFlight: 0, outstanding: 0 };
      worker.on('message', (m: ['done', number, Array<[number, string]>] | ['error', string]) => {
        if (m[0] === 'error') return this.book.fail(new Error(`hashing worker failed: ${m[1]}`));
        lane.inFlight -= m[1];
        if (--lane.outstanding === 0) worker.unref();
        for (const [id, hex] of m[2]) this.book.settle(id, hex);
        this.book.wakeIfRoom();
      });
      worker.on('error', (e) => this.book.fail(e));
      worker.unref();
      this.lanes.push(lane);
    }
  }

  /** Starts chain `id` with a node:crypto algorithm; resolves with its hex digest after end(id). */
  begin(id: number, algorithm: string): Promise<string> {
    const digest = this.book.expect(id);
    if (this.lanes.length === 0) {
      this.inline.set(id, createHash(algorithm));
      return digest;
    }
    let lane = this.lanes[0]!;
    for (const l of this.lanes) if (l.inFlight + l.batchBytes < lane.inFlight + lane.batchBytes) lane = l;
    this.laneOf.set(id, lane);
    this.push(lane, ['b', id, algorithm], 0);
    return digest;
  }

  /**
   * Feeds bytes to chain `id`. Returns undefined, or a promise when the pool
   * is full and the caller must wait (kept synchronous otherwise: a stream
   * stage then costs no extra microtask per chunk).
   */
  update(id: number, data: Uint8Array): Promise<void> | undefined {
    if (this.book.failure) throw this.book.failure;
    const h = this.inline.get(id);
    if (h !== undefined) {
      h.update(data);
      return undefined;
    }
    const lane = this.laneOf.get(id)!;
    // A view of an ordinary ArrayBuffer would be cloned whole (its entire
    // buffer, not just the view) by postMessage: send a copy of exactly the
    // bytes, and move that copy instead of cloning it again.
    const payload = data.buffer instanceof SharedArrayBuffer ? data : data.slice();
    this.push(lane, ['u', id, payload], data.byteLength);
    // whatever waits in a batch must be on its way, or nothing would free room
    return this.totalInFlight() > this.maxInFlight ? this.book.waitForRoom(() => this.flush()) : undefined;
  }

  /** Ends chain `id`; its digest promise resolves once the worker has hashed everything. */
  end(id: number): void {
    const h = this.inline.get(id);
    if (h !== undefined) {
      this.inline.delete(id);
      this.book.settle(id, h.digest('hex'));
      return;
    }
    const lane = this.laneOf.get(id)!;
    this.laneOf.delete(id);
    this.push(lane, ['e', id], 0);
  }

  /** Sends every pending batch (call after the last end()). */
  flush(): void {
    for (const lane of this.lanes) this.post(lane);
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.worker.terminate()));
    this.lanes.length = 0;
  }

  private push(lane: Lane, op: Op, bytes: number): void {
    lane.batch.push(op);
    lane.batchBytes += bytes;
    if (lane.batchBytes >= BATCH_BYTES || lane.batch.length >= BATCH_OPS) this.post(lane);
  }

  private post(lane: Lane): void {
    if (lane.batch.length === 0) return;
    const transfer: ArrayBuffer[] = [];
    for (const op of lane.batch) if (op[0] === 'u' && !(op[2].buffer instanceof SharedArrayBuffer)) transfer.push(op[2].buffer as ArrayBuffer);
    lane.worker.postMessage(lane.batch, transfer);
    if (lane.outstanding++ === 0) lane.worker.ref();
    lane.inFlight += lane.batchBytes;
    lane.batch = [];
    lane.batchBytes = 0;
  }

  private totalInFlight(): number {
    let n = 0;
    for (const l of this.lanes) n += l.inFlight + l.batchBytes;
    return n;
  }
}
