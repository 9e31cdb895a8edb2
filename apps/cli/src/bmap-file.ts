import { open } from 'node:fs/promises';
import { isClearsigned, scanBmap, type ScanResult } from '@bmapkit/bmap-format';
import { fsError } from './fs-errors.js';

export interface BmapFile {
  scan: ScanResult;
  /** The file is an OpenPGP clearsigned document (the bmap is its signed text). */
  clearsigned: boolean;
}

/** Reads, parses and fully validates a bmap file, its own checksum included. */
export async function readBmapFile(path: string): Promise<BmapFile> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw fsError('BMAP_OPEN', 'cannot open bmap file', path, e);
  }
  try {
    const head = new Uint8Array(34);
    try {
      await handle.read(head, 0, head.length, 0);
    } catch (e) {
      throw fsError('BMAP_OPEN', 'cannot read bmap file', path, e);
    }
    const stream = handle.createReadStream({ start: 0, autoClose: false });
    try {
      return { scan: await scanBmap(stream, { source: path }), clearsigned: isClearsigned(head) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).syscall !== undefined) throw fsError('BMAP_OPEN', 'cannot read bmap file', path, e);
      throw e;
    } finally {
      stream.destroy();
    }
  } finally {
    await handle.close();
  }
}
