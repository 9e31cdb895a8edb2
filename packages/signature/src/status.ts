/** One signature as gpg's machine-readable status lines report it. */
export interface Signature {
  /**
   * good: valid signature by a key we have; bad: the data or signature was
   * altered; no-public-key: signed by a key not in the keyring; expired-key,
   * revoked-key, expired-signature: valid but not to be trusted; error: gpg
   * could not check it.
   */
  status: 'good' | 'bad' | 'no-public-key' | 'expired-key' | 'revoked-key' | 'expired-signature' | 'error';
  /** Long key id (16 hex digits). */
  keyId: string;
  /** Full fingerprint of the signing (sub)key, when gpg could check the signature. */
  fingerprint?: string;
  /** Full fingerprint of the primary key, when it differs from the signing subkey. */
  primaryFingerprint?: string;
  /** "name <email>" of the key, when known. */
  userId?: string;
}

/** The status keywords that report a signature's result, each with the uid of the key. */
const RESULT: Record<'GOODSIG' | 'BADSIG' | 'EXPKEYSIG' | 'REVKEYSIG' | 'EXPSIG', Signature['status']> = {
  GOODSIG: 'good',
  BADSIG: 'bad',
  EXPKEYSIG: 'expired-key',
  REVKEYSIG: 'revoked-key',
  EXPSIG: 'expired-signature',
};

/** Parses `gpg --status-fd` output: one Signature per NEWSIG block (or per result line, for old gpg). */
export function parseStatus(text: string): { signatures: Signature[]; noData: boolean } {
  const signatures: Signature[] = [];
  let current: Signature | undefined;
  let noData = false;
  const start = (s: Signature) => {
    if (current === undefined || current.keyId !== '') {
      current = s;
      signatures.push(current);
    } else Object.assign(current, s);
  };
  for (const line of text.split('\n')) {
    const m = /^\[GNUPG:\] (\S+) ?(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, keyword, rest = ''] = m;
    const args = rest.split(' ');
    const uid = args.slice(1).join(' ') || undefined;
    switch (keyword) {
      case 'NEWSIG':
        current = { status: 'error', keyId: '' };
        signatures.push(current);
        break;
      case 'GOODSIG':
      case 'BADSIG':
      case 'EXPKEYSIG':
      case 'REVKEYSIG':
      case 'EXPSIG':
        start({ status: RESULT[keyword], keyId: args[0]!, ...(uid ? { userId: uid } : {}) });
        break;
      case 'ERRSIG':
        // rc 9: no public key
        start({ status: args[5] === '9' ? 'no-public-key' : 'error', keyId: args[0]!, ...(args[6] && args[6] !== '-' ? { fingerprint: args[6] } : {}) });
        break;
      case 'NO_PUBKEY':
        if (current !== undefined) current.status = 'no-public-key';
        break;
      case 'VALIDSIG':
        if (current !== undefined) {
          current.fingerprint = args[0]!;
          if (args[9] !== undefined && args[9] !== args[0]) current.primaryFingerprint = args[9];
        }
        break;
      case 'NODATA':
        noData = true;
        break;
      default:
        break;
    }
  }
  return { signatures: signatures.filter((s) => s.keyId !== ''), noData };
}

/** Upper-case hex without spaces: how fingerprints are compared. */
export function normalizeFingerprint(f: string): string {
  return f.replace(/\s+/g, '').toUpperCase();
}
