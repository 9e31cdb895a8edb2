import { describe, expect, it } from 'vitest';
import { readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { checkNotInUse, checkRemovable, describeBlockDevice, devnoOf, parseMountinfo, parseSwaps, selectedValue, tuneDevice, type Destination } from '../src/index.js';
import { fakeSystem } from './fake-sys.js';

describe('parsing /proc and sysfs values', () => {
  it('reads mountinfo, with escaped spaces and optional fields', () => {
    const uses = parseMountinfo(
      '36 35 98:0 /mnt1 /mnt/my\\040card rw,noatime master:1 shared:2 - ext3 /dev/sdb1 rw,errors=continue\n' + '40 22 0:45 / /home rw - btrfs /dev/sdc2 rw\n\n',
    );
    expect(uses).toEqual([
      { devno: '98:0', where: '/mnt/my card', source: '/dev/sdb1' },
      { devno: '0:45', where: '/home', source: '/dev/sdc2' },
    ]);
  });

  it('reads /proc/swaps', () => {
    expect(parseSwaps('Filename\tType\tSize\tUsed\tPriority\n/dev/sdb2  partition\t1000\t0\t-2\n')).toEqual([{ devno: '', where: 'swap', source: '/dev/sdb2' }]);
  });

  it('takes the bracketed entry of a list', () => {
    expect(selectedValue('none [mq-deadline] kyber bfq\n')).toBe('mq-deadline');
    expect(selectedValue('[none] mq-deadline\n')).toBe('none');
    expect(selectedValue('100\n')).toBe('100');
  });

  it('splits device numbers as glibc does', () => {
    expect(devnoOf(1792)).toBe('7:0');
    expect(devnoOf(64768)).toBe('253:0');
    expect(devnoOf((259 << 8) | 3)).toBe('259:3');
    expect(devnoOf((8 << 8) | 0x12 | (0x3 << 20))).toBe('8:786'); // minor 0x312
  });
});

describe('describeBlockDevice on a fake sysfs', () => {
  it('finds a disk with its partitions, and a partition with its disk', async () => {
    const f = fakeSystem();
    const roots = { sys: f.sys, proc: f.proc };
    const disk = await describeBlockDevice('/dev/sdz', '/dev/sdz', '8:0', roots);
    expect(disk).toMatchObject({ name: 'sdz', isPartition: false, size: 2048 * 512, readOnly: false });
    expect(disk.partitions).toEqual(expect.arrayContaining([{ name: 'sdz1', devno: '8:1' }, { name: 'sdz2', devno: '8:2' }]));
    const part = await describeBlockDevice('/dev/sdz1', '/dev/sdz1', '8:1', roots);
    expect(part).toMatchObject({ name: 'sdz1', isPartition: true, disk: { name: 'sdz' }, partitions: [], size: 1000 * 512 });
  });
});

describe('in-use checks on a fake system', () => {
  it('passes an idle disk and refuses a mounted partition, naming the mount point', async () => {
    const f = fakeSystem();
    const roots = { sys: f.sys, proc: f.proc };
    await expect(checkNotInUse(f.disk, roots)).resolves.toBeUndefined();
    f.write('proc/self/mountinfo', '22 1 254:0 / / rw - ext4 /dev/vda rw\n77 22 8:2 / /media/my\\040card rw - vfat /dev/sdz2 rw\n');
    await expect(checkNotInUse(f.disk, roots)).rejects.toMatchObject({
      code: 'DEST_MOUNTED',
      message: expect.stringMatching(/^refusing to write to '\/dev\/sdz': sdz2 is mounted on \/media\/my card; unmount it first/),
    });
    // the other partition is not sdz1's business
    await expect(checkNotInUse(f.part, roots)).resolves.toBeUndefined();
  });

  it('refuses a device held by device-mapper, naming the holder', async () => {
    const f = fakeSystem();
    f.write('sys/devices/pci0/block/sdz/sdz1/holders/dm-3', '');
    f.write('sys/class/block/dm-3/dm/name', 'vg0-root\n');
    await expect(checkNotInUse(f.disk, { sys: f.sys, proc: f.proc })).rejects.toMatchObject({
      code: 'DEST_HELD',
      message: expect.stringContaining('sdz1 is held by dm-3 (vg0-root)'),
    });
  });

  it('refuses a read-only device', async () => {
    const f = fakeSystem();
    await expect(checkNotInUse({ ...f.disk, readOnly: true }, { sys: f.sys, proc: f.proc })).rejects.toMatchObject({ code: 'DEST_READONLY' });
  });
});

describe('--removable-device on a fake sysfs', () => {
  const dest = (device: Destination['device']): Destination => ({ path: device!.path, kind: 'block', existed: true, device: device! });

  it('accepts a removable disk and maps a partition to its disk', async () => {
    const f = fakeSystem();
    const roots = { sys: f.sys, proc: f.proc };
    await expect(checkRemovable(dest(f.disk), '/dev/sdz', roots)).resolves.toBeUndefined();
    await expect(checkRemovable(dest(f.part), '/dev/sdz1', roots)).resolves.toBeUndefined();
  });

  it('refuses a fixed disk, saying what it read', async () => {
    const f = fakeSystem();
    f.write('sys/devices/pci0/block/sdz/removable', '0\n');
    await expect(checkRemovable(dest(f.part), '/dev/sdz1', { sys: f.sys, proc: f.proc })).rejects.toMatchObject({
      code: 'DEST_NOT_REMOVABLE',
      message: expect.stringMatching(/^Destination file \/dev\/sdz1 is not a removable block device\. .*sdz1, a partition of sdz: .*removable reads '0'/),
    });
  });

  it('refuses a missing destination and a regular file with the reference messages', async () => {
    const f = fakeSystem();
    const roots = { sys: f.sys, proc: f.proc };
    await expect(checkRemovable(undefined, '/dev/nope', roots)).rejects.toThrow(
      'Destination file /dev/nope does not exist. But the removable-device option expects destination file to be an existing device.',
    );
    await expect(checkRemovable({ path: '/tmp/x', kind: 'file', existed: true }, '/tmp/x', roots)).rejects.toThrow(
      'Destination file /tmp/x is not a block device. But the removable-device option expects the destination file to be one.',
    );
  });
});

describe('tuneDevice on a fake sysfs', () => {
  it('sets max_ratio then the scheduler, and restores both', async () => {
    const f = fakeSystem();
    const base = realpathSync(join(f.sys, 'dev', 'block', '8:0'));
    const read = (rel: string) => readFileSync(join(base, rel), 'utf8');
    const tuning = await tuneDevice(f.disk, { roots: { sys: f.sys, proc: f.proc } });
    expect(tuning.changes.map(([p, old, now]) => [p.slice(p.lastIndexOf('/', p.lastIndexOf('/') - 1) + 1), old, now])).toEqual([
      ['bdi/max_ratio', '100', '1'],
      ['queue/scheduler', 'mq-deadline', 'none'],
    ]);
    expect(read('bdi/max_ratio')).toBe('1');
    expect(read('queue/scheduler')).toBe('none');
    await tuning.restore();
    await tuning.restore(); // twice is harmless
    expect(read('bdi/max_ratio')).toBe('100');
    expect(read('queue/scheduler')).toBe('mq-deadline');
  });

  it('tunes a partition through its disk and leaves values that are already right', async () => {
    const f = fakeSystem();
    f.write('sys/devices/pci0/block/sdz/queue/scheduler', '[none] mq-deadline\n');
    const tuning = await tuneDevice(f.part, { roots: { sys: f.sys, proc: f.proc } });
    expect(tuning.changes.map((c) => c[2])).toEqual(['1']);
  });

  it('warns, never fails, when a value cannot be changed, and fails when one cannot be restored', async () => {
    const f = fakeSystem();
    const base = realpathSync(join(f.sys, 'dev', 'block', '8:0'));
    rmSync(join(base, 'bdi', 'max_ratio'));
    symlinkSync('/proc/version', join(base, 'bdi', 'max_ratio')); // readable, never writable, even by root
    const warnings: string[] = [];
    const infos: string[] = [];
    const tuning = await tuneDevice(f.disk, { roots: { sys: f.sys, proc: f.proc }, onWarning: (w) => warnings.push(w), onInfo: (i) => infos.push(i) });
    expect(warnings).toEqual([expect.stringMatching(/^failed to disable excessive buffering, expect worse system responsiveness \(reason: cannot set max\. I\/O ratio to 1: /)]);
    expect(infos[0]).toContain('60-bmaptool-optimizations.rules');
    expect(tuning.changes).toHaveLength(1);
    rmSync(join(base, 'queue', 'scheduler'));
    symlinkSync('/proc/version', join(base, 'queue', 'scheduler'));
    await expect(tuning.restore()).rejects.toMatchObject({ code: 'DEST_TUNING', message: expect.stringMatching(/^cannot restore .*queue\/scheduler to 'mq-deadline': /) });
  });
});
