import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BmapkitError } from '@bmapkit/bmap-format';
import { redactUrl } from '@bmapkit/extent-source';
import { readBmapFile, type BmapFile } from '../bmap-file.js';
import { fetchToTemp, isRemote, localPath } from '../remote-file.js';
import { bmapCandidates } from './discover.js';
import type { Logger } from '../log.js';

export interface FoundBmap {
  path: string;
  file: BmapFile;
  discovered: boolean;
}

/**
 * The bmap for IMAGE: --bmap if given, else the first discovery candidate
 * that exists. Any candidate that cannot be opened is passed over silently,
 * as the reference does. Refuses a bmap that is the image itself.
 */
export async function findBmap(image: string, explicit: string | undefined, log: Logger): Promise<FoundBmap | undefined> {
  const sameAsImage = (p: string) => image !== '-' && resolve(p) === resolve(image);
  if (explicit !== undefined) {
    if (sameAsImage(explicit)) throw sameFile();
    return { path: explicit, file: await readBmapFile(explicit, undefined, (m) => log.info(m)), discovered: false };
  }
  for (const candidate of bmapCandidates(image)) {
    if (isRemote(candidate)) {
      // fetched once; a candidate that is not there (404) is passed over silently
      const local = await fetchToTemp(candidate, 'bmap file', 'BMAP_OPEN').catch(() => undefined);
      if (local === undefined) continue;
      log.info(`discovered bmap file '${redactUrl(candidate)}'`);
      return { path: candidate, file: await readBmapFile(candidate, local), discovered: true };
    }
    const path = localPath(candidate);
    try {
      await access(path);
    } catch {
      continue;
    }
    if (sameAsImage(path)) throw sameFile();
    log.info(`discovered bmap file '${candidate}'`);
    return { path: candidate, file: await readBmapFile(path), discovered: true };
  }
  return undefined;
}

function sameFile(): BmapkitError {
  return new BmapkitError(
    'BMAP_IS_IMAGE',
    'Make sure you are writing your image and not the bmap file (you specified the same path for them)',
  );
}
