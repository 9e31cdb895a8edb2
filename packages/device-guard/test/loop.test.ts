import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, ftruncateSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { attachLoop, loopSupport, mountUnder, writeMbr, type LoopDevice } from '../../../tools/loop-device.js';
import { missingProgram, skipNote } from '../../../tools/test-needs.js';
import { guardDestination, openDestination, tuneDevice } from '../src/index.js';

const support = loopSupport();
if (!support.ok) skipNote(`device-guard loop-device tests: ${support.reason}`);

const noMkfs = support.ok && skipNote(missingProgram('mkfs.ext4') && 'the mounted-device tests: mkfs.ext4 is not installed (apt-get install e2fsprogs)');

describe.skipIf(!support.ok)('device-guard on real loop devices', () => {
  let dir: string;
  const cleanups: Array<() => void> = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bmapkit-guard-'));
    return () => rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  const backing = (name: string, size: number) => {
    const file = join(dir, name);
    const fd = openSync(file, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
    return file;
  };
  const loop = (file: string, partitions = false): LoopDevice => {
    const l = attachLoop(file, { partitions });
    cleanups.push(() => l.detach());
    return l;
  };
  const mount = (dev: string) => {
    const m = mountUnder(dir, dev);
    cleanups.push(m.unmount);
    return m.at;
  };

  it('describes a loop device: block, its capacity, not in use', async () => {
    const l = loop(backing('a.img', 8 << 20));
    const d = await guardDestination(l.dev, { imageSize: 8 << 20 });
    expect(d).toMatchObject({ kind: 'block', existed: true, capacity: 8 << 20, device: { name: basename(l.dev), isPartition: false } });
  });

  it('refuses an image that does not fit, with the reference message', async () => {
    const l = loop(backing('small.img', 4 << 20));
    await expect(guardDestination(l.dev, { imageSize: (4 << 20) + 4096, image: 'big.img' })).rejects.toMatchObject({
      code: 'DEST_TOO_SMALL',
      message: `the image file 'big.img' has size 4.0 MiB and it will not fit the block device '${l.dev}' which has 4.0 MiB capacity`,
    });
  });

  it.skipIf(noMkfs)('refuses a mounted device, naming the mount point', async () => {
    const l = loop(backing('fs.img', 16 << 20));
    execFileSync('mkfs.ext4', ['-q', l.dev]);
    const at = mount(l.dev);
    await expect(guardDestination(l.dev)).rejects.toMatchObject({ code: 'DEST_MOUNTED', message: expect.stringContaining(`${basename(l.dev)} is mounted on ${at}`) });
  });

  it.skipIf(noMkfs)('refuses a disk one of whose partitions is mounted, naming the partition', async () => {
    const file = backing('parted.img', 32 << 20);
    writeMbr(file, 2048, 32768);
    const l = loop(file, true);
    execFileSync('mkfs.ext4', ['-q', `${l.dev}p1`]);
    const at = mount(`${l.dev}p1`);
    await expect(guardDestination(l.dev)).rejects.toMatchObject({ code: 'DEST_MOUNTED', message: expect.stringContaining(`${basename(l.dev)}p1 is mounted on ${at}`) });
  });

  it('refuses, when opening, a device another process holds with O_EXCL', async () => {
    const l = loop(backing('held.img', 4 << 20));
    const holder = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(l.dev)}, require('fs').constants.O_WRONLY | require('fs').constants.O_EXCL); console.log('held'); setInterval(() => {}, 1000)`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(() => holder.kill('SIGKILL'));
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    const d = await guardDestination(l.dev);
    await expect(openDestination(d)).rejects.toMatchObject({ code: 'DEST_BUSY', message: expect.stringMatching(/^cannot open block device '.*' in exclusive mode: it is busy/) });
  });

  it('says a loop device is not removable', async () => {
    const l = loop(backing('r.img', 4 << 20));
    await expect(guardDestination(l.dev, { removable: true })).rejects.toMatchObject({
      code: 'DEST_NOT_REMOVABLE',
      message: expect.stringContaining(`/sys/block/${basename(l.dev)}/removable reads '0'`),
    });
  });

  it('refuses a mistyped /dev name unless forced, and creates nothing', async () => {
    const typo = `/dev/bmapkit-typo-${process.pid}`;
    await expect(guardDestination(typo)).rejects.toMatchObject({ code: 'DEST_MISSING_DEVICE' });
    const warnings: string[] = [];
    await expect(guardDestination(typo, { force: true, onWarning: (w) => warnings.push(w) })).resolves.toMatchObject({ kind: 'file', existed: false });
    expect(warnings).toEqual([`"${typo}" does not exist, creating a regular file "${typo}"`]);
  });

  it('tunes the real scheduler and max_ratio and puts them back', async () => {
    const l = loop(backing('t.img', 4 << 20));
    const queue = `/sys/block/${basename(l.dev)}/queue/scheduler`;
    const ratio = `/sys/block/${basename(l.dev)}/bdi/max_ratio`;
    writeFileSync(queue, 'mq-deadline');
    writeFileSync(ratio, '100'); // loop devices outlive detaching: start from the default
    const d = await guardDestination(l.dev);
    const tuning = await tuneDevice(d.device!, { roots: { sys: '/sys', proc: '/proc' } });
    expect(readFileSync(queue, 'utf8')).toMatch(/\[none\]/);
    expect(readFileSync(ratio, 'utf8').trim()).toBe('1');
    await tuning.restore();
    expect(readFileSync(queue, 'utf8')).toMatch(/\[mq-deadline\]/);
    expect(readFileSync(ratio, 'utf8').trim()).toBe('100');
  });
});
