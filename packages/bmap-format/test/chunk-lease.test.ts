import { describe, expect, it } from 'vitest';
import { BufferPool, chunkAlive, holdChunk, releaseChunk, type ImageChunk } from '../src/index.js';

describe('BufferPool: lent chunk buffers', () => {
  it('a released buffer is reused, and every view of it kept from before reads as empty', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.chunk(4096, 1000, 3);
    expect(a).toMatchObject({ offset: 4096, range: 3 });
    expect(a.data.byteLength).toBe(1000);
    a.data.fill(7);
    const kept = a.data.subarray(10, 20); // against the rules: a view kept past release
    releaseChunk(a);
    expect(pool.idle).toBe(1);
    expect(chunkAlive(a)).toBe(false);
    expect(a.data.byteLength).toBe(0);
    expect(kept.byteLength).toBe(0); // never the next chunk's bytes
    const b = pool.chunk(8192, 1024, 4);
    expect(pool.idle).toBe(0);
    expect(b.data[0]).toBe(7); // the same memory, not a new zeroed buffer
    expect(chunkAlive(b)).toBe(true);
  });

  it('a held chunk goes back only with its last claim', () => {
    const pool = new BufferPool(64, 4);
    const c = pool.chunk(0, 64, 0);
    holdChunk(c);
    holdChunk(c);
    releaseChunk(c);
    releaseChunk(c);
    expect(chunkAlive(c)).toBe(true);
    expect(pool.idle).toBe(0);
    releaseChunk(c);
    expect(chunkAlive(c)).toBe(false);
    expect(pool.idle).toBe(1);
  });

  it('releasing or holding a chunk whose buffer went back is CHUNK_LEASE, naming the chunk and the fix', () => {
    const pool = new BufferPool(64, 4);
    const c = pool.chunk(512, 64, 0);
    releaseChunk(c);
    const message = /^the chunk at byte 512 was (released|held) after its buffer went back to its pool; a stage that emits several chunks over one chunk's data must holdChunk\(\) each one it adds$/;
    expect(() => releaseChunk(c)).toThrow(expect.objectContaining({ code: 'CHUNK_LEASE', message: expect.stringMatching(message) }));
    expect(() => holdChunk(c)).toThrow(expect.objectContaining({ code: 'CHUNK_LEASE' }));
    expect(pool.idle).toBe(1);
  });

  it('keeps at most `keep` idle buffers; the rest go to the GC', () => {
    const pool = new BufferPool(64, 2);
    const cs = [0, 1, 2, 3].map((i) => pool.chunk(i * 64, 64, 0));
    for (const c of cs) releaseChunk(c);
    expect(pool.idle).toBe(2);
    expect(cs.every((c) => !chunkAlive(c))).toBe(true);
  });

  it('a chunk too big for the pool is refused; chunks of their own data ignore hold and release', () => {
    expect(() => new BufferPool(64, 2).chunk(0, 65, 0)).toThrow(RangeError);
    const own: ImageChunk = { offset: 0, data: new Uint8Array(8).fill(1), range: 0 };
    holdChunk(own);
    releaseChunk(own);
    releaseChunk(own);
    expect(chunkAlive(own)).toBe(true);
    expect(own.data.byteLength).toBe(8);
  });
});
