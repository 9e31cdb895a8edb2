import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockRange } from './types.js';

/**
 * The ranges of a bmap as its readers use them: how many, the one at an
 * index, all of them in order. A plain `BlockRange[]` is one; so is a
 * RangeTable, which a parsed bmap holds.
 */
export interface RangeList extends Iterable<BlockRange> {
  readonly length: number;
  at(index: number): BlockRange | undefined;
}

/** Ranges per chunk: the unit kept in memory or written out. */
const CHUNK = 16384;

/** Default bytes of chunks held in memory (~170,000 sha256 ranges); older ones go to a temporary file. */
export const DEFAULT_RANGE_MEMORY = 8 << 20;

interface Chunk {
  /** first, last of each range. */
  bounds: Float64Array;
  /** Each range's checksum as bytes (digestBytes each), when its flag says it has one. */
  sums: Uint8Array;
  /** 1: the range has a checksum. */
  flags: Uint8Array;
  /** Last use, for choosing what to write out. */
  used: number;
}

/**
 * Ranges held compactly: 16 bytes of bounds and the checksum's bytes (32
 * for sha256) a range, in chunks of 16384, instead of an object and a
 * 64-character string each (~170 bytes). Past `memoryBytes` of chunks, the
 * least recently used go to an unlinked temporary file and are read back
 * when asked for; readers go through the ranges in order, so each chunk is
 * read back about once a pass. Memory is bounded whatever the bmap's size
 * (a million sha256 ranges: 48 MB, of which at most `memoryBytes` in
 * memory). Ranges are added in order and never change.
 */
export class RangeTable implements RangeList {
  readonly #chunks: Array<Chunk | undefined> = [];
  #count = 0;
  /** Bytes per checksum, set by the first one added. */
  #digestBytes = -1;
  /** Checksums that do not fit the table's shape (another length, odd hex): rare, and refused by validation anyway. */
  readonly #odd = new Map<number, string>();
  #resident = 0;
  #clock = 0;
  #spill: { fd: number; written: Set<number> } | undefined | null;
  /** Buffers of a chunk written out, reused for the next one read back (no garbage per chunk). */
  #free: Chunk | undefined;

  readonly #memoryBytes: number;

  constructor(memoryBytes = DEFAULT_RANGE_MEMORY) {
    this.#memoryBytes = memoryBytes;
  }

  get length(): number {
    return this.#count;
  }

