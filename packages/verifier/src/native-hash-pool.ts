import { availableParallelism } from 'node:os';
import { hashBegin, hashRun, type HashContext } from '@bmapkit/native';
import { ChainBook } from './chain-book.js';

type Item = [HashContext, Uint8Array | null];

/** Called once a chunk's bytes have been hashed (the pool no longer reads them). */
type Hashed = (() => void) | undefined;

interface Lane {
  queue: Item[];
  /** For each item of `queue`: what to call once it is hashed. */
  hashed: Hashed[];
  /** Range ids whose end is in `queue`, in order. */
  ends: number[];
  running: boolean;
  /** Bytes queued or being hashed. */
  bytes: number;
  /** Chains begun on this lane and not yet ended. */
  chains: number;
}

/** Items handed to one run at most (a run is one trip to the thread pool). */
const RUN_ITEMS = 256;

/**
 * Hash chains on the libuv thread pool, in the addon, with Node's own
 * OpenSSL: the bytes are hashed where they are (no copy, no transfer) and
 * no worker thread or second JavaScript heap is started. Each chain (a bmap
 * range) stays on one lane, so its bytes are hashed in order; lanes run in
 * parallel, one per core. Memory is bounded: update() waits while more than
 * maxInFlight bytes are queued, and holds each chunk only until it is hashed.
 */
export class NativeHashPool {
  private readonly lanes: Lane[] = [];
  private readonly laneOf = new Map<number, Lane>();
  private readonly contexts = new Map<number, HashContext>();
  private readonly book = new ChainBook(() => this.inFlight() > this.maxInFlight);

  constructor(
    private readonly maxInFlight = 8 << 20,
    lanes = Math.min(4, availableParallelism()),
  ) {
    for (let i = 0; i < Math.max(1, lanes); i++) this.lanes.push({ queue: [], hashed: [], ends: [], running: false, bytes: 0, chains: 0 });
  }

  begin(id: number, algorithm: string): Promise<string> {
    const digest = this.book.expect(id);
    // the lane with the fewest open chains (then the fewest bytes): chains
    // that are fed at the same time (interleaved ranges) hash in parallel
    let lane = this.lanes[0]!;
    for (const l of this.lanes) if (l.chains < lane.chains || (l.chains === lane.chains && l.bytes < lane.bytes)) lane = l;
    lane.chains += 1;
    this.laneOf.set(id, lane);
    this.contexts.set(id, hashBegin(algorithm));
    return digest;
  }

  /** Queues `data` on the chain; `hashed` is called once the pool has read it (not if the pool fails or closes first). */
  update(id: number, data: Uint8Array, hashed?: () => void): Promise<void> | undefined {
    if (this.book.failure) throw this.book.failure;
    const lane = this.laneOf.get(id)!;
    lane.queue.push([this.contexts.get(id)!, data]);
    lane.hashed.push(hashed);
    lane.bytes += data.byteLength;
    this.run(lane);
    return this.inFlight() > this.maxInFlight ? this.book.waitForRoom() : undefined;
  }

  end(id: number): void {
    const lane = this.laneOf.get(id)!;
    lane.queue.push([this.contexts.get(id)!, null]);
    lane.hashed.push(undefined);
    lane.ends.push(id);
    lane.chains -= 1;
    this.laneOf.delete(id);
    this.contexts.delete(id);
    this.run(lane);
  }

  async close(): Promise<void> {
    // runs in progress finish on their own; nothing more is started
    this.book.failure ??= new Error('the hash pool is closed');
    for (const lane of this.lanes) {
      lane.queue.length = 0;
      lane.hashed.length = 0;
    }
  }

  private run(lane: Lane): void {
    if (lane.running || lane.queue.length === 0 || this.book.failure) return;
    const items = lane.queue.splice(0, RUN_ITEMS);
    const hashed = lane.hashed.splice(0, items.length);
    let bytes = 0;
    let ends = 0;
    for (const [, data] of items) {
      if (data === null) ends++;
      else bytes += data.byteLength;
    }
    const ended = lane.ends.splice(0, ends);
    lane.running = true;
    hashRun(items).then(
      (hexes) => {
        lane.running = false;
        lane.bytes -= bytes;
        for (const h of hashed) {
          try {
            h?.();
          } catch (e) {
            this.book.fail(e as Error); // never an unhandled rejection: the chain's digest fails with it
          }
        }
        ended.forEach((id, k) => this.book.settle(id, hexes[k]!));
        this.book.wakeIfRoom();
        this.run(lane);
      },
      (e: Error) => {
        lane.running = false;
        this.book.fail(e);
      },
    );
  }

  private inFlight(): number {
    let n = 0;
    for (const l of this.lanes) n += l.bytes;
    return n;
  }
}
