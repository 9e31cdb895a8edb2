import { BmapkitError } from './errors.js';

/**
 * How a format version is read (bmap-format.md §7):
 * - `generic`: 1.4 and 2.x; ChecksumType names the algorithm, ranges carry
 *   `chksum`, the file checksum is BmapFileChecksum.
 * - `sha1`: 1.3; ranges carry `sha1`, the file checksum is BmapFileSHA1.
 * - `legacy`: 1.0-1.2; no file checksum, ranges may carry `sha1`.
 */
export type FormatMode = 'generic' | 'sha1' | 'legacy';

export interface FormatVersion {
  text: string;
  major: number;
  minor: number;
  mode: FormatMode;
}

/** Parses and classifies the root's version attribute, or throws. */
export function classifyVersion(raw: string | undefined, source: string): FormatVersion {
  if (raw === undefined) {
    throw new BmapkitError(
      'BMAP_PARSE',
      `${source}: the <bmap> element has no 'version' attribute; this is not a valid bmap file`,
    );
  }
  const text = raw.trim();
  const m = /^([0-9]{1,9})\.([0-9]{1,9})$/.exec(text);
  if (!m) {
    throw new BmapkitError(
      'BMAP_PARSE',
      `${source}: malformed bmap format version '${raw}' (expected 'major.minor', e.g. '2.0')`,
      { details: { version: raw } },
    );
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const unsupported = (why: string): never => {
    throw new BmapkitError(
      'UNSUPPORTED_VERSION',
      `${source}: bmap format version ${text} is not supported (${why}); ` +
        `bmapkit reads format versions 1.0 to 1.4 and 2.x`,
      { details: { version: text } },
    );
  };
  if (major >= 3) unsupported('a newer major version than this tool knows');
  if (major === 2 || (major === 1 && minor === 4)) return { text, major, minor, mode: 'generic' };
  if (major === 1 && minor === 3) return { text, major, minor, mode: 'sha1' };
  if (major === 1 && minor <= 2) return { text, major, minor, mode: 'legacy' };
  return unsupported('no tool has ever written it');
}
