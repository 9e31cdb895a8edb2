import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { devnoOf, type SystemRoots } from './roots.js';

/** One use of a block device by the system: a mounted filesystem or an active swap area. */
export interface DeviceUse {
  devno: string;
  /** Mount point, or "swap". */
  where: string;
  /** The filesystem's source as listed ("/dev/sdb1"). */
  source: string;
}

/** Undoes the octal escapes of /proc files (`\040` for a space). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/self/mountinfo. */
export function parseMountinfo(text: string): DeviceUse[] {
  const out: DeviceUse[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ devno: f[2]!, where: unescape(f[4]!), source: unescape(f[dash + 2] ?? '') });
  }
  return out;
}

/** Parses /proc/swaps (active swap areas; the source is the swap file or device). */
export function parseSwaps(text: string): DeviceUse[] {
  return text
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => ({ devno: '', where: 'swap', source: unescape(l.split(/\s+/)[0]!) }));
}

async function rdevOf(path: string): Promise<string | undefined> {
  if (!path.startsWith('/')) return undefined;
  try {
    const st = await stat(path);
    return st.isBlockDevice() ? devnoOf(st.rdev) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Mounts and swap areas on any of `devnos`. A mount matches by its device
 * number or, for filesystems that report an anonymous one (btrfs), by the
 * device node it was mounted from.
 */
export async function usesOf(devnos: ReadonlySet<string>, roots: SystemRoots): Promise<DeviceUse[]> {
  const read = (f: string) => readFile(join(roots.proc, f), 'utf8').catch(() => '');
  const [mountinfo, swaps] = await Promise.all([read('self/mountinfo'), read('swaps')]);
  const found: DeviceUse[] = [];
  for (const use of [...parseMountinfo(mountinfo), ...parseSwaps(swaps)]) {
    if (devnos.has(use.devno)) {
      found.push(use);
      continue;
    }
    const rdev = use.source.startsWith('/dev/') || use.where === 'swap' ? await rdevOf(use.source) : undefined;
    if (rdev !== undefined && devnos.has(rdev)) found.push({ ...use, devno: rdev });
  }
  return found;
}
