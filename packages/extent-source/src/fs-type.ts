import { readFile, statfs } from 'node:fs/promises';
import { BmapkitError, fsError } from '@bmapkit/bmap-format';

/** statfs f_type magic numbers of the filesystems bmapkit cares about. */
const NAMES: Record<number, string> = {
  0xef53: 'ext4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x01021994: 'tmpfs',
  0x2fc12fc1: 'zfs',
  0x794c7630: 'overlayfs',
  0x6969: 'nfs',
  0x4d44: 'vfat',
  0x5346544e: 'ntfs',
  0xf2f52010: 'f2fs',
};

export interface FilesystemType {
  magic: number;
  /** A short name, or the magic in hex for filesystems not listed. */
  name: string;
}

/** The filesystem a path lives on (symlinks followed), by statfs(2). */
export async function filesystemType(path: string): Promise<FilesystemType> {
  let magic: number;
  try {
    magic = (await statfs(path)).type;
  } catch (e) {
    throw fsError('IMAGE_OPEN', 'failed to find file system type for path at', path, e);
  }
  return { magic, name: NAMES[magic] ?? `0x${magic.toString(16)}` };
}

export const ZFS_PARAMETER = '/sys/module/zfs/parameters/zfs_dmu_offset_next_sync';

export interface ZfsCheckOptions {
  /** Where the ZFS module parameter lives (tests point it elsewhere). */
  parameterPath?: string;
  /** How to find the filesystem type (tests substitute one). */
  typeOf?: (path: string) => Promise<FilesystemType>;
}

/**
 * ZFS reports freshly written data as holes unless zfs_dmu_offset_next_sync
 * is 1, and a bmap made then leaves data out (bmaptool-behaviour.md §16).
 * Resolves when the image's filesystem is safe to map; a missing parameter
 * file means the ZFS module is not loaded.
 */
export async function checkZfsCompatible(path: string, options: ZfsCheckOptions = {}): Promise<void> {
  const fs = await (options.typeOf ?? filesystemType)(path);
  if (fs.name !== 'zfs') return;
  const parameterPath = options.parameterPath ?? ZFS_PARAMETER;
  let value: string;
  try {
    value = (await readFile(parameterPath, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fsError('IMAGE_ZFS', 'cannot open zfs param path', parameterPath, e);
  }
  if (value === '1') return;
  if (value !== '0') throw new BmapkitError('IMAGE_ZFS', `invalid value read from param path '${parameterPath}': '${value}'`);
  throw new BmapkitError(
    'IMAGE_ZFS',
    `image file on incompatible file system '${path}': 'zfs': write 1 to ${parameterPath} (or set the zfs_dmu_offset_next_sync module option), otherwise ZFS reports fresh data as holes`,
  );
}
