import { fstat as fstatCb, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BmapkitError } from '@bmapkit/bmap-format';
import type { Destination } from './inspect.js';
import { devnoOf } from './roots.js';

const fstat = promisify(fstatCb);

/** A file the operation reads, which must never be its destination. */
export interface InputFile {
  /** What it is, for messages: "image", "bmap file", "bmap signature file". */
  what: string;
  /** How to name it in messages. */
  name: string;
  /** Its local path; or `fd` for an input that is only a descriptor (standard input). */
  path?: string;
  fd?: number;
}

/**
 * Refuses a destination that is one of the inputs, or would overwrite one:
 * the same file (same device and inode, so also through a hard link or a
 * symlink), the same device node, a block device that holds an input's
 * filesystem (the device or one of its partitions), a partition of a disk
 * given as the image (or the disk of a partition given as the image), or a
 * loop device whose backing file is an input. Nothing is opened for writing.
 */
export async function checkNotAnInput(d: Destination, inputs: readonly InputFile[]): Promise<void> {
  const ds = await stat(d.path).catch(() => undefined);
  if (ds === undefined) return; // not there yet: it cannot be an existing input
  const loopBacking = d.device === undefined ? undefined : await loopBackingFile(d.device.disk.sysDir);
  const devnos = d.device === undefined ? new Set<string>() : new Set([d.device.devno, ...d.device.partitions.map((p) => p.devno)]);
  for (const input of inputs) {
    const is = await statInput(input);
    if (is === undefined) continue;
    const refuse = (how: string): never => {
      throw new BmapkitError('DEST_IS_INPUT', `refusing to write to '${d.path}': ${how}; give a different destination`, {
        details: { dest: d.path, input: input.name, what: input.what },
      });
    };
    if (is.dev === ds.dev && is.ino === ds.ino) refuse(`it is the ${input.what} '${input.name}' (the same file)`);
    const deviceNode = (s: Stats) => s.isBlockDevice() || s.isCharacterDevice();
    if (deviceNode(ds) && deviceNode(is) && is.rdev === ds.rdev) refuse(`it is the ${input.what} '${input.name}' (the same device)`);
    if (d.device === undefined) continue;
    if (!deviceNode(is) && devnos.has(devnoOf(is.dev))) refuse(`the ${input.what} '${input.name}' is stored on it`);
    if (is.isBlockDevice()) {
      const inputDev = devnoOf(is.rdev);
      if (devnos.has(inputDev)) refuse(`the ${input.what} '${input.name}' is a partition of it`);
      const destDisk = await readFile(join(d.device.disk.sysDir, 'dev'), 'utf8').then((s) => s.trim(), () => undefined);
      if (d.device.isPartition && destDisk === inputDev) refuse(`it is a partition of the ${input.what} '${input.name}'`);
    }
    if (loopBacking !== undefined && loopBacking.dev === is.dev && loopBacking.ino === is.ino) {
      refuse(`it is a loop device backed by the ${input.what} '${input.name}'`);
    }
  }
}

async function statInput(input: InputFile): Promise<Stats | undefined> {
  try {
    if (input.fd !== undefined) return await fstat(input.fd);
    if (input.path !== undefined) return await stat(input.path);
  } catch {
    // an input that cannot be looked at is reported by whatever reads it
  }
  return undefined;
}

/** The file behind a loop device (its whole disk's loop/backing_file), if it is one and the file is still there. */
async function loopBackingFile(diskSysDir: string): Promise<Stats | undefined> {
  const file = await readFile(join(diskSysDir, 'loop', 'backing_file'), 'utf8').catch(() => undefined);
  if (file === undefined) return undefined;
  return stat(file.trim().replace(/ \(deleted\)$/, '')).catch(() => undefined);
}
