import { open } from 'node:fs/promises';
import { isClearsigned, scanBmap, type ParseOptions, type ScanResult, fsError } from '@bmapkit/bmap-format';
import { isUrl, redactUrl } from '@bmapkit/extent-source';
import { localCopy } from './remote-file.js';

export interface BmapFile {
  scan: ScanResult;
  /** Where the bytes are on this machine (a fetched copy for a URL): what signatures are checked against. */
  localPath: string;
  /** The file is an OpenPGP clearsigned document (the bmap is its signed text). */
  clearsigned: boolean;
}

/**
 * Reads, parses and fully validates a bmap file (a path, a URL, or a pipe
 * or FIFO, read once into a private copy), its own checksum included.
 */
export async function readBmapFile(
  uri: string,
  fetched?: string,
  onInfo?: (message: string) => void,
  parse: Pick<ParseOptions, 'keepRanges' | 'onRange'> = {},
): Promise<BmapFile> {
  const path = fetched ?? (await localCopy(uri, 'bmap file', 'BMAP_OPEN', { text: true, ...(onInfo === undefined ? {} : { onInfo }) }));
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
      return { scan: await scanBmap(stream, { source: isUrl(uri) ? redactUrl(uri) : uri, ...parse }), clearsigned: isClearsigned(head), localPath: path };
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
