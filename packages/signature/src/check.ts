import { access, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { BmapkitError, fsError } from '@bmapkit/bmap-format';
import { gpgVerify } from './gpg.js';
import { normalizeFingerprint, type Signature } from './status.js';

export interface BmapSignatureOptions {
  /** The bmap file as given. */
  bmap: string;
  /** The bmap is clearsigned (its signature is inline). */
  clearsigned: boolean;
  /** `--bmap-sig`: a detached signature. Otherwise `<bmap>.asc`, then `<bmap>.sig`, are looked for. */
  signature?: string;
  /** `--fingerprint`: require a good signature by this key (full fingerprint; case and spaces do not matter). */
  fingerprint?: string;
  /** `--keyring`: check against this keyring file only. */
  keyring?: string;
  gpg?: string;
  env?: NodeJS.ProcessEnv;
  onInfo?: (message: string) => void;
}

export interface BmapSignatureResult {
  /** Where the signature came from ("inline" for a clearsigned bmap), or undefined when the bmap is unsigned. */
  source: string | undefined;
  /** The good signatures. */
  signatures: Signature[];
}

async function readable(path: string): Promise<unknown> {
  try {
    await (await open(path, 'r')).close();
    return undefined;
  } catch (e) {
    return e;
  }
}

/** The signature of a bmap: inline, `--bmap-sig`, or discovered next to it. */
async function findSignature(o: BmapSignatureOptions): Promise<string | undefined> {
  if (o.clearsigned) {
    o.onInfo?.('discovered inline signature');
    return 'inline';
  }
  if (o.signature !== undefined) {
    const e = await readable(o.signature);
    if (e !== undefined) throw fsError('SIGNATURE_OPEN', 'cannot open bmap signature file', o.signature, e);
    return o.signature;
  }
  for (const candidate of [`${o.bmap}.asc`, `${o.bmap}.sig`]) {
    if (await access(candidate).then(() => true, () => false)) {
      o.onInfo?.(`discovered signature file for bmap '${candidate}'`);
      return candidate;
    }
  }
  return undefined;
}

const FIX = 'fix the problem, or use --no-sig-verify to use the bmap without checking its signature';

/**
 * Checks the OpenPGP signature of a bmap as bmaptool does, with clearer
 * failures: a bad signature, an unknown signer, an expired or revoked key,
 * a signature file with no signature in it, and a `--fingerprint` that did
 * not sign are each an error naming the signer or key id. An unsigned bmap
 * passes unless `--fingerprint` or `--keyring` asked for a signature.
 */
export async function checkBmapSignature(o: BmapSignatureOptions): Promise<BmapSignatureResult> {
  const source = await findSignature(o);
  if (source === undefined) {
    if (o.fingerprint !== undefined) throw new BmapkitError('SIGNATURE_MISSING', 'no signature found but --fingerprint given');
    if (o.keyring !== undefined) throw new BmapkitError('SIGNATURE_MISSING', 'no signature found but --keyring given');
    return { source: undefined, signatures: [] };
  }
  const name = source === 'inline' ? basename(o.bmap) : basename(source);
  const result = await gpgVerify({
    data: o.bmap,
    ...(source === 'inline' ? {} : { signature: source }),
    ...(o.keyring === undefined ? {} : { keyring: o.keyring }),
    ...(o.gpg === undefined ? {} : { gpg: o.gpg }),
    ...(o.env === undefined ? {} : { env: o.env }),
  });
  if (result.signatures.length === 0) {
    const what = source === 'inline' ? 'the bmap file clearsign signature' : `the "${source}" signature file`;
    const detail = result.stderr.trim().split('\n').at(-1)?.replace(/^gpg: /, '') ?? '';
    throw new BmapkitError('SIGNATURE_BAD', `${what} does not actually contain any valid signatures${detail ? ` (gpg: ${detail})` : ''}; ${FIX}`);
  }
  for (const s of result.signatures) {
    const who = s.userId ?? `key ${s.keyId}`;
    if (s.status === 'bad') {
      throw new BmapkitError('SIGNATURE_BAD', `discovered a BAD GPG signature: ${name} (the bmap or the signature was altered; signer ${who}); ${FIX}`);
    }
    if (s.status === 'no-public-key') {
      throw new BmapkitError(
        'SIGNATURE_BAD',
        `discovered a BAD GPG signature: ${name} (signed by unknown key ${s.keyId}: import the signer's public key, or give its keyring with --keyring); ${FIX}`,
      );
    }
    if (s.status !== 'good') {
      const why = { 'expired-key': 'the key has expired', 'revoked-key': 'the key was revoked', 'expired-signature': 'the signature has expired', error: 'gpg could not check it' }[s.status];
      throw new BmapkitError('SIGNATURE_BAD', `signature verification failed (fingerprint ${s.fingerprint ?? s.keyId}): ${why}; ${FIX}`);
    }
  }
  if (o.fingerprint !== undefined) {
    const want = normalizeFingerprint(o.fingerprint);
    const have = result.signatures.flatMap((s) => [s.fingerprint, s.primaryFingerprint]).filter((f): f is string => f !== undefined);
    if (!have.some((f) => normalizeFingerprint(f) === want)) {
      throw new BmapkitError(
        'SIGNATURE_FINGERPRINT',
        `requested fingerprint ${o.fingerprint} did not sign the bmap file. Only have these sigs: ${have.map((f) => `* ${f}`).join(', ') || 'none'}`,
      );
    }
  }
  for (const s of result.signatures) {
    o.onInfo?.(`successfully verified bmap file signature of ${s.userId ?? s.keyId} (fingerprint ${s.primaryFingerprint ?? s.fingerprint ?? s.keyId})`);
  }
  return { source, signatures: result.signatures };
}
