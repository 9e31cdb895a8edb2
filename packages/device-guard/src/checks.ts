import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import { BmapkitError, humanSize } from '@bmapkit/bmap-format';
import { blockDeviceSize, nativeAvailable } from '@bmapkit/native';
import { usesOf } from './mounts.js';
import { holdersOf, readAttribute, type BlockDevice } from './sysfs.js';
import type { Destination } from './inspect.js';
import type { SystemRoots } from './roots.js';

/**
 * `--removable-device`: DEST must be an existing block device whose whole
 * disk (a partition maps to its parent) has sysfs `removable` = 1.
 */
export async function checkRemovable(d: Destination | undefined, dest: string, roots: SystemRoots): Promise<void> {
  if (d === undefined || !d.existed) {
    throw new BmapkitError(
      'DEST_NOT_REMOVABLE',
      `Destination file ${dest} does not exist. But the removable-device option expects destination file to be an existing device.`,
    );
  }
  if (d.kind !== 'block' || d.device === undefined) {
    throw new BmapkitError(
      'DEST_NOT_REMOVABLE',
      `Destination file ${dest} is not a block device. But the removable-device option expects the destination file to be one.`,
    );
  }
  const attr = join(roots.sys, 'block', d.device.disk.name, 'removable');
  let value: string;
  try {
    value = await readAttribute(attr);
  } catch (e) {
    throw new BmapkitError(
      'DEST_NOT_REMOVABLE',
      `Unable to detect removability of destination file ${dest}. But the removable-device option requires to be able to detect that it is a block device which is  removable. Cannot open sysfs attribute ${attr} : ${(e as Error).message}`,
    );
  }
  if (!value.startsWith('1')) {
    const of = d.device.isPartition ? `${d.device.name}, a partition of ${d.device.disk.name}` : d.device.name;
    throw new BmapkitError(
      'DEST_NOT_REMOVABLE',
      `Destination file ${dest} is not a removable block device. But the removable-device option expects it to be one. ` +
        `(${of}: ${attr} reads '${value}'; some card readers report 0 too: leave out --removable-device if you are sure of the device)`,
    );
  }
}

/**
 * Refuses a block device that is in use: mounted, any of its partitions
 * mounted or used as swap, or held by LVM, dm-crypt or md. Also a read-only
 * device. The message names the mount point or the holder.
 */
export async function checkNotInUse(device: BlockDevice, roots: SystemRoots): Promise<void> {
  const dest = device.path;
  if (device.readOnly) {
    throw new BmapkitError('DEST_READONLY', `block device '${dest}' is read-only (${device.sysDir}/ro is 1); check the card's write-protect switch`);
  }
  const devnos = new Set([device.devno, ...device.partitions.map((p) => p.devno)]);
  const uses = await usesOf(devnos, roots);
  if (uses.length > 0) {
    const byDev = new Map([[device.devno, device.name], ...device.partitions.map((p) => [p.devno, p.name] as const)]);
    const list = uses.map((u) => (u.where === 'swap' ? `${byDev.get(u.devno)} is used as swap` : `${byDev.get(u.devno)} is mounted on ${u.where}`));
    throw new BmapkitError(
      'DEST_MOUNTED',
      `refusing to write to '${dest}': ${list.join(', ')}; unmount it first (umount ${uses.find((u) => u.where !== 'swap')?.where ?? '...'} / swapoff)`,
      { details: { uses } },
    );
  }
  const held: string[] = [];
  for (const [name, dir] of [[device.name, device.sysDir], ...device.partitions.map((p) => [p.name, join(device.sysDir, p.name)] as const)] as const) {
    for (const h of await holdersOf(dir, roots)) held.push(`${name} is held by ${h}`);
  }
  if (held.length > 0) {
    throw new BmapkitError(
      'DEST_HELD',
      `refusing to write to '${dest}': ${held.join(', ')}; release it first (vgchange -an, cryptsetup close or mdadm --stop)`,
    );
  }
}

/** The device's capacity: BLKGETSIZE64 on a read-only descriptor, else sysfs. */
export async function deviceCapacity(device: BlockDevice): Promise<number> {
  if (!nativeAvailable()) return device.size;
  const handle = await open(device.realPath, constants.O_RDONLY).catch(() => undefined);
  if (handle === undefined) return device.size;
  try {
    return blockDeviceSize(handle.fd);
  } catch {
    return device.size;
  } finally {
    await handle.close();
  }
}

/** Refuses an image that does not fit (the reference's message). */
export function checkCapacity(device: BlockDevice, capacity: number, imageSize: number, image: string): void {
  if (imageSize > capacity) {
    throw new BmapkitError(
      'DEST_TOO_SMALL',
      `the image file '${image}' has size ${humanSize(imageSize)} and it will not fit the block device '${device.path}' which has ${humanSize(capacity)} capacity`,
      { details: { imageSize, capacity } },
    );
  }
}
