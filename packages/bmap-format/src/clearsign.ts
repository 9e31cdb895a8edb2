import { BmapkitError } from './errors.js';
import { concatBytes } from './bytes.js';

const BEGIN = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIG = '-----BEGIN PGP SIGNATURE-----';
const BEGIN_BYTES = new TextEncoder().encode(BEGIN);
const MAX_LINE = 1 << 20;

/** True if the bytes start (at byte 0) with the OpenPGP cleartext-signature armour. */
export function isClearsigned(head: Uint8Array): boolean {
  if (head.length < BEGIN_BYTES.length) return false;
  for (let i = 0; i < BEGIN_BYTES.length; i++) if (head[i] !== BEGIN_BYTES[i]) return false;
  return true;
}

/** True while `head` could still turn out to be clearsigned once more bytes arrive. */
export function mayBeClearsigned(head: Uint8Array): boolean {
  const n = Math.min(head.length, BEGIN_BYTES.length);
  for (let i = 0; i < n; i++) if (head[i] !== BEGIN_BYTES[i]) return false;
  return true;
}

export interface ClearsignedParts {
  /** The signed text: dash-unescaped, every line ended by LF (bmap-format.md §6.5). */
  text: Uint8Array;
  /** The `Hash:` armour header values, e.g. ["SHA256"]. */
  hashes: string[];
  /** The armoured signature block, BEGIN to END lines included. */
  signature: string;
}

type State = 'begin' | 'headers' | 'text' | 'signature' | 'done';

/**
 * Streaming extractor for a clearsigned document: push bytes in, get the
 * signed text out line by line. Memory is bounded by the longest line.
 */
export class ClearsignExtractor {
  private state: State = 'begin';
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  private readonly decoder = new TextDecoder('latin1');
  readonly hashes: string[] = [];
  private signatureLines: string[] = [];

  constructor(private readonly source = 'bmap file') {}

  /** Feeds bytes; returns the plaintext bytes that became available. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, start)) {
      this.appendPending(chunk.subarray(start, i));
      this.line(this.takePending(), out);
      start = i + 1;
    }
    this.appendPending(chunk.subarray(start));
    return out;
  }

  /** Ends the input; throws if the armour is incomplete. */
  end(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.pendingLength > 0) this.line(this.takePending(), out);
    if (this.state !== 'done') {
      throw new BmapkitError(
        'BMAP_PARSE',
        `${this.source}: the clearsigned bmap ends before its signature block is complete; the file is truncated, download it again`,
      );
    }
    return out;
  }

  get signature(): string {
    return this.signatureLines.join('\n') + '\n';
  }

  private appendPending(b: Uint8Array): void {
    if (b.length === 0) return;
    this.pendingLength += b.length;
    if (this.pendingLength > MAX_LINE) {
      throw new BmapkitError(
        'BMAP_PARSE',
        `${this.source}: a line of the clearsigned bmap is longer than ${MAX_LINE} bytes; this is not a bmap file`,
      );
    }
    this.pending.push(b);
  }

  private takePending(): Uint8Array {
    const all = concatBytes(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    return all;
  }

  private line(raw: Uint8Array, out: Uint8Array[]): void {
    const bytes = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
    const asText = (): string => this.decoder.decode(bytes);
    switch (this.state) {
      case 'begin':
        if (asText().trimEnd() !== BEGIN) {
          throw new BmapkitError('BMAP_PARSE', `${this.source}: not a clearsigned document`);
        }
        this.state = 'headers';
        return;
      case 'headers': {
        const t = asText().trimEnd();
        if (t === '') {
          this.state = 'text';
          return;
        }
        const m = /^Hash:\s*(.*)$/.exec(t);
        if (m) this.hashes.push(...m[1]!.split(',').map((h) => h.trim()).filter(Boolean));
        return;
      }
      case 'text': {
        if (bytes.length >= BEGIN_SIG.length && bytes[0] === 0x2d && asText().trimEnd() === BEGIN_SIG) {
          this.state = 'signature';
          this.signatureLines.push(BEGIN_SIG);
          return;
        }
        const unescaped = bytes.length >= 2 && bytes[0] === 0x2d && bytes[1] === 0x20 ? bytes.subarray(2) : bytes;
        const lineOut = new Uint8Array(unescaped.length + 1);
        lineOut.set(unescaped);
        lineOut[unescaped.length] = 0x0a;
        out.push(lineOut);
        return;
      }
      case 'signature': {
        const t = asText().trimEnd();
        this.signatureLines.push(t);
        if (t.startsWith('-----END PGP SIGNATURE-----')) this.state = 'done';
        return;
      }
      case 'done':
        if (asText().trim() !== '') {
          throw new BmapkitError(
            'BMAP_PARSE',
            `${this.source}: unexpected text after the end of the clearsigned bmap's signature block`,
          );
        }
        return;
    }
  }
}

/** Splits a whole clearsigned document into its signed text and signature. */
export function extractClearsigned(doc: Uint8Array | string, source = 'bmap file'): ClearsignedParts {
  const bytes = typeof doc === 'string' ? new TextEncoder().encode(doc) : doc;
  if (!isClearsigned(bytes)) {
    throw new BmapkitError(
      'BMAP_PARSE',
      `${source}: not a clearsigned document (it does not start with '${BEGIN}')`,
    );
  }
  const x = new ClearsignExtractor(source);
  const text = concatBytes([...x.push(bytes), ...x.end()]);
  return { text, hashes: x.hashes, signature: x.signature };
}
