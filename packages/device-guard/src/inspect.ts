import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { BmapkitError, fsError } from '@bmapkit/bmap-format';
import { describeBlockDevice, type BlockDevice } from './sysfs.js';
import { devnoOf, type SystemRoots } from './roots.js';

export type DestinationKind = 'file' | 'char' | 'block';

export interface Destination {
  /** As the user gave it. */
  path: string;
  kind: DestinationKind;
  /** It existed before (a failed copy leaves it partly overwritten, never deleted). */
  existed: boolean;
  /**
   * Where a missing file will be created: the path itself, or the final
   * target of a dangling symlink (the symlink stays; only what is created
   * at its target may be removed again).
   */
  createPath?: string;
  /** For a block device: what sysfs says about it. */
  device?: BlockDevice;
}

export interface InspectOptions {
  /** Allow creating a regular file under /dev (a missing device node). */
  force?: boolean;
  roots: SystemRoots;
  onWarning?: (message: string) => void;
}

/**
 * What DEST is, without opening it for writing: a regular file (existing or
 * to be created), a character device, or a block device (described from
 * sysfs). A missing node under /dev is refused unless `force` (a mistyped
 * device name must not fill the /dev tmpfs with a regular file).
 */
export async function inspectDestination(dest: string, options: InspectOptions): Promise<Destination> {
  const underDev = normalize(resolve(dest)).startsWith('/dev/') && (await onDevFilesystem(dest));
  let st;
  try {
    st = await stat(dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw fsError('DEST_OPEN', 'cannot open destination file', dest, e);
    }
    if (underDev) {
      if (options.force !== true) {
        throw new BmapkitError(
          'DEST_MISSING_DEVICE',
          `"${dest}" does not exist; refusing to create a regular file under "/dev" (is the device name mistyped, or the card not plugged in? --force creates the file)`,
        );
      }
      options.onWarning?.(`"${dest}" does not exist, creating a regular file "${dest}"`);
    }
    return { path: dest, kind: 'file', existed: false, createPath: await creationPath(dest) };
  }
  if (st.isBlockDevice()) {
    const real = await realpath(dest);
    return { path: dest, kind: 'block', existed: true, device: await describeBlockDevice(dest, real, devnoOf(st.rdev), options.roots) };
  }
  if (st.isDirectory()) throw new BmapkitError('DEST_OPEN', `cannot open destination file '${dest}': is a directory`);
  if (st.isCharacterDevice()) return { path: dest, kind: 'char', existed: true };
  if (!st.isFile()) {
    throw new BmapkitError('DEST_OPEN', `cannot copy to '${dest}': it is neither a regular file nor a device (a pipe or socket cannot be written at offsets)`);
  }
  if (underDev) options.onWarning?.(`"${dest}" is under "/dev", but it is a regular file, not a device node`);
  return { path: dest, kind: 'file', existed: true };
}

/**
 * True when the path's directory is on the filesystem mounted at /dev itself
 * (device nodes), not on one mounted below it such as /dev/shm.
 */
async function onDevFilesystem(path: string): Promise<boolean> {
  try {
    const [dir, dev] = await Promise.all([stat(dirname(resolve(path))), stat('/dev')]);
    return dir.dev === dev.dev;
  } catch {
    return true; // a directory under /dev that does not exist: treat it as /dev
  }
}

/**
 * The path at which opening `path` with O_CREAT creates a file: the path
 * itself, or the final target of a chain of dangling symlinks (each target
 * taken relative to its link's directory, as the kernel does, with the
 * directory's own symlinks and '..' resolved by realpath).
 */
export async function creationPath(path: string): Promise<string> {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = await lstat(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError('DEST_OPEN', 'cannot open', path, e);
      break;
    }
    if (!st.isSymbolicLink()) break;
    const target = await readlink(p);
    p = isAbsolute(target) ? target : `${dirname(p)}/${target}`;
  }
  const dir = await realpath(dirname(p)).catch(() => undefined);
  return dir === undefined ? p : join(dir, basename(p)); // no such directory: creating fails, saying so
}
