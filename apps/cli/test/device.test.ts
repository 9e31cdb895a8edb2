import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseBmap } from '@bmapkit/bmap-format';
import { attachLoop, loopSupport, mountUnder, writeMbr, type LoopDevice } from '../../../tools/loop-device.js';
import { BIN, VECTORS, rangeChecksum, run } from './run.js';
import { sha256 } from './images.js';
import { missingProgram, skipNote } from '../../../tools/test-needs.js';

const support = loopSupport();
if (!support.ok) skipNote(`CLI block-device tests: ${support.reason}`);
const noMkfs = support.ok && skipNote(missingProgram('mkfs.ext4') && 'the mounted-device refusals: mkfs.ext4 is not installed (apt-get install e2fsprogs)');

const BMAP = `${VECTORS}test.image.bmap.v2.0`;
const IMAGE = `${VECTORS}test.image.gz`;
const OLD = 0xaa;

describe.skipIf(!support.ok)('copy to real block devices (loop devices)', () => {
  let dir: string;
  let image: Buffer;
  let mapped: (i: number) => boolean;
  const cleanups: Array<() => void> = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-dev-'));
    image = gunzipSync(readFileSync(IMAGE));
    const bmap = await parseBmap(readFileSync(BMAP));
    const mask = new Uint8Array(bmap.imageSize);
    for (const r of bmap.ranges) mask.fill(1, r.first * bmap.blockSize, Math.min((r.last + 1) * bmap.blockSize, bmap.imageSize));
    mapped = (i) => mask[i] === 1;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  const sysfs = (dev: string, file: string) => `/sys/block/${basename(dev)}/${file}`;
  /** A loop device over a file of old content (0xAA), by default 1 MiB. */
  const device = (name: string, size = 1 << 20, options: { partitions?: boolean } = {}): LoopDevice & { backing: string } => {
    const backing = join(dir, name);
    writeFileSync(backing, Buffer.alloc(size, OLD));
    if (options.partitions === true) writeMbr(backing, 1024, 1024);
    const l = attachLoop(backing, options);
    cleanups.push(() => l.detach());
    writeFileSync(sysfs(l.dev, 'bdi/max_ratio'), '100'); // loop devices outlive detaching: start from the default
    return { ...l, backing };
  };
  const contents = (dev: string) => readFileSync(dev);
  const scheduler = (dev: string) => readFileSync(sysfs(dev, 'queue/scheduler'), 'utf8');
  const maxRatio = (dev: string) => readFileSync(sysfs(dev, 'bdi/max_ratio'), 'utf8').trim();
  /** The mapped blocks hold the image; every other byte keeps its old content. */
  const expectFlashed = (dev: string) => {
    const got = contents(dev);
    for (let i = 0; i < got.length; i++) {
      const want = i < image.length && mapped(i) ? image[i] : OLD;
      if (got[i] !== want) throw new Error(`byte ${i} of ${dev}: ${got[i]}, want ${want}`);
    }
  };
  const mount = (dev: string) => {
    const m = mountUnder(dir, dev);
    cleanups.push(m.unmount);
    return m.at;
  };

  it('writes the mapped blocks, leaves the others untouched, and says "block device"', () => {
    const d = device('plain.img');
    const r = run(['copy', '--bmap', BMAP, IMAGE, d.dev]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`copying image 'test.image.gz' to block device '${d.dev}' using bmap file 'test.image.bmap.v2.0'`);
    expectFlashed(d.dev);
  });

  it('a raw image: readExtents, verifyChecksums and the range writer to the device, same result', () => {
    const d = device('raw.img');
    const raw = join(dir, 'test.image');
    writeFileSync(raw, image);
    const r = run(['copy', '--bmap', BMAP, raw, d.dev]);
    expect(r.status, r.stderr).toBe(0);
    expectFlashed(d.dev);
    const bad = join(dir, 'raw-bad.bmap');
    writeFileSync(bad, readFileSync(`${VECTORS}test.image.bmap.v1.2`, 'utf8').replace(/sha1="[0-9a-f]{40}"> 15-18/, `sha1="${'0'.repeat(40)}"> 15-18`));
    const f = run(['copy', '--bmap', bad, raw, d.dev]);
    expect(f.status).toBe(1);
    expect(f.stderr).toMatch(/ERROR: checksum mismatch for blocks range 15-18: .*; '.*' was partly overwritten and does not hold a complete image\n$/);
  });

  it('--direct writes the same bytes with O_DIRECT (the image ends mid-block)', () => {
    const d = device('direct.img');
    const r = run(['copy', '--direct', '--bmap', BMAP, IMAGE, d.dev]);
    expect(r.status, r.stderr).toBe(0);
    expectFlashed(d.dev);
  });

  it('writes with O_DIRECT by default, through the page cache with --no-direct: the same bytes', () => {
    for (const [flag, direct] of [[[], true], [['--no-direct'], false]] as const) {
      const d = device(`default-direct-${direct}.img`);
      const r = run(['copy', '--json', ...flag, '--bmap', BMAP, IMAGE, d.dev]);
      expect(r.status, r.stderr).toBe(0);
      const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; direct?: boolean }).find((e) => e.event === 'done');
      expect(done?.direct).toBe(direct);
      expectFlashed(d.dev);
    }
  });

  it('a device whose backing store fills up mid-copy fails with exit 1, with O_DIRECT and through the page cache', () => {
    // a loop device over a sparse file on a 128 KiB tmpfs: its writes fail once the tmpfs is full
    const small = join(dir, 'small-fs');
    execFileSync('mkdir', ['-p', small]);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', small], { encoding: 'utf8' });
    if (mounted.status !== 0) return void skipNote(`the full-device test: cannot mount a small tmpfs (${mounted.stderr.trim()})`);
    cleanups.push(() => void spawnSync('umount', [small]));
    for (const flag of [[], ['--no-direct']]) {
      const backing = join(small, `full${flag.length}.img`);
      execFileSync('truncate', ['-s', '1M', backing]);
      const l = attachLoop(backing);
      cleanups.push(() => l.detach());
      const r = run(['copy', ...flag, '--bmap', BMAP, IMAGE, l.dev]);
      // the page cache takes the writes; the failure comes with the fsync, which must not be retried into a success
      expect(r.status, `${flag.join(' ')}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`ERROR: .*'${l.dev}'.*\\n$`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('through a symlink (as /dev/disk/by-id/... is)', () => {
    const d = device('link.img');
    const link = join(dir, 'by-id-link');
    execFileSync('ln', ['-sf', d.dev, link]);
    const r = run(['copy', '--bmap', BMAP, IMAGE, link]);
    expect(r.status, r.stderr).toBe(0);
    expectFlashed(d.dev);
  });

  describe('refusals leave the device untouched', () => {
    const refused = (d: LoopDevice, args: string[], message: RegExp) => {
      const before = sha256(contents(d.dev));
      const r = run(['copy', ...args, '--bmap', BMAP, IMAGE, d.dev]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(sha256(contents(d.dev))).toBe(before);
    };

    it.skipIf(noMkfs)('mounted', () => {
      const d = device('mounted.img', 8 << 20);
      execFileSync('mkfs.ext4', ['-q', d.dev]);
      const at = mount(d.dev);
      refused(d, [], new RegExp(`ERROR: refusing to write to '${d.dev}': ${basename(d.dev)} is mounted on ${at}; unmount it first`));
    });

    it.skipIf(noMkfs)('a partition of it mounted', () => {
      const d = device('parted.img', 2 << 20, { partitions: true });
      execFileSync('mkfs.ext4', ['-q', `${d.dev}p1`]);
      const at = mount(`${d.dev}p1`);
      refused(d, [], new RegExp(`ERROR: refusing to write to '${d.dev}': ${basename(d.dev)}p1 is mounted on ${at}`));
    });

    it('held O_EXCL by another process', async () => {
      const d = device('held.img');
      const holder = spawn(process.execPath, ['-e', `const fs = require('fs'); fs.openSync(${JSON.stringify(d.dev)}, fs.constants.O_WRONLY | fs.constants.O_EXCL); console.log('held'); setInterval(() => {}, 1000)`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      cleanups.push(() => holder.kill('SIGKILL'));
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      refused(d, [], /ERROR: cannot open block device '.*' in exclusive mode: it is busy \(mounted, part of LVM, RAID or dm-crypt, or opened by another flashing tool\); close whatever uses it\n$/);
    });

    it('too small for the image', () => {
      const d = device('small.img', 512 << 10);
      refused(d, [], new RegExp(`ERROR: the image file '.*test.image.gz' has size 802.5 KiB and it will not fit the block device '${d.dev}' which has 512.0 KiB capacity`));
    });

    it('not removable, with --removable-device', () => {
      const d = device('fixed.img');
      refused(d, ['--removable-device'], new RegExp(`ERROR: Destination file ${d.dev} is not a removable block device\\. .*removable reads '0'`));
    });

    it('a /dev typo is refused and nothing is created', () => {
      const typo = `/dev/bmapkit-typo-${process.pid}`;
      const r = run(['copy', '--bmap', BMAP, IMAGE, typo]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('refusing to create a regular file under "/dev"');
      expect(existsSync(typo)).toBe(false);
    });
  });

  describe('sysfs tuning is restored', () => {
    it('after success (mq-deadline -> none -> mq-deadline, max_ratio 100 -> 1 -> 100)', () => {
      const d = device('tune-ok.img');
      writeFileSync(sysfs(d.dev, 'queue/scheduler'), 'mq-deadline');
      expect(run(['copy', '--bmap', BMAP, IMAGE, d.dev]).status).toBe(0);
      expect(scheduler(d.dev)).toMatch(/\[mq-deadline\]/);
      expect(maxRatio(d.dev)).toBe('100');
    });

    it('after a checksum failure', () => {
      const d = device('tune-bad.img');
      writeFileSync(sysfs(d.dev, 'queue/scheduler'), 'mq-deadline');
      const bad = join(dir, 'bad.bmap');
      // a 1.2 bmap has no file checksum, so a wrong range checksum is found only while copying
      const text = readFileSync(`${VECTORS}test.image.bmap.v1.2`, 'utf8').replace(/sha1="[0-9a-f]{40}"> 15-18/, `sha1="${'0'.repeat(40)}"> 15-18`);
      expect(text).toContain('0'.repeat(40));
      writeFileSync(bad, text);
      const r = run(['copy', '--bmap', bad, IMAGE, d.dev]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/checksum mismatch for blocks range 15-18.*; '.*' was partly overwritten and does not hold a complete image/);
      expect(scheduler(d.dev)).toMatch(/\[mq-deadline\]/);
      expect(maxRatio(d.dev)).toBe('100');
    });

    it('after SIGINT mid-copy (exit 130, "interrupted, exiting")', async () => {
      const d = device('tune-int.img', 4 << 20);
      writeFileSync(sysfs(d.dev, 'queue/scheduler'), 'mq-deadline');
      const child = spawn(process.execPath, [BIN, 'copy', '--nobmap', '-', d.dev], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdin.on('error', () => undefined); // EPIPE once it has exited
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      child.stdin.write(Buffer.alloc(1 << 20, 1)); // and then nothing: the copy waits for more
      const deadline = Date.now() + 10_000;
      while (!/\[none\]/.test(scheduler(d.dev)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(scheduler(d.dev)).toMatch(/\[none\]/);
      expect(maxRatio(d.dev)).toBe('1');
      const status = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await status, stderr).toBe(130);
      child.stdin.destroy();
      expect(stderr).toContain('ERROR: interrupted, exiting');
      expect(scheduler(d.dev)).toMatch(/\[mq-deadline\]/);
      expect(maxRatio(d.dev)).toBe('100');
    });
  });

  describe('read-back verification', () => {
    it('--verify-written rewrites a chunk that was stored wrong, and the device ends up right', () => {
      const d = device('rb-ok.img');
      const r = run(['copy', '--verify-written', '--bmap', BMAP, IMAGE, d.dev], { env: { BMAPKIT_TEST_CORRUPT_WRITES: '1' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/WARNING: blocks \d+-\d+ of '.*' read back wrong; rewriting them \(attempt 1\)/);
      expect(r.stderr).toMatch(/info: read back and verified 468\.0 KiB from '.*' \(direct I\/O\), 1 chunk\(s\) rewritten/);
      expectFlashed(d.dev);
    });

    it('--verify-written fails, naming the blocks, when rewriting does not help', () => {
      const d = device('rb-bad.img');
      const r = run(['copy', '--verify-written', '--direct', '--bmap', BMAP, IMAGE, d.dev], { env: { BMAPKIT_TEST_CORRUPT_WRITES: '1000' } });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ERROR: blocks \d+-\d+ of '.*' read back different from what was written, 3 rewrites did not help/);
    });

    it('without --verify-written, the same corruption goes unnoticed by copy and is caught by "bmaptool verify"', () => {
      const d = device('rb-none.img');
      expect(run(['copy', '--bmap', BMAP, IMAGE, d.dev], { env: { BMAPKIT_TEST_CORRUPT_WRITES: '1' } }).status).toBe(0);
      const r = run(['verify', '--bmap', BMAP, d.dev]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`ERROR: blocks range 0-1 differs: calculated [0-9a-f]{64}, bmap says ${rangeChecksum('0-1')}`));
      expect(r.stderr).toMatch(/ERROR: 1 of \d+ ranges \(8\.0 KiB\) of '.*' differ from bmap file/);
    });

    it('"bmaptool verify" passes a good device and reports a flipped byte on the medium', () => {
      const d = device('verify.img');
      expect(run(['copy', '--bmap', BMAP, IMAGE, d.dev]).status).toBe(0);
      const ok = run(['verify', '--json', '--bmap', BMAP, d.dev]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ event: 'verify', ok: true, mismatches: [] });
      // flip one byte of block 16 behind the page cache's back, in the backing file
      const fd = spawnSync('dd', [`of=${d.backing}`, 'bs=1', `seek=${16 * 4096 + 5}`, 'conv=notrunc', 'status=none'], { input: Buffer.from([image[16 * 4096 + 5]! ^ 1]) });
      expect(fd.status).toBe(0);
      const bad = run(['verify', '--json', '--bmap', BMAP, d.dev]);
      expect(bad.status).toBe(1);
      expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, mismatches: [{ first: 15, last: 18 }] });
    });
  });
});
