import { lstat, open, unlink, type FileHandle } from 'node:fs/promises';
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

/** What openDestination created: the path it created, and the inode it made there. */
const created = new WeakMap<Destination, { path: string; dev: number; ino: number }>();

/**
 * Opens DEST for writing, after every check has passed. A block device is
 * opened O_WRONLY|O_EXCL (never read-write, which makes udev re-apply queue
 * settings): the kernel refuses it with EBUSY while anything else has it
 * mounted or claimed. A missing file is created (O_EXCL, at `createPath`:
 * through a dangling symlink, at its target) and remembered, so that
 * removeCreatedDestination removes exactly it; an existing one is opened
 * as it is, never truncated here (the writer does that).
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
  if (d.kind === 'file' && !d.existed) {
    const path = d.createPath ?? d.path;
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new BmapkitError('DEST_OPEN', `destination file '${d.path}' appeared after it was checked (another program created it); run the copy again`, { cause: e });
      }
      throw new BmapkitError('DEST_OPEN', `cannot create destination file '${d.path}': ${reason(e)}`, { cause: e });
    }
    const st = await handle.stat();
    created.set(d, { path, dev: st.dev, ino: st.ino });
    return handle;
  }
  try {
    return await open(d.path, constants.O_WRONLY);
  } catch (e) {
    throw new BmapkitError('DEST_OPEN', `cannot open destination file '${d.path}': ${reason(e)}`, { cause: e });
  }
}

/**
 * Removes the file openDestination created for `d`, by the path it created
 * it at and only while that path still holds the inode it made (a file
 * that was replaced meanwhile is left alone). True when it was removed.
 */
export async function removeCreatedDestination(d: Destination): Promise<boolean> {
  const c = created.get(d);
  if (c === undefined) return false;
  created.delete(d);
  const st = await lstat(c.path).catch(() => undefined);
  if (st === undefined || st.dev !== c.dev || st.ino !== c.ino) return false;
  await unlink(c.path).catch(() => undefined);
  return true;
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
