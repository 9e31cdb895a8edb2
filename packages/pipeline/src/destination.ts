import { removeCreatedDestination, type Destination } from '@bmapkit/device-guard';

/**
 * After a failed copy: remove the file this copy created (exactly it, by
 * the path it was created at), or return what became of a file or device
 * that existed (to be added to the error).
 */
export async function cleanUpDestination(d: Destination): Promise<string | undefined> {
  if (d.kind === 'char') return undefined;
  if (d.kind === 'file' && !d.existed) {
    await removeCreatedDestination(d);
    return undefined;
  }
  return `'${d.path}' was partly overwritten and does not hold a complete image`;
}
