import { SaxesParser } from 'saxes';
import { BmapkitError, type BmapkitErrorCode } from './errors.js';
import type { BlockRange, Bmap } from './types.js';
import { concatBytes } from './bytes.js';
import { ClearsignExtractor, isClearsigned, mayBeClearsigned } from './clearsign.js';
import { BmapDocument } from './document.js';
import { MaskedHasher } from './masked-hasher.js';
import { SNIFF_BYTES, bomLength, looksBinary, sniffCompressed } from './sniff.js';
import { humanSize } from './human.js';
import { latin1, utf8FromLatin1 } from './latin1.js';

export interface ParseOptions {
  /** Path or URL of the bmap, used in messages ("bmap file 'x.bmap': ..."). */
  source?: string;
  /** Verify BmapFileChecksum / BmapFileSHA1 (default true). */
  verifyChecksum?: boolean;
  /** Refuse input longer than this many bytes (default 512 MiB). */
  maxBytes?: number;
  /** Refuse any single XML token (text run, comment, tag) longer than this (default 1 MiB). */
  maxTokenBytes?: number;
  /** Keep the ranges in the result (default true); false for bounded memory with onRange. */
  keepRanges?: boolean;
  /**
   * Called for each range as soon as it is parsed and checked against the
   * ranges before it. The file checksum and the totals are only verified at
   * the end, so treat ranges as provisional until parsing resolves.
   */
  onRange?: (range: BlockRange, index: number) => void;
}

export interface FileChecksumResult {
  /** node:crypto name of the algorithm. */
  algorithm: string;
  /** The digest the file declares (lower case). */
  expected: string;
  /** The digest computed over the file with its digest masked by zeros. */
  actual: string;
  ok: boolean;
}

export interface ScanResult {
  bmap: Bmap;
  /** null for versions without a file checksum (1.0-1.2) or when not verified. */
  fileChecksum: FileChecksumResult | null;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_TOKEN_BYTES = 1024 * 1024;
const FEED_BYTES = 64 * 1024;


/**
 * The streaming core of the bmap parser: bytes in (any chunking), a validated
 * Bmap out. It sniffs compression and clearsign armour, feeds saxes with a
 * byte-exact (latin1) view so that positions are byte offsets, hashes the file
 * for its own checksum on the fly, and checks every rule of bmap-format.md
 * §3-§6 and §10 as early as the data allows.
 */
export class BmapScanner {
  private readonly source: string;
  private readonly verify: boolean;
  private readonly maxBytes: number;
  private readonly maxToken: number;

  private total = 0;
  private head: Uint8Array[] | undefined = [];
  private clearsign: ClearsignExtractor | undefined;

  private readonly sax = newSaxesParser();
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly hasher = new MaskedHasher();
  /** Document bytes seen (after clearsign extraction), BOM included. */
  private docBytes = 0;
  private bom = -1;
  private lastEventAt = 0;
  private readonly doc: BmapDocument;


  constructor(options: ParseOptions = {}, checksumOnly = false) {
    this.source = options.source === undefined ? 'bmap file' : `bmap file '${options.source}'`;
    this.verify = options.verifyChecksum ?? true;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxToken = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
    this.doc = new BmapDocument({
      source: this.source,
      verify: this.verify,
      checksumOnly,
      keepRanges: options.keepRanges ?? true,
      onRange: options.onRange,
      hasher: this.hasher,
      here: () => this.bom + this.sax.position,
      line: () => this.sax.line,
      // the document's own text reaches messages as the parser saw it (UTF-8 bytes as latin1): decode it
      fail: (code, message, withLine) => this.fail(code, utf8FromLatin1(message), withLine),
    });
    this.installHandlers();
  }

  /** Feeds the next bytes of the file. */
  write(chunk: Uint8Array): void {
    this.total += chunk.length;
    if (this.total > this.maxBytes) {
      throw new BmapkitError(
        'BMAP_TOO_LARGE',
        `${this.source}: larger than ${this.maxBytes} bytes (${humanSize(this.maxBytes)}), which no real bmap is; check that this is the bmap and not the image`,
        { details: { source: this.source, limit: this.maxBytes } }, // a library caller can raise it: ParseOptions.maxBytes
      );
    }
    if (this.head !== undefined) {
      this.head.push(chunk);
      const joined = concatBytes(this.head);
      if (joined.length < SNIFF_BYTES && mayBeClearsigned(joined) && sniffCompressed(joined) === undefined) {
        this.head = [joined];
        return;
      }
      this.head = undefined;
      this.decide(joined);
      chunk = joined;
    }
    this.route(chunk);
  }

  /** Ends the input and returns the validated result, or throws. */
  finish(): ScanResult {
    if (this.head !== undefined) {
      const joined = concatBytes(this.head);
      this.head = undefined;
      this.decide(joined);
      this.route(joined);
    }
    if (this.clearsign !== undefined) for (const part of this.clearsign.end()) this.feedDocument(part);
    try {
      this.utf8.decode();
    } catch {
      this.fail('BMAP_PARSE', 'the file is not valid UTF-8 text; this is not a bmap file, or it is damaged');
    }
    if (this.docBytes === 0) this.fail('BMAP_PARSE', 'the file is empty; expected a bmap (XML) file');
    this.sax.close();
    return this.doc.conclude();
  }

