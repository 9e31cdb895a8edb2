import { unlink } from 'node:fs/promises';
import type { Destination } from '@bmapkit/device-guard';

/**
 * After a failed copy: remove a file we created, or return what became of a
 * file or device that existed (to be added to the error).
 */
export async function cleanUpDestination(d: Destination): Promise<string | undefined> {
  if (d.kind === 'char') return undefined;
  if (d.kind === 'file' && !d.existed) {
    await unlink(d.path).catch(() => undefined);
    return undefined;
  }
  return `'${d.path}' was partly overwritten and does not hold a complete image`;
}
