import { BmapkitError } from '@bmapkit/bmap-format';
import { checkCapacity, checkNotInUse, checkRemovable, deviceCapacity } from './checks.js';
import { inspectDestination, type Destination } from './inspect.js';
import { checkNotAnInput, type InputFile } from './inputs.js';
import { systemRoots, type SystemRoots } from './roots.js';

export interface GuardOptions {
  /** The image's size when known (from the bmap or a raw local file): checked against the capacity. */
  imageSize?: number;
  /** How the image is named in messages. */
  image?: string;
  /** `--removable-device`: DEST must be a removable block device. */
  removable?: boolean;
  /** `--force`: allow a missing /dev node to be created as a regular file. */
  force?: boolean;
  /** O_DIRECT will be asked for: only block devices take it. */
  direct?: boolean;
  /** What the operation reads (the image, the bmap, a signature): DEST must be none of them, nor hold one. */
  inputs?: readonly InputFile[];
  roots?: Partial<SystemRoots>;
  onWarning?: (message: string) => void;
}

export interface GuardedDestination extends Destination {
  /** A block device's capacity in bytes. */
  capacity?: number;
}

/**
 * Every check on DEST that can be made before opening it, in order: the
 * /dev typo guard, `--removable-device`, not one of the inputs (nor a
 * device holding one), block device or not, mounted,
 * swap, held or read-only, capacity. Nothing is opened for writing; a
 * failure leaves DEST untouched.
 */
export async function guardDestination(dest: string, options: GuardOptions = {}): Promise<GuardedDestination> {
  const roots = systemRoots(options.roots);
  let d: Destination | undefined;
  let inspectError: unknown;
  try {
    d = await inspectDestination(dest, { roots, force: options.force ?? false, ...(options.onWarning ? { onWarning: options.onWarning } : {}) });
  } catch (e) {
    inspectError = e;
  }
  if (options.removable === true) await checkRemovable(d?.existed === true ? d : undefined, dest, roots);
  if (d === undefined) throw inspectError;
  await checkNotAnInput(d, options.inputs ?? []);
  if (options.direct === true && d.kind !== 'block') {
    throw new BmapkitError('DEST_DIRECT', `--direct needs a block device, and '${dest}' is a ${d.kind === 'file' ? 'regular file' : 'character device'}; leave out --direct`);
  }
  if (d.kind !== 'block' || d.device === undefined) return d;
  await checkNotInUse(d.device, roots);
  const capacity = await deviceCapacity(d.device);
  if (options.imageSize !== undefined) checkCapacity(d.device, capacity, options.imageSize, options.image ?? 'image');
  return { ...d, capacity };
}
