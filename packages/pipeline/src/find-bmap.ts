import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BmapkitError } from '@bmapkit/bmap-format';
import { redactUrl } from '@bmapkit/extent-source';
import { readBmapFile, type BmapFile } from './bmap-file.js';
import { fetchToTemp, isRemote, localPath } from './remote-file.js';
import { bmapCandidates } from './bmap-candidates.js';

/** A bmap that was found (or given), read and fully validated. */
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
export async function locateBmap(image: string, explicit: string | undefined, onInfo: (message: string) => void = () => undefined): Promise<FoundBmap | undefined> {
  const sameAsImage = (p: string) => image !== '-' && resolve(p) === resolve(image);
  if (explicit !== undefined) {
    if (sameAsImage(explicit)) throw sameFile();
    return { path: explicit, file: await readBmapFile(explicit, undefined, onInfo), discovered: false };
  }
  for (const candidate of bmapCandidates(image)) {
    if (isRemote(candidate)) {
      // fetched once; a candidate that is not there (404) is passed over silently
      const local = await fetchToTemp(candidate, 'bmap file', 'BMAP_OPEN').catch(() => undefined);
      if (local === undefined) continue;
      onInfo(`discovered bmap file '${redactUrl(candidate)}'`);
      return { path: candidate, file: await readBmapFile(candidate, local), discovered: true };
    }
    const path = localPath(candidate);
    try {
      await access(path);
    } catch {
      continue;
    }
    if (sameAsImage(path)) throw sameFile();
    onInfo(`discovered bmap file '${candidate}'`);
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

/**
 * Where the bmap of IMAGE is, found as bmaptool finds it (IMAGE.bmap, then
 * one extension stripped at a time; on a URL's path, keeping its query), or
 * undefined. The bmap is read and validated on the way: a candidate that
 * exists but is not a valid bmap is an error, not passed over.
 */
export async function findBmap(image: string | URL): Promise<string | undefined> {
  return (await locateBmap(image instanceof URL ? image.href : image, undefined))?.path;
}
