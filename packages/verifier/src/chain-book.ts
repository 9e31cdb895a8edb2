/**
 * The hash pool's bookkeeping: a promise
 * per chain's digest, the callers waiting for room under the in-flight
 * bound, and the first failure, which rejects every digest still awaited and
 * wakes every waiter.
 */
export class ChainBook {
  private readonly digests = new Map<number, { resolve: (hex: string) => void; reject: (e: Error) => void }>();
  private roomWaiters: Array<() => void> = [];
  failure: Error | undefined;

  /** `full()`: whether more bytes are in flight than the pool allows. */
  constructor(private readonly full: () => boolean) {}

  /** The digest of chain `id`, once settle() is called for it (a rejection is surfaced where it is awaited). */
  expect(id: number): Promise<string> {
    const digest = new Promise<string>((resolve, reject) => this.digests.set(id, { resolve, reject }));
    digest.catch(() => undefined);
    return digest;
  }

  settle(id: number, hex: string): void {
    const d = this.digests.get(id);
    this.digests.delete(id);
    d?.resolve(hex);
  }

  /** Waits while the pool is full (`beforeEachWait` first, each time); throws the failure, if any. */
  async waitForRoom(beforeEachWait?: () => void): Promise<void> {
    while (this.full() && !this.failure) {
      beforeEachWait?.();
      await new Promise<void>((r) => this.roomWaiters.push(r));
    }
    if (this.failure) throw this.failure;
  }

  /** Wakes the waiters once there is room. */
  wakeIfRoom(): void {
    if (this.full()) return;
    this.wakeAll();
  }

  fail(e: Error): void {
    this.failure ??= e;
    for (const d of this.digests.values()) d.reject(e);
    this.digests.clear();
    this.wakeAll();
  }

  private wakeAll(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of w) r();
  }
}
