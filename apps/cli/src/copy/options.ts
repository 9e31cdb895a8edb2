import { BmapkitError } from '@bmapkit/bmap-format';

export interface CopyOptions {
  bmap?: string;
  nobmap?: boolean;
  bmapSig?: string;
  sigVerify: boolean;
  keyring?: string;
  fingerprint?: string;
  verify: boolean;
  psplashPipe?: string;
  removableDevice?: boolean;
  /** JSON-lines events on stdout (start, bmap, progress, done, error). */
  json?: boolean;
  /** Create a missing /dev/... path as a regular file (refused without it: a typo). */
  force?: boolean;
  /** O_DIRECT writes to a block device. */
  direct?: boolean;
  /** Read each batch back from DEST after it is flushed and compare; rewrite bad chunks. */
  verifyWritten?: boolean;
  /** Tune the device's I/O scheduler and dirty ratio while writing (default on). */
  tune: boolean;
  /** Modules that register extra codecs (--codec, repeatable). */
  codec?: string[];
}

/** Pairs the reference refuses before any file is touched (exit 1). */
export function checkConflicts(o: CopyOptions): void {
  const pairs: Array<[boolean, string, string]> = [
    [o.nobmap === true && o.bmap !== undefined, '--nobmap', '--bmap'],
    [o.bmapSig !== undefined && !o.sigVerify, '--bmap-sig', '--no-sig-verify'],
    [!o.sigVerify && o.keyring !== undefined, '--no-sig-verify', '--keyring'],
    [!o.sigVerify && o.fingerprint !== undefined, '--no-sig-verify', '--fingerprint'],
  ];
  for (const [bad, a, b] of pairs) {
    if (bad) throw new BmapkitError('USAGE', `${a} and ${b} cannot be used together`);
  }
}
