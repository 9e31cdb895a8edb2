import { createHash, type Hash } from 'node:crypto';

const ZERO = 0x30; // ASCII '0'

/**
 * Hashes a byte stream as the bmap file-checksum procedure requires
 * (bmap-format.md §6.4): every byte of the file, except that the digest's own
 * characters count as ASCII '0'. Bytes are kept only while the algorithm is
 * not known yet or while they might still be the digest (a hold); everything
 * else is hashed as soon as it arrives.
 */
export class MaskedHasher {
  private pending: Uint8Array[] = [];
  /** Absolute offset of the first pending byte. */
  private pendingStart = 0;
  /** Absolute offset one past the last byte appended. */
  private end = 0;
  private hash: Hash | undefined;
  private disabled = false;
  private holdAt = Number.POSITIVE_INFINITY;
  private mask: { start: number; end: number } | undefined;

  /** Adds the next bytes of the file. */
  append(bytes: Uint8Array): void {
    if (this.disabled || bytes.length === 0) return;
    this.pending.push(bytes);
    this.end += bytes.length;
  }

  /** Starts hashing with a node:crypto algorithm; pending bytes are hashed on the next flush. */
  start(algorithm: string): void {
    if (!this.disabled && this.hash === undefined) this.hash = createHash(algorithm);
  }

  /** This file has no checksum to verify: drop everything. */
  disable(): void {
    this.disabled = true;
    this.pending = [];
  }

  get active(): boolean {
    return !this.disabled;
  }

  /** Keeps bytes from `offset` on unhashed until release() (they may be the digest). */
  hold(offset: number): void {
    this.holdAt = offset;
  }

  release(): void {
    this.holdAt = Number.POSITIVE_INFINITY;
  }

  /** The digest text occupies [start, end): hash it as zeros. */
  setMask(start: number, end: number): void {
    this.mask = { start, end };
  }

  /** Bytes [start, end) that are still pending (used to read the digest text itself). */
  slice(start: number, end: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, end - start));
    let at = this.pendingStart;
    for (const p of this.pending) {
      const from = Math.max(start, at);
      const to = Math.min(end, at + p.length);
      if (from < to) out.set(p.subarray(from - at, to - at), from - start);
      at += p.length;
    }
    return out;
  }

  /** Hashes every pending byte that is before the hold point. */
  flush(): void {
    if (this.hash === undefined) return;
    const limit = Math.min(this.end, this.holdAt);
    while (this.pending.length > 0 && this.pendingStart < limit) {
      const p = this.pending[0]!;
      const take = Math.min(p.length, limit - this.pendingStart);
      this.update(p.subarray(0, take), this.pendingStart);
      if (take === p.length) this.pending.shift();
      else this.pending[0] = p.subarray(take);
      this.pendingStart += take;
    }
  }

  /** Flushes everything and returns the lower-case hex digest. */
  digest(): string {
    this.release();
    this.flush();
    if (this.hash === undefined) throw new Error('MaskedHasher.digest() before start()');
    return this.hash.digest('hex');
  }

  private update(bytes: Uint8Array, at: number): void {
    const m = this.mask;
    const endAt = at + bytes.length;
    if (m === undefined || m.end <= at || m.start >= endAt) {
      this.hash!.update(bytes);
      return;
    }
    const copy = Uint8Array.from(bytes);
    copy.fill(ZERO, Math.max(0, m.start - at), Math.min(bytes.length, m.end - at));
    this.hash!.update(copy);
  }
}
