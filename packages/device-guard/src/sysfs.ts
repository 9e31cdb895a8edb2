import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { SystemRoots } from './roots.js';

/** A block device as sysfs describes it. */
export interface BlockDevice {
  /** The path the user gave. */
  path: string;
  /** The device node, symlinks (`/dev/disk/by-id/...`) resolved. */
  realPath: string;
  /** "major:minor". */
  devno: string;
  /** Kernel name: "sdb", "sdb1", "mmcblk0p2", "loop0". */
  name: string;
  /** Its sysfs directory. */
  sysDir: string;
  isPartition: boolean;
  /** The whole disk (itself when it is not a partition). */
  disk: { name: string; sysDir: string };
  /** Partitions of the device (none for a partition). */
  partitions: Array<{ name: string; devno: string }>;
  /** Size in bytes according to sysfs (512-byte sectors). */
  size: number;
  readOnly: boolean;
}

export async function readAttribute(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Describes the block device `devno` (the node at `realPath`) from sysfs. */
export async function describeBlockDevice(path: string, realPath: string, devno: string, roots: SystemRoots): Promise<BlockDevice> {
  const sysDir = await realpath(join(roots.sys, 'dev', 'block', devno));
  const isPartition = await exists(join(sysDir, 'partition'));
  const diskDir = isPartition ? dirname(sysDir) : sysDir;
  const partitions: BlockDevice['partitions'] = [];
  if (!isPartition) {
    for (const entry of await readdir(sysDir, { withFileTypes: true })) {
      const dir = join(sysDir, entry.name);
      if (entry.isDirectory() && (await exists(join(dir, 'partition')))) {
        partitions.push({ name: entry.name, devno: await readAttribute(join(dir, 'dev')) });
      }
    }
  }
  const sectors = Number(await readAttribute(join(sysDir, 'size')).catch(() => '0'));
  const ro = await readAttribute(join(sysDir, 'ro')).catch(() => '0');
  return {
    path,
    realPath,
    devno,
    name: basename(sysDir),
    sysDir,
    isPartition,
    disk: { name: basename(diskDir), sysDir: diskDir },
    partitions,
    size: sectors * 512,
    readOnly: ro === '1',
  };
}

/** What holds a device (LVM, dm-crypt, md): the kernel names, with the dm name where there is one. */
export async function holdersOf(sysDir: string, roots: SystemRoots): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(sysDir, 'holders'));
  } catch {
    return [];
  }
  return Promise.all(
    names.map(async (h) => {
      const dmName = await readAttribute(join(roots.sys, 'class', 'block', h, 'dm', 'name')).catch(() => '');
      return dmName === '' ? h : `${h} (${dmName})`;
    }),
  );
}
