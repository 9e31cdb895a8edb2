import { BmapkitError, humanSize, validateBmap, type Bmap } from '@bmapkit/bmap-format';
import { redactUrl } from '@bmapkit/extent-source';
import { checkBmapSignature } from '@bmapkit/signature';
import type { PreparedImage } from './copy-chunks.js';
import { locateBmap, type FoundBmap } from './find-bmap.js';
import { splitQuery } from './bmap-candidates.js';
import { fetchToTemp, isRemote, localCopy } from './remote-file.js';
import type { SignatureOptions } from './copy-image.js';
import type { CopyEvent, LogLevel } from './events.js';

/** The bmap a copy uses: where it came from (none for a Bmap object) and where its bytes are on this machine. */
export interface ResolvedBmap {
  bmap: Bmap;
  path: string | undefined;
  localPath: string | undefined;
}

/**
 * The bmap for a copy: a Bmap object as given (validated), the file given,
 * or the one discovered next to the image; its signature checked; its image
 * size matched against a raw image's. Undefined for `bmap: false`.
 */
export async function resolveBmap(
  o: { bmap?: string | URL | Bmap | false; signature?: SignatureOptions },
  prepared: PreparedImage,
  emit: (e: CopyEvent) => void,
  log: (level: LogLevel, message: string) => void,
): Promise<ResolvedBmap | undefined> {
  const sig = o.signature ?? {};
  if (o.bmap === false) {
    if (sig.file !== undefined) throw new BmapkitError('BMAP_MISSING', 'the bmap signature file was specified, but bmap file was not found');
    return undefined;
  }
  let resolved: ResolvedBmap;
  const format = prepared.format ?? 'raw';
  if (typeof o.bmap === 'object' && !(o.bmap instanceof URL)) {
    validateBmap(o.bmap);
    if (sig.file !== undefined) throw new BmapkitError('USAGE', 'a bmap signature file was given, but the bmap is an object, not a file; give the bmap file');
    resolved = { bmap: o.bmap, path: undefined, localPath: undefined };
    emit({ type: 'bmap', bmap: o.bmap, path: undefined, discovered: false, format });
  } else {
    const explicit = o.bmap instanceof URL ? o.bmap.href : o.bmap;
    const found = await locateBmap(prepared.image.kind === 'stream' ? '-' : prepared.image.uri, explicit, (m) => log('info', m));
    if (found === undefined) {
      throw new BmapkitError(
        'BMAP_MISSING',
        sig.file !== undefined ? 'the bmap signature file was specified, but bmap file was not found' : 'bmap file not found, please, use --nobmap option to flash without bmap',
      );
    }
    await checkSignatures(found, sig, log);
    resolved = { bmap: found.file.scan.bmap, path: found.path, localPath: found.file.localPath };
    emit({ type: 'bmap', bmap: resolved.bmap, path: found.path, discovered: found.discovered, format });
  }
  const bmap = resolved.bmap;
  if (prepared.knownSize !== undefined && prepared.knownSize !== bmap.imageSize) {
    throw new BmapkitError(
      'IMAGE_SIZE',
      `cannot set image size to ${prepared.knownSize} bytes, it is known to be ${bmap.imageSize} bytes (${humanSize(bmap.imageSize)}); ` +
        `image '${prepared.image.name}' does not belong to ${resolved.path === undefined ? 'the given bmap' : `bmap file '${redactUrl(resolved.path)}'`}`,
    );
  }
  return resolved;
}

/**
 * The bmap's OpenPGP signature, unless `verify: false` (which still lets a
 * clearsigned bmap be used). A remote bmap's signature is fetched too:
 * `file`, or <bmap URL path>.asc / .sig (keeping the query).
 */
async function checkSignatures(found: FoundBmap, o: SignatureOptions, log: (level: LogLevel, message: string) => void): Promise<void> {
  if (o.verify === false) return;
  let signature = o.file === undefined ? undefined : await localCopy(o.file, 'bmap signature file', 'SIGNATURE_OPEN');
  if (signature === undefined && !found.file.clearsigned && isRemote(found.path)) {
    const [path, query] = splitQuery(found.path);
    for (const ext of ['.asc', '.sig']) {
      const candidate = `${path}${ext}${query}`;
      signature = await fetchToTemp(candidate, 'bmap signature file', 'SIGNATURE_OPEN').catch(() => undefined);
      if (signature !== undefined) {
        log('info', `discovered signature file for bmap '${redactUrl(candidate)}'`);
        break;
      }
    }
  }
  await checkBmapSignature({
    bmap: found.file.localPath,
    clearsigned: found.file.clearsigned,
    ...(signature === undefined ? {} : { signature }),
    ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
    ...(o.keyring === undefined ? {} : { keyring: o.keyring }),
    onInfo: (m) => log('info', m),
  });
}
