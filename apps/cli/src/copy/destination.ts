import { open, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, normalize, resolve } from 'node:path';
import { constants } from 'node:fs';
import { BmapkitError } from '@bmapkit/bmap-format';
import { fsReason } from '@bmapkit/extent-source';
import type { Logger } from '../log.js';

export interface Destination {
  /** As the user gave it. */
  path: string;
  kind: 'file' | 'char';
  /** It existed before we touched it (so a failed copy leaves it partly overwritten, not deleted). */
  existed: boolean;
}

/**
 * Everything about DEST that can be checked without opening it for
 * writing. A missing path under /dev is refused (a mistyped device name must
 * not fill /dev with a regular file); block devices wait for device-guard.
 */
export async function inspectDestination(dest: string, log: Logger): Promise<Destination> {
  const underDev = normalize(dest).startsWith('/dev/') && (await onDevFilesystem(dest));
  let st;
  try {
    st = await stat(dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new BmapkitError('DEST_OPEN', `cannot open destination file '${dest}': ${fsReason(e)}`, { cause: e });
    }
    if (underDev) {
      throw new BmapkitError(
        'DEST_MISSING_DEVICE',
        `"${dest}" does not exist; refusing to create a regular file under "/dev" (is the device name mistyped, or the card not plugged in?)`,
      );
    }
    return { path: dest, kind: 'file', existed: false };
  }
  if (st.isBlockDevice()) {
    throw new BmapkitError(
      'DEST_BLOCK_DEVICE',
      `'${dest}' is a block device; writing to block devices safely (mount checks, exclusive open) is not implemented in this version of bmapkit yet`,
    );
  }
  if (st.isDirectory()) throw new BmapkitError('DEST_OPEN', `cannot open destination file '${dest}': is a directory`);
  if (st.isCharacterDevice()) return { path: dest, kind: 'char', existed: true };
  if (!st.isFile()) {
    throw new BmapkitError('DEST_OPEN', `cannot copy to '${dest}': it is neither a regular file nor a device (a pipe or socket cannot be written at offsets)`);
  }
  if (underDev) log.warning(`"${dest}" is under "/dev", but it is a regular file, not a device node`);
  return { path: dest, kind: 'file', existed: true };
}

/**
 * True when the path's directory is on the filesystem mounted at /dev itself
 * (device nodes), not on a filesystem mounted below it such as /dev/shm.
 */
async function onDevFilesystem(path: string): Promise<boolean> {
  try {
    const [dir, dev] = await Promise.all([stat(dirname(resolve(path))), stat('/dev')]);
    return dir.dev === dev.dev;
  } catch {
    return true; // a directory under /dev that does not exist: treat it as /dev
  }
}

/** Opens DEST for writing (created if missing, never truncated here: the writer does that). */
export async function openDestination(d: Destination): Promise<FileHandle> {
  try {
    return await open(d.path, constants.O_WRONLY | constants.O_CREAT, 0o644);
  } catch (e) {
    throw new BmapkitError('DEST_OPEN', `cannot open destination file '${d.path}': ${fsReason(e)}`, { cause: e });
  }
}

/** After a failed copy: remove a file we created, or say what became of one that existed. */
export async function cleanUpDestination(d: Destination, log: Logger): Promise<void> {
  if (d.kind !== 'file') return;
  if (!d.existed) {
    await unlink(d.path).catch(() => undefined);
    return;
  }
  log.error(`'${d.path}' was partly overwritten and does not hold a complete image`);
}
