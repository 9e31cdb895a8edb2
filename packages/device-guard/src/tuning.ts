import { readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BmapkitError } from '@bmapkit/bmap-format';
import type { BlockDevice } from './sysfs.js';
import type { SystemRoots } from './roots.js';

export interface TuningOptions {
  roots: SystemRoots;
  /** A change that could not be made (not fatal: the copy goes on, slower or with worse responsiveness). */
  onWarning?: (message: string) => void;
  onInfo?: (message: string) => void;
}

export interface DeviceTuning {
  /** What was changed: [sysfs file, old value, new value]. */
  readonly changes: ReadonlyArray<readonly [string, string, string]>;
  /** Makes the changes (once). */
  apply(): Promise<void>;
  /**
   * Puts every changed value back, in reverse order, after waiting for an
   * apply() in progress (a signal may come in the middle of it); safe to call
   * twice. Throws DEST_TUNING when a value cannot be restored.
   */
  restore(): Promise<void>;
}

/** The bracketed entry of a sysfs list ("[mq-deadline] none" -> "mq-deadline"), or the whole value. */
export function selectedValue(text: string): string {
  const m = /\[([^\]]*)\]/.exec(text);
  return (m === null ? text : m[1]!).trim();
}

const UDEV_HINT =
  'to make this permanent and allow it without root, add a udev rule such as ' +
  '/etc/udev/rules.d/60-bmaptool-optimizations.rules with ' +
  'ACTION=="add", SUBSYSTEMS=="usb", ATTRS{idVendor}=="<vendor>", ATTRS{idProduct}=="<product>", ' +
  'ATTR{bdi/min_ratio}="0", ATTR{bdi/max_ratio}="1", ATTR{queue/scheduler}="none" ' +
  '(find the ids with: udevadm info -a <device>)';

/**
 * Tunes a block device for a long sequential write, reversibly: bdi/max_ratio
 * to 1 (the copy may fill at most 1% of the dirty page cache, so the system
 * stays responsive) and the I/O scheduler to "none". The base is
 * /sys/dev/block/<major:minor>/, or its parent for a partition. Each value is
 * read first and written only if it differs; `restore()` puts them back in
 * reverse order. Lack of permission is a warning, never a failure.
 */
export async function tuneDevice(device: BlockDevice, options: TuningOptions): Promise<DeviceTuning> {
  const tuning = deviceTuning(device, options);
  await tuning.apply();
  return tuning;
}

/**
 * The same, in two steps: the object exists before anything is changed, so
 * that a signal handler installed first can always restore what was done.
 */
export function deviceTuning(device: BlockDevice, options: TuningOptions): DeviceTuning {
  const changes: Array<readonly [string, string, string]> = [];
  let applying: Promise<void> | undefined;
  let restored = false;
  return {
    changes,
    apply() {
      applying ??= applyTuning(device, options, changes);
      return applying;
    },
    async restore() {
      await applying?.catch(() => undefined);
      if (restored) return;
      restored = true;
      const failures: string[] = [];
      for (const [path, old] of [...changes].reverse()) {
        try {
          await writeFile(path, old);
        } catch (e) {
          failures.push(`cannot restore ${path} to '${old}': ${(e as Error).message}`);
        }
      }
      if (failures.length > 0) throw new BmapkitError('DEST_TUNING', failures.join('; '));
    },
  };
}

async function applyTuning(device: BlockDevice, options: TuningOptions, changes: Array<readonly [string, string, string]>): Promise<void> {
  let base = await realpath(join(options.roots.sys, 'dev', 'block', device.devno)).catch(() => device.sysDir);
  if (!(await stat(join(base, 'queue')).then(() => true, () => false))) base = dirname(base);
  let hinted = false;
  const hint = () => {
    if (!hinted) options.onInfo?.(UDEV_HINT);
    hinted = true;
  };

  const set = async (file: string, value: string): Promise<{ old?: string; error?: string }> => {
    const path = join(base, file);
    let old: string;
    try {
      old = selectedValue(await readFile(path, 'utf8'));
    } catch (e) {
      return { error: (e as Error).message };
    }
    if (old === value) return { old };
    try {
      await writeFile(path, value);
    } catch (e) {
      return { old, error: (e as Error).message };
    }
    changes.push([path, old, value]);
    return { old };
  };

  const ratio = await set('bdi/max_ratio', '1');
  if (ratio.error !== undefined) {
    options.onWarning?.(`failed to disable excessive buffering, expect worse system responsiveness (reason: cannot set max. I/O ratio to 1: ${ratio.error})`);
    hint();
  }
  const scheduler = await set('queue/scheduler', 'none');
  if (scheduler.error !== undefined) {
    options.onInfo?.(
      `failed to enable I/O optimization, expect suboptimal speed (reason: cannot switch to the 'none' I/O scheduler: '${scheduler.old ?? 'unknown scheduler'}' in use. ${scheduler.error})`,
    );
    hint();
  }
}
