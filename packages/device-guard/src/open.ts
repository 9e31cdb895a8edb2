import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { BmapkitError, fsReason } from '@bmapkit/bmap-format';
import type { Destination } from './inspect.js';

export interface OpenOptions {
  /** O_DIRECT: bypass the page cache (block devices; the writer must use aligned buffers). */
  direct?: boolean;
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'permission denied (run as root, or join the group that owns the device, usually "disk")';
  if (err.code === 'ENXIO' || err.code === 'ENODEV') return 'no such device (was it unplugged?)';
  return fsReason(e);
}

/**
 * Opens DEST for writing, after every check has passed. A block device is
 * opened O_WRONLY|O_EXCL (never read-write, which makes udev re-apply queue
 * settings): the kernel refuses it with EBUSY while anything else has it
 * mounted or claimed. A regular file is created if missing and never
 * truncated here (the writer does that).
 */
export async function openDestination(d: Destination, options: OpenOptions = {}): Promise<FileHandle> {
  const direct = options.direct === true ? constants.O_DIRECT : 0;
  if (d.kind === 'block') {
    try {
      return await open(d.path, constants.O_WRONLY | constants.O_EXCL | direct);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EBUSY') {
        throw new BmapkitError(
          'DEST_BUSY',
          `cannot open block device '${d.path}' in exclusive mode: it is busy (mounted, part of LVM, RAID or dm-crypt, or opened by another flashing tool); close whatever uses it`,
          { cause: e },
        );
      }
      throw new BmapkitError('DEST_OPEN', `cannot open block device '${d.path}': ${reason(e)}`, { cause: e });
    }
  }
  try {
    return await open(d.path, d.kind === 'file' ? constants.O_WRONLY | constants.O_CREAT : constants.O_WRONLY, 0o644);
  } catch (e) {
    throw new BmapkitError('DEST_OPEN', `cannot open destination file '${d.path}': ${reason(e)}`, { cause: e });
  }
}

/**
 * Opens DEST again, read-only, for reading back what was written: with
 * O_DIRECT where the filesystem or device allows it (`direct` says whether
 * it did; without it the caller drops the page cache before reading).
 */
export async function openForReadBack(d: Destination): Promise<{ handle: FileHandle; direct: boolean }> {
  try {
    return { handle: await open(d.path, constants.O_RDONLY | constants.O_DIRECT), direct: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') {
      throw new BmapkitError('DEST_OPEN', `cannot open '${d.path}' to read back what was written: ${reason(e)}`, { cause: e });
    }
  }
  try {
    return { handle: await open(d.path, constants.O_RDONLY), direct: false };
  } catch (e) {
    throw new BmapkitError('DEST_OPEN', `cannot open '${d.path}' to read back what was written: ${reason(e)}`, { cause: e });
  }
}