  /** Adds the next range (`checksum`: lower-case hex). */
  push(range: BlockRange): void {
    const i = this.#count;
    const c = i % CHUNK === 0 ? this.#newChunk() : this.#chunk(Math.floor(i / CHUNK));
    const k = i % CHUNK;
    c.bounds[2 * k] = range.first;
    c.bounds[2 * k + 1] = range.last;
    const sum = range.checksum;
    if (sum !== undefined) {
      if (this.#digestBytes === -1 && sum.length % 2 === 0 && sum.length > 0 && sum.length <= 128) this.#digestBytes = sum.length / 2;
      if (sum.length === 2 * this.#digestBytes) {
        c.sums.set(Buffer.from(sum, 'hex'), k * this.#digestBytes);
        c.flags[k] = 1;
      } else {
        this.#odd.set(i, sum);
      }
    }
    this.#count += 1;
  }

  at(index: number): BlockRange | undefined {
    if (index < 0) index += this.#count;
    if (!Number.isInteger(index) || index < 0 || index >= this.#count) return undefined;
    const c = this.#chunk(Math.floor(index / CHUNK));
    const k = index % CHUNK;
    const range: BlockRange = { first: c.bounds[2 * k]!, last: c.bounds[2 * k + 1]! };
    if (c.flags[k] === 1) {
      range.checksum = Buffer.from(c.sums.buffer, c.sums.byteOffset + k * this.#digestBytes, this.#digestBytes).toString('hex');
    } else {
      const sum = this.#odd.get(index);
      if (sum !== undefined) range.checksum = sum;
    }
    return range;
  }

  *[Symbol.iterator](): Iterator<BlockRange> {
    for (let i = 0; i < this.#count; i++) yield this.at(i)!;
  }

  /** Bytes the chunks take, in memory and written out. */
  get bytes(): number {
    return this.#chunks.length * this.#chunkBytes();
  }

  /** Bytes of chunks held in memory now (at most the budget, or two chunks). */
  get residentBytes(): number {
    return this.#resident * this.#chunkBytes();
  }

  /** Releases the temporary file, if any (also done when the table is garbage). */
  dispose(): void {
    if (this.#spill) {
      closeSync(this.#spill.fd);
      SPILLS.unregister(this);
    }
    this.#spill = null;
  }

  #chunkBytes(): number {
    return CHUNK * (16 + Math.max(this.#digestBytes, 0) + 1);
  }

  #newChunk(): Chunk {
    this.#resident += 1; // counted before it exists: make room for it first
    this.#evict(-1);
    // the checksum size is known by the time a second chunk starts; the first is sized for sha512 at most
    const digest = this.#digestBytes > 0 ? this.#digestBytes : 64;
    const free = this.#free !== undefined && this.#free.sums.length >= CHUNK * digest ? this.#free : undefined;
    this.#free = undefined;
    const c: Chunk = free ?? { bounds: new Float64Array(2 * CHUNK), sums: new Uint8Array(CHUNK * digest), flags: new Uint8Array(CHUNK), used: 0 };
    c.flags.fill(0);
    c.used = ++this.#clock;
    this.#chunks.push(c);
    return c;
  }

  #chunk(n: number): Chunk {
    let c = this.#chunks[n];
    if (c === undefined) {
      c = this.#readBack(n);
      this.#chunks[n] = c;
      this.#resident += 1;
      this.#evict(n);
    }
    c.used = ++this.#clock;
    return c;
  }

  /** Writes out least recently used chunks while more than memoryBytes are held (never `keep`). */
  #evict(keep: number): void {
    while (this.#resident * this.#chunkBytes() > this.#memoryBytes && this.#resident > 2) {
      let victim = -1;
      for (let n = 0; n < this.#chunks.length; n++) {
        const c = this.#chunks[n];
        if (c !== undefined && n !== keep && (victim === -1 || c.used < this.#chunks[victim]!.used)) victim = n;
      }
      if (victim === -1 || !this.#writeOut(victim)) return;
      this.#free = this.#chunks[victim];
      this.#chunks[victim] = undefined;
      this.#resident -= 1;
    }
  }

  #writeOut(n: number): boolean {
    if (this.#spill === null) return false;
    if (this.#spill === undefined) {
      try {
        const dir = mkdtempSync(join(tmpdir(), 'bmapkit-ranges-'));
        const path = join(dir, 'ranges');
        const fd = openSync(path, 'w+', 0o600);
        unlinkSync(path); // gone with the descriptor, whatever happens to the process
        rmSync(dir, { recursive: true, force: true });
        this.#spill = { fd, written: new Set() };
        SPILLS.register(this, fd, this);
      } catch {
        this.#spill = null; // nowhere to write: everything stays in memory
        return false;
      }
    }
    const spill = this.#spill;
    if (this.#digestBytes === -1) this.#digestBytes = 0; // the record size is fixed from now on: later checksums go to #odd
    if (!spill.written.has(n)) {
      const c = this.#chunks[n]!;
      const at = n * this.#chunkBytes();
      const sums = c.sums.subarray(0, CHUNK * Math.max(this.#digestBytes, 0));
      let off = at;
      for (const part of [new Uint8Array(c.bounds.buffer), sums, c.flags]) {
        for (let done = 0; done < part.length; ) done += writeSync(spill.fd, part, done, part.length - done, off + done);
        off += part.length;
      }
      spill.written.add(n);
    }
    return true;
  }

  #readBack(n: number): Chunk {
    const fd = this.#spill!.fd;
    const digest = Math.max(this.#digestBytes, 0);
    const reuse = this.#free !== undefined && this.#free.sums.length >= CHUNK * digest ? this.#free : undefined;
    this.#free = undefined;
    const c: Chunk = reuse ?? { bounds: new Float64Array(2 * CHUNK), sums: new Uint8Array(CHUNK * digest), flags: new Uint8Array(CHUNK), used: 0 };
    let off = n * this.#chunkBytes();
    for (const part of [new Uint8Array(c.bounds.buffer), c.sums.subarray(0, CHUNK * digest), c.flags]) {
      for (let done = 0; done < part.length; ) {
        const got = readSync(fd, part, done, part.length - done, off + done);
        if (got === 0) throw new Error('internal error: the range table file is short');
        done += got;
      }
      off += part.length;
    }
    return c;
  }
}

/** Closes the temporary file of a table that was dropped without dispose(). */
const SPILLS = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});
