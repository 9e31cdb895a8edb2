import { describe, expect, it } from 'vitest';
import { closeSync, constants, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachLoop, loopSupport } from '../../../tools/loop-device.js';
import { createHash } from 'node:crypto';
import { alignedBuffer, blockDeviceSectorSize, blockDeviceSize, canDigestFiles, digestFileRange, digestFileStep, hashBegin, dropCache, nativeAvailable } from '../src/index.js';
import { skipNote } from '../../../tools/test-needs.js';

describe('the native addon', () => {
  it('is built', () => {
    expect(nativeAvailable()).toBe(true);
  });

  it('cuts buffers that O_DIRECT accepts, at any requested alignment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmapkit-native-'));
    try {
      const file = join(dir, 'data');
      writeFileSync(file, Buffer.alloc(1 << 20, 7));
      const fd = openSync(file, constants.O_RDONLY | constants.O_DIRECT);
      try {
        for (let i = 0; i < 20; i++) {
          const buf = alignedBuffer(65536, 4096);
          expect(buf.byteLength).toBe(65536);
          expect(readSync(fd, buf, 0, 65536, 4096 * i)).toBe(65536);
          expect(buf.every((b) => b === 7)).toBe(true);
        }
        // a plain buffer at an odd offset is refused by the kernel: the test above proves alignment
        const odd = new Uint8Array(65536 + 1).subarray(1);
        expect(() => readSync(fd, odd, 0, 65536 - 1, 0)).toThrow(/EINVAL/);
      } finally {
        closeSync(fd);
      }
      const fd2 = openSync(file, 'r');
      dropCache(fd2, 0, 0);
      closeSync(fd2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes file ranges on the thread pool with the OpenSSL inside Node', async () => {
    expect(canDigestFiles('sha256')).toBe(true);
    expect(canDigestFiles('sha1')).toBe(true);
    expect(canDigestFiles('no-such-digest')).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'bmapkit-native-'));
    try {
      const file = join(dir, 'data');
      const data = Buffer.alloc((9 << 20) + 4321); // more than one 8 MiB window
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 13)) & 0xff;
      writeFileSync(file, data);
      const fd = openSync(file, 'r');
      try {
        const done = new BigInt64Array(new SharedArrayBuffer(8));
        const sha = (b: Uint8Array, alg = 'sha256') => createHash(alg).update(b).digest('hex');
        expect(await digestFileRange(fd, 4096, data.length, 'sha256', done)).toBe(sha(data.subarray(4096)));
        expect(done[0]).toBe(BigInt(data.length - 4096));
        expect(await digestFileRange(fd, 100, 5000, 'sha1')).toBe(sha(data.subarray(100, 5000), 'sha1'));
        expect(await digestFileRange(fd, 0, 0, 'sha256')).toBe(sha(new Uint8Array(0)));
        // past the end of the file: ESHORT, saying where it ends
        await expect(digestFileRange(fd, 8192, data.length + 10, 'sha256')).rejects.toMatchObject({ code: 'ESHORT', offset: data.length });
      } finally {
        closeSync(fd);
      }
      // not a regular file: read, not mapped
      const zero = openSync('/dev/zero', 'r');
      try {
        expect(await digestFileRange(zero, 0, (1 << 20) + 5, 'sha256')).toBe(createHash('sha256').update(new Uint8Array((1 << 20) + 5)).digest('hex'));
      } finally {
        closeSync(zero);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hashes one range in steps carried on a context: the digest of the whole, a busy context refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmapkit-native-'));
    try {
      const file = join(dir, 'steps');
      const data = Buffer.alloc((3 << 20) + 77);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 11)) & 0xff;
      writeFileSync(file, data);
      const fd = openSync(file, 'r');
      try {
        const ctx = hashBegin('sha256');
        expect(await digestFileStep(fd, 10, 1 << 20, 'sha256', ctx, false)).toBeUndefined();
        const busy = digestFileStep(fd, 1 << 20, 2 << 20, 'sha256', ctx, false);
        await expect(digestFileStep(fd, 1 << 20, 2 << 20, 'sha256', ctx, false)).rejects.toThrow('already in a running job');
        await busy;
        expect(await digestFileStep(fd, 2 << 20, data.length, 'sha256', ctx, true)).toBe(createHash('sha256').update(data.subarray(10)).digest('hex'));
        await expect(digestFileStep(fd, data.length - 5, data.length + 5, 'sha256', hashBegin('sha256'), true)).rejects.toMatchObject({ code: 'ESHORT', offset: data.length });
      } finally {
        closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the build command when the addon cannot be loaded', () => {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', "import('@bmapkit/native').then(m => m.blockDeviceSize(0)).catch(e => { console.log(e.code + ': ' + e.message); })"],
      { encoding: 'utf8', env: { ...process.env, BMAPKIT_NATIVE_ADDON: '/nonexistent/addon.node' } },
    );
    expect(r.stdout).toMatch(/^NATIVE_UNAVAILABLE: measuring a block device needs bmapkit's native addon, which does not load here .*pnpm --filter @bmapkit\/native build:native/);
  });
});

const support = loopSupport();
if (!support.ok) skipNote(`native block-device tests: ${support.reason}`);

describe.skipIf(!support.ok)('block-device ioctls on a real loop device', () => {
  it('reads the size and the sector size', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bmapkit-native-'));
    const file = join(dir, 'disk.img');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 3 << 20);
    closeSync(fd);
    const l = attachLoop(file);
    try {
      const dev = openSync(l.dev, 'r');
      expect(blockDeviceSize(dev)).toBe(3 << 20);
      expect([512, 4096]).toContain(blockDeviceSectorSize(dev));
      closeSync(dev);
    } finally {
      l.detach();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
