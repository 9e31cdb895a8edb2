import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BlockDevice } from '../src/index.js';

/** A fake /sys and /proc: one disk "sdz" (8:0) with partitions sdz1 (8:1) and sdz2 (8:2). */
export function fakeSystem(): { sys: string; proc: string; disk: BlockDevice; part: BlockDevice; write(rel: string, text: string): void } {
  const root = mkdtempSync(join(tmpdir(), 'bmapkit-fake-sys-'));
  const sys = join(root, 'sys');
  const proc = join(root, 'proc');
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  const diskDir = join(sys, 'devices', 'pci0', 'block', 'sdz');
  write('sys/devices/pci0/block/sdz/dev', '8:0\n');
  write('sys/devices/pci0/block/sdz/size', '2048\n');
  write('sys/devices/pci0/block/sdz/removable', '1\n');
  write('sys/devices/pci0/block/sdz/queue/scheduler', 'none [mq-deadline] kyber\n');
  write('sys/devices/pci0/block/sdz/bdi/max_ratio', '100\n');
  mkdirSync(join(diskDir, 'holders'));
  for (const [n, part] of [[1, 'sdz1'], [2, 'sdz2']] as const) {
    write(`sys/devices/pci0/block/sdz/${part}/dev`, `8:${n}\n`);
    write(`sys/devices/pci0/block/sdz/${part}/partition`, `${n}\n`);
    write(`sys/devices/pci0/block/sdz/${part}/size`, '1000\n');
    mkdirSync(join(diskDir, part, 'holders'));
  }
  mkdirSync(join(sys, 'dev', 'block'), { recursive: true });
  symlinkSync(diskDir, join(sys, 'dev', 'block', '8:0'));
  symlinkSync(join(diskDir, 'sdz1'), join(sys, 'dev', 'block', '8:1'));
  mkdirSync(join(sys, 'block'), { recursive: true });
  symlinkSync(diskDir, join(sys, 'block', 'sdz'));
  write('proc/self/mountinfo', '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n');
  write('proc/swaps', 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n');
  const common = { realPath: '/dev/sdz', size: 2048 * 512, readOnly: false };
  const disk: BlockDevice = {
    ...common,
    path: '/dev/sdz',
    devno: '8:0',
    name: 'sdz',
    sysDir: diskDir,
    isPartition: false,
    disk: { name: 'sdz', sysDir: diskDir },
    partitions: [
      { name: 'sdz1', devno: '8:1' },
      { name: 'sdz2', devno: '8:2' },
    ],
  };
  const part: BlockDevice = { ...common, path: '/dev/sdz1', realPath: '/dev/sdz1', devno: '8:1', name: 'sdz1', sysDir: join(diskDir, 'sdz1'), isPartition: true, disk: { name: 'sdz', sysDir: diskDir }, partitions: [] };
  return { sys, proc, disk, part, write: (rel, text) => write(rel, text) };
}
