import { describe, expect, it } from 'vitest';
import { createHash, randomFillSync } from 'node:crypto';
import { canDigestFiles } from '@bmapkit/native';
import { NativeHashPool } from '../src/index.js';
import { skipNote } from '../../../tools/test-needs.js';

const available = canDigestFiles('sha256');
if (!available) skipNote('NativeHashPool: the native addon cannot hash here');

describe.skipIf(!available)('NativeHashPool: hash chains on the libuv pool, in place', () => {
  it('gives node:crypto digests for many interleaved chains of small and large updates, in any lane count', async () => {
    const data = randomFillSync(new Uint8Array(6 << 20));
    for (const lanes of [1, 2, 3]) {
      const pool = new NativeHashPool(1 << 20, lanes);
      const want: string[] = [];
      const got: Array<Promise<string>> = [];
      let at = 0;
      for (let id = 0; id < 40; id++) {
        const len = id % 7 === 0 ? 700_000 : 1 + ((id * 7919) % 50_000);
        const bytes = data.subarray(at, at + len);
        at += len;
        got.push(pool.begin(id, id % 2 ? 'sha256' : 'sha1'));
        want.push(createHash(id % 2 ? 'sha256' : 'sha1').update(bytes).digest('hex'));
        // odd sizes, some empty, fed in order; waits when over the in-flight limit
        for (let off = 0; off < len; ) {
          const n = Math.min(len - off, 1 + ((off * 31 + id) % 90_000));
          const wait = pool.update(id, bytes.subarray(off, off + n));
          if (wait) await wait;
          off += n;
        }
        pool.update(id, new Uint8Array(0));
        pool.end(id);
      }
      expect(await Promise.all(got)).toEqual(want);
      await pool.close();
    }
  });

  it("calls each update's hashed callback once its bytes are hashed; one that throws fails the digest, never the process", async () => {
    const pool = new NativeHashPool(1 << 20, 1);
    const bytes = randomFillSync(new Uint8Array(300_000));
    const calls: number[] = [];
    const good = pool.begin(1, 'sha256');
    pool.update(1, bytes, () => calls.push(1));
    pool.end(1);
    expect(await good).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(calls).toEqual([1]);
    const bad = pool.begin(2, 'sha256');
    pool.update(2, bytes, () => {
      throw new Error('given back twice');
    });
    pool.end(2);
    await expect(bad).rejects.toThrow('given back twice');
    await pool.close();
  });

  it('bounds the bytes in flight: update() asks the caller to wait past maxInFlight', async () => {
    const pool = new NativeHashPool(256 << 10, 1);
    const digest = pool.begin(0, 'sha256');
    const chunk = new Uint8Array(200 << 10).fill(3);
    expect(pool.update(0, chunk)).toBeUndefined();
    const wait = pool.update(0, chunk);
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    pool.end(0);
    expect(await digest).toBe(createHash('sha256').update(chunk).update(chunk).digest('hex'));
    await pool.close();
  });

  it('refuses updates after close', async () => {
    const pool = new NativeHashPool();
    pool.begin(0, 'sha256').catch(() => undefined);
    await pool.close();
    expect(() => pool.update(0, new Uint8Array(4))).toThrow(/closed/);
  });
});
