import type { Bmap, FileChecksumResult } from '@bmapkit/bmap-format';
import { readBmapFile } from './bmap-file.js';

export interface BmapCheck {
  bmap: Bmap;
  /** Ranges in the file, and how many carry a checksum. */
  ranges: number;
  rangesWithChecksums: number;
  /** The bmap file's own checksum (format 1.3 and later), verified; null for older formats. */
  fileChecksum: FileChecksumResult | null;
  /** The file is an OpenPGP clearsigned document (its signature not checked here). */
  clearsigned: boolean;
}

/**
 * Reads and validates a bmap file (path, URL, pipe) by every rule a copy
 * goes by, its own checksum included, counting its ranges as they pass:
 * memory stays flat whatever the bmap's size (`bmap.ranges` is left empty).
 * Rejects with the error a copy would stop on.
 */
export async function checkBmap(path: string): Promise<BmapCheck> {
  let ranges = 0;
  let rangesWithChecksums = 0;
  const file = await readBmapFile(path, undefined, undefined, {
    keepRanges: false,
    onRange: (r) => {
      ranges += 1;
      if (r.checksum !== undefined) rangesWithChecksums += 1;
    },
  });
  return { bmap: file.scan.bmap, ranges, rangesWithChecksums, fileChecksum: file.scan.fileChecksum, clearsigned: file.clearsigned };
}
