import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { digestFileRange, digestFileRanges, DigestCancel, fiemap, nativeAvailable } from '../src/index.js';
import { skipNote } from '../../../tools/test-needs.js';

// What the addon must survive: a count-only FIEMAP, a caller that gives up
// mid-range, a file that shrinks under a mapping, a thread that cannot start.

const hasCc = spawnSync('cc', ['--version']).status === 0;
if (!hasCc) skipNote('out-of-memory decoder test: no C compiler (cc) to build its calloc shim');
const ADDON = fileURLToPath(new URL('../build/Release/bmapkit_native.node', import.meta.url));
const shm = existsSync('/dev/shm') && statfsSync('/dev/shm').type === 0x01021994 ? '/dev/shm' : tmpdir();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(shm, 'bmapkit-native-hard-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file of `mib` MiB of non-zero data. */
function dataFile(name: string, mib: number): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  for (let i = 0; i < mib; i++) writeSync(fd, chunk);
  closeSync(fd);
  return path;
}

describe.skipIf(!nativeAvailable())('native hardening', () => {
  it('fiemap with room for no extents returns none (the kernel only counts them)', () => {
    const fsDir = mkdtempSync(join(tmpdir(), 'bmapkit-fiemap-')); // a disk filesystem: tmpfs has no FIEMAP
    const path = join(fsDir, 'counted');
    const fd = openSync(path, 'w');
    try {
      for (let i = 0; i < 64; i++) writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, i * 8192); // 64 extents where the fs keeps holes
      let extents;
      try {
        extents = fiemap(fd, 0, 1 << 20, 1000, true);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EOPNOTSUPP') throw e;
        skipNote(`FIEMAP count test: ${tmpdir()} has no FIEMAP`);
        return;
      }
      expect(extents.length).toBeGreaterThan(0);
      expect(fiemap(fd, 0, 1 << 20, 0, true)).toEqual([]);
    } finally {
      closeSync(fd);
      rmSync(fsDir, { recursive: true, force: true });
    }
  });

  it('a cancelled digest stops within one 8 MiB window, with ECANCELED', async () => {
    const path = dataFile('cancel.bin', 512);
    const fd = openSync(path, 'r');
    try {
      const done = new BigInt64Array(new SharedArrayBuffer(8));
      const cancel = new DigestCancel();
      const job = digestFileRange(fd, 0, 512 << 20, 'sha256', done, cancel);
      let atCancel = -1n;
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (Atomics.load(done, 0) > 0n) {
            atCancel = Atomics.load(done, 0);
            cancel.cancel();
            clearInterval(poll);
            resolve();
          }
        }, 1);
      });
      await expect(job).rejects.toMatchObject({ code: 'ECANCELED' });
      const after = Atomics.load(done, 0);
      expect(after).toBeLessThan(512n << 20n);
      expect(after - atCancel).toBeLessThanOrEqual(8n << 20n);
    } finally {
      closeSync(fd);
    }
  });

  it('a file that shrinks while it is hashed through a mapping fails the job (ESHORT), not the process (SIGBUS)', () => {
    // in a child: before the fix the process died of SIGBUS, which no test could catch in-process
    const path = dataFile('shrinks.bin', 256);
    const script = `
      const { openSync, truncateSync } = require('node:fs');
      const addon = require(${JSON.stringify(ADDON)});
      const fd = openSync(${JSON.stringify(path)}, 'r');
      const done = new BigInt64Array(new SharedArrayBuffer(8));
      addon.digestRanges(fd, Float64Array.of(0, 256 << 20), 'sha256', done, (err, hexes) => {
        console.log(JSON.stringify({ code: err && err.code, hexes, offset: err && err.offset }));
      });
      const poll = setInterval(() => {
        if (Atomics.load(done, 0) > 0n) { truncateSync(${JSON.stringify(path)}, 4096); clearInterval(poll); }
      }, 0);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.signal).toBe(null);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { code: string; offset: number; hexes: string[] };
    expect(result.code).toBe('ESHORT');
    expect(result.offset).toBe(4096);
    expect(result.hexes).toEqual([]);
  });

  it('many small ranges in one job: each digest as node:crypto makes it, the bytes between them never read', async () => {
    const path = join(dir, 'small-ranges.bin');
    const fd = openSync(path, 'w+');
    try {
      const data = Buffer.alloc(4 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >>> 10)) & 0xff;
      writeSync(fd, data, 0, data.length, 0);
      const spans: number[] = [];
      for (let s = 0; s + 700 < data.length; s += 3001) spans.push(s, s + 1 + (s % 700));
      const { createHash } = await import('node:crypto');
      const want = [];
      for (let k = 0; k < spans.length; k += 2) want.push(createHash('sha256').update(data.subarray(spans[k]!, spans[k + 1]!)).digest('hex'));
      const done = new BigInt64Array(new SharedArrayBuffer(8));
      expect(await digestFileRanges(fd, Float64Array.from(spans), 'sha256', done)).toEqual(want);
      let mapped = 0n;
      for (let k = 0; k < spans.length; k += 2) mapped += BigInt(spans[k + 1]! - spans[k]!);
      expect(Atomics.load(done, 0)).toBe(mapped);
      await expect(digestFileRanges(fd, Float64Array.of(10, 5), 'sha256')).rejects.toThrow(/ends before it starts/);
    } finally {
      closeSync(fd);
    }
  });

  it.skipIf(!hasCc)('a decoding thread out of memory reports ENOMEM (the caller would otherwise wait forever)', () => {
    const shim = join(dir, 'fail-calloc.so');
    const cc = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', shim, fileURLToPath(new URL('./fixtures/fail-calloc.c', import.meta.url))], { encoding: 'utf8' });
    expect(cc.status, cc.stderr).toBe(0);
    const script = `
      const addon = require(${JSON.stringify(ADDON)});
      const data = require('node:zlib').gzipSync(Buffer.alloc(4 << 20, 7));
      const d = addon.decoderOpen('gzip', 1);
      process.env.BMAPKIT_TEST_FAIL_CALLOC = '1';
      const timer = setTimeout(() => { console.log('nothing came'); process.exit(2); }, 5000);
      addon.decoderStart(d, 131072, 1 << 20, 4 << 20, 64 << 20, 0, (events) => {
        for (const e of events) {
          if (e.error) {
            console.log(e.error.code + ': ' + e.error.message);
            clearTimeout(timer);
            addon.decoderClose(d);
          }
        }
      });
      addon.decoderHold(d, true);
      addon.decoderFeed(d, data);
      addon.decoderFeed(d, null);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: shim } });
    expect(r.signal, r.stderr).toBe(null);
    expect(r.stdout.trim()).toBe('ENOMEM: out of memory for decoded data');
    expect(r.status).toBe(0);
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0 || spawnSync('prlimit', ['--version']).status !== 0)(
    'a decoding thread that cannot be started is an error, and exiting afterwards is clean',
    () => {
      // As nobody, with RLIMIT_NPROC at 1 once Node runs: pthread_create fails (root would be exempt).
      const script = `
        const addon = require(${JSON.stringify(ADDON)});
        require('node:child_process').execFileSync('prlimit', ['--pid', String(process.pid), '--nproc=1']);
        const d = addon.decoderOpen('zstd', 1);
        try {
          addon.decoderStart(d, 131072, 1 << 20, 4 << 20, 64 << 20, 0, () => {});
          console.log('started');
        } catch (e) {
          console.log('refused ' + e.code + ' ' + e.message);
        }
        addon.decoderClose(d);
        setTimeout(() => console.log('finalized'), 200); // the callback's finalizer runs on the loop meanwhile
      `;
      const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { encoding: 'utf8', cwd: '/' });
      expect(r.signal, r.stderr).toBe(null);
      expect(r.stdout.trim()).toBe('refused ENOMEM cannot start the decoding thread\nfinalized');
      expect(r.status).toBe(0);
    },
  );
});