  private decide(head: Uint8Array): void {
    const compressed = sniffCompressed(head);
    if (compressed !== undefined) {
      this.fail(
        'BMAP_PARSE',
        `the file is ${compressed.name}-compressed, not a bmap; decompress it first (${compressed.tool})`,
      );
    }
    if (looksBinary(head)) {
      this.fail('BMAP_PARSE', 'contains binary data, so it is not a bmap file; is it the image? (check the order of the arguments)');
    }
    if (isClearsigned(head)) this.clearsign = new ClearsignExtractor(this.source);
  }

  private route(chunk: Uint8Array): void {
    if (this.clearsign !== undefined) {
      for (const part of this.clearsign.push(chunk)) this.feedDocument(part);
    } else {
      this.feedDocument(chunk);
    }
  }

  private feedDocument(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += FEED_BYTES) {
      const piece = bytes.subarray(off, Math.min(bytes.length, off + FEED_BYTES));
      this.hasher.append(piece);
      try {
        this.utf8.decode(piece, { stream: true });
      } catch {
        const at = this.docBytes + firstInvalidUtf8(piece);
        this.fail('BMAP_PARSE', `invalid UTF-8 near byte ${at}; this is not a bmap file, or it is damaged`);
      }
      this.docBytes += piece.length;
      let text = piece;
      if (this.bom < 0) {
        this.bom = bomLength(piece);
        text = piece.subarray(this.bom);
      }
      this.trackTags(text);
      this.sax.write(latin1(text));
      if (this.sax.position - this.lastEventAt > this.maxToken) {
        this.fail(
          'BMAP_TOO_LARGE',
          `${TOKEN[this.inside]} longer than ${humanSize(this.maxToken)} at line ${this.sax.line}; this is not a bmap file, or it is damaged`,
        );
      }
      this.hasher.flush();
    }
  }

  /**
   * What the bytes fed so far end inside, judged by the last '<' and '>':
   * text, a tag, or a comment or declaration ('<!'). Says which kind of
   * token ran too long.
   */
  private inside: 'text' | 'tag' | 'comment' = 'text';

  private trackTags(bytes: Uint8Array): void {
    const lt = bytes.lastIndexOf(0x3c);
    const gt = bytes.lastIndexOf(0x3e);
    if (lt === -1 && gt === -1) return;
    if (lt < gt) this.inside = this.inside === 'comment' && lt === -1 && !endsComment(bytes, gt) ? 'comment' : 'text';
    else this.inside = bytes[lt + 1] === 0x21 ? 'comment' : 'tag';
  }

  private fail(code: BmapkitErrorCode, message: string, withLine = false): never {
    const where = withLine ? `line ${this.sax.line}: ` : '';
    throw new BmapkitError(code, `${this.source}: ${where}${message}`, { details: { source: this.source } });
  }

  private installHandlers(): void {
    const sax = this.sax;
    // At most seven handlers: saxes stores each one as a new property, and
    // more than that drops the parser object into V8's slow dictionary mode,
    // which made parsing four times slower. Comments and processing
    // instructions need none (markup inside the file checksum is caught by
    // comparing its raw bytes with its text).
    const touch = (): void => {
      this.lastEventAt = sax.position;
    };
    sax.on('error', (err) => {
      const reason = utf8FromLatin1(err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '').replace(/\.$/, ''));
      this.fail(
        'BMAP_PARSE',
        `not well-formed XML at line ${sax.line}, column ${sax.column}: ${reason}; the file is damaged or not a bmap`,
      );
    });
    sax.on('xmldecl', (decl) => {
      touch();
      const enc = decl.encoding?.toLowerCase();
      if (enc !== undefined && !['utf-8', 'utf8', 'us-ascii', 'ascii'].includes(enc)) {
        this.fail('BMAP_PARSE', `declares encoding '${decl.encoding}'; bmap files are UTF-8 (ASCII)`, true);
      }
    });
    sax.on('doctype', () => {
      this.fail(
        'BMAP_PARSE',
        'contains a DOCTYPE declaration; bmap files never do, and DTDs and entities are refused for safety',
        true,
      );
    });
    sax.on('text', (t) => {
      touch();
      this.doc.onText(t);
    });
    sax.on('cdata', (t) => {
      touch();
      this.doc.onText(t);
    });
    sax.on('opentag', (tag) => {
      touch();
      this.doc.onOpen(tag);
    });
    sax.on('closetag', (tag) => {
      touch();
      this.doc.onClose(tag);
    });
  }
}

const TOKEN = { text: 'text without markup', tag: 'a tag (thousands of attributes?)', comment: 'a comment or declaration' } as const;

/** True when the '>' at `gt` closes a comment ('-->'); a '>' inside a comment does not end it. */
function endsComment(bytes: Uint8Array, gt: number): boolean {
  return gt >= 2 && bytes[gt - 1] === 0x2d && bytes[gt - 2] === 0x2d;
}

/** Offset of the first byte at which `piece` stops being valid UTF-8 (a binary search; error path only). */
function firstInvalidUtf8(piece: Uint8Array): number {
  let lo = 0;
  let hi = piece.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(piece.subarray(0, mid + 1), { stream: true });
      lo = mid + 1;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

/**
 * A plain static import, so that bundlers (esbuild, rollup) can follow it:
 * loading saxes lazily through createRequire saved create ~20 ms of start-up
 * but left @bmapkit/bmap-format impossible to bundle.
 */
function newSaxesParser(): SaxesParser<{ xmlns: false; position: true }> {
  return new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
}
