import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { BmapkitError, type BmapkitErrorCode } from './errors.js';
import type { BlockRange, Bmap } from './types.js';
import { blocksFor } from './types.js';
import { ClearsignExtractor, isClearsigned, mayBeClearsigned } from './clearsign.js';
import { MaskedHasher } from './masked-hasher.js';
import { SNIFF_BYTES, bomLength, looksBinary, sniffCompressed } from './sniff.js';
import { classifyVersion, type FormatVersion } from './version.js';
import { digestHexLength, requireHashName } from './checksum-types.js';
import { isHex, parseDecimal, trimXml } from './numbers.js';
import { parseRangeText, RangeChecker } from './range-rules.js';

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

const VALUE_FIELDS = ['ImageSize', 'BlockSize', 'BlocksCount', 'MappedBlocksCount'] as const;
type ValueField = (typeof VALUE_FIELDS)[number];

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
  private readonly keepRanges: boolean;
  private readonly onRange: ParseOptions['onRange'];

  private total = 0;
  private head: Uint8Array[] | undefined = [];
  private headLength = 0;
  private clearsign: ClearsignExtractor | undefined;

  private readonly sax = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  private readonly latin1 = new TextDecoder('latin1');
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });
  private readonly hasher = new MaskedHasher();
  /** Document bytes seen (after clearsign extraction), BOM included. */
  private docBytes = 0;
  private bom = -1;
  private lastEventAt = 0;

  private depth = 0;
  private version: FormatVersion | undefined;
  private rootSeen = false;
  private readonly seen = new Set<string>();
  private collecting: { name: string; depth: number; text: string; attrs: Record<string, string>; line: number } | undefined;
  private inBlockMap = false;
  private checksumElement: { contentStart: number; contentEnd: number; text: string } | undefined;
  private readonly values: Partial<Record<ValueField, number>> = {};
  private algorithm: string | undefined;
  private fileChecksumText: string | undefined;
  private readonly ranges: BlockRange[] = [];
  private readonly rangeChecker: RangeChecker;
  private anyRangeSha1 = false;

  constructor(
    options: ParseOptions = {},
    private readonly checksumOnly = false,
  ) {
    this.source = options.source === undefined ? 'bmap file' : `bmap file '${options.source}'`;
    this.verify = options.verifyChecksum ?? true;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.maxToken = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
    this.keepRanges = options.keepRanges ?? true;
    this.onRange = options.onRange;
    this.rangeChecker = new RangeChecker((msg) => this.fail('BMAP_INVALID', msg, true));
    this.installHandlers();
  }

  /** Feeds the next bytes of the file. */
  write(chunk: Uint8Array): void {
    this.total += chunk.length;
    if (this.total > this.maxBytes) {
      throw new BmapkitError(
        'BMAP_TOO_LARGE',
        `${this.source}: larger than ${this.maxBytes} bytes, which no real bmap is; check that this is the bmap and not the image (or raise maxBytes)`,
      );
    }
    if (this.head !== undefined) {
      this.head.push(chunk);
      this.headLength += chunk.length;
      const joined = concat(this.head);
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
      const joined = concat(this.head);
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
    return this.conclude();
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
      this.sax.write(this.latin1.decode(text, { stream: true }));
      if (this.sax.position - this.lastEventAt > this.maxToken) {
        this.fail(
          'BMAP_TOO_LARGE',
          `more than ${this.maxToken} bytes without markup at line ${this.sax.line}; this is not a bmap file, or it is damaged`,
        );
      }
      this.hasher.flush();
    }
  }

  /** Absolute document offset of the parser's current position. */
  private get here(): number {
    return this.bom + this.sax.position;
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
      const reason = err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '').replace(/\.$/, '');
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
      this.onText(t);
    });
    sax.on('cdata', (t) => {
      touch();
      this.onText(t);
    });
    sax.on('opentag', (tag) => {
      touch();
      this.onOpen(tag);
    });
    sax.on('closetag', (tag) => {
      touch();
      this.onClose(tag);
    });
  }

  private checksumElementName(): string | undefined {
    if (this.version?.mode === 'generic') return 'BmapFileChecksum';
    if (this.version?.mode === 'sha1') return 'BmapFileSHA1';
    return undefined;
  }

  private onText(t: string): void {
    const c = this.collecting;
    if (c === undefined || c.depth !== this.depth) return;
    c.text += t;
    if (c.name === this.checksumElementName() && this.checksumElement !== undefined) {
      this.checksumElement.contentEnd = this.here - 1; // the text ends at the '<' just read
      this.checksumElement.text += t;
    }
  }

  private onOpen(tag: SaxesTagPlain): void {
    this.depth += 1;
    const name = tag.name;
    if (this.depth === 1) return this.onRoot(tag);
    if (this.collecting !== undefined && this.collecting.name === this.checksumElementName()) {
      this.fail('BMAP_PARSE', `<${this.collecting.name}> must contain only the hex digest, as plain text`, true);
    }
    if (this.depth === 2) {
      const known = this.isField(name);
      if (!known) return;
      if (this.seen.has(name)) this.fail('BMAP_PARSE', `<${name}> appears more than once`, true);
      this.seen.add(name);
      if (name === 'BlockMap') {
        this.inBlockMap = true;
        return;
      }
      this.collecting = { name, depth: 2, text: '', attrs: {}, line: this.sax.line };
      if (name === this.checksumElementName()) {
        const at = this.here;
        this.checksumElement = { contentStart: at, contentEnd: at, text: '' };
        this.hasher.hold(at);
      }
      return;
    }
    if (this.depth === 3 && this.inBlockMap && name === 'Range' && !this.checksumOnly) {
      this.collecting = { name, depth: 3, text: '', attrs: tag.attributes, line: this.sax.line };
    }
  }

  private onRoot(tag: SaxesTagPlain): void {
    if (tag.name !== 'bmap') {
      this.fail('BMAP_PARSE', `the root element is <${tag.name}>, not <bmap>; this is not a bmap file`, true);
    }
    this.rootSeen = true;
    this.version = classifyVersion(tag.attributes['version'], this.source);
    if (!this.verify || this.version.mode === 'legacy') this.hasher.disable();
    else if (this.version.mode === 'sha1') this.hasher.start('sha1');
    if (this.version.mode !== 'generic') this.rangeChecker.setDigestLength(digestHexLength('sha1'));
  }

  private isField(name: string): boolean {
    if (name === 'BlockMap' || (VALUE_FIELDS as readonly string[]).includes(name)) return !this.checksumOnly;
    if (name === 'ChecksumType') return this.version!.mode === 'generic';
    return name === this.checksumElementName();
  }

  private onClose(tag: SaxesTagPlain): void {
    const c = this.collecting;
    if (c !== undefined && c.depth === this.depth && c.name === tag.name) {
      this.collecting = undefined;
      this.onField(c);
    } else if (this.depth === 2 && tag.name === 'BlockMap') {
      this.inBlockMap = false;
    }
    this.depth -= 1;
  }

  private onField(c: { name: string; text: string; attrs: Record<string, string>; line: number }): void {
    switch (c.name) {
      case 'Range':
        return this.onRange_(c.text, c.attrs);
      case 'ChecksumType':
        this.algorithm = requireHashName(c.text, this.source);
        if (this.verify) this.hasher.start(this.algorithm);
        this.rangeChecker.setDigestLength(digestHexLength(this.algorithm));
        return;
      case 'BmapFileChecksum':
      case 'BmapFileSHA1':
        return this.onChecksumElement(c.name);
      default: {
        const n = parseDecimal(c.text);
        if (n === undefined) {
          this.fail('BMAP_PARSE', `<${c.name}> must be a decimal number, found '${trimXml(c.text).slice(0, 40)}'`, true);
        }
        this.values[c.name as ValueField] = n;
      }
    }
  }

  private onChecksumElement(name: string): void {
    const el = this.checksumElement!;
    const raw = this.latin1.decode(this.hasher.active ? this.hasher.slice(el.contentStart, el.contentEnd) : new Uint8Array());
    const text = el.text;
    const hex = trimXml(text);
    if (!isHex(hex)) {
      this.fail('BMAP_PARSE', `<${name}> must be a hex digest, found '${hex.slice(0, 80)}'`, true);
    }
    if (this.hasher.active && raw !== text) {
      this.fail('BMAP_PARSE', `<${name}> must contain only the hex digest, as plain text`, true);
    }
    const lead = text.length - text.replace(/^[ \t\r\n]+/, '').length;
    this.hasher.setMask(el.contentStart + lead, el.contentStart + lead + hex.length);
    this.hasher.release();
    this.fileChecksumText = hex.toLowerCase();
  }

  private onRange_(text: string, attrs: Record<string, string>): void {
    const line = this.sax.line;
    const parsed = parseRangeText(text);
    if (typeof parsed === 'string') this.fail('BMAP_PARSE', parsed, true);
    const attrName = this.version!.mode === 'generic' ? 'chksum' : 'sha1';
    const sum = attrs[attrName];
    const range: BlockRange = { first: parsed.first, last: parsed.last };
    if (sum !== undefined) {
      const hex = trimXml(sum);
      if (!isHex(hex)) {
        this.fail('BMAP_PARSE', `range '${trimXml(text)}': ${attrName}="${hex.slice(0, 80)}" is not a hex digest`, true);
      }
      range.checksum = hex.toLowerCase();
      if (attrName === 'sha1') this.anyRangeSha1 = true;
    }
    this.rangeChecker.add(range, text, line, this.values.BlocksCount);
    const index = this.rangeChecker.count - 1;
    if (this.keepRanges) this.ranges.push(range);
    this.onRange?.(range, index);
  }

  private conclude(): ScanResult {
    if (!this.rootSeen || this.version === undefined) this.fail('BMAP_PARSE', 'no <bmap> root element; this is not a bmap file');
    const v = this.version;
    const missing: string[] = [];
    if (!this.checksumOnly) for (const f of [...VALUE_FIELDS, 'BlockMap']) if (!this.seen.has(f)) missing.push(f);
    if (v.mode === 'generic' && !this.seen.has('ChecksumType')) missing.push('ChecksumType');
    const sumName = this.checksumElementName();
    if (sumName !== undefined && !this.seen.has(sumName)) missing.push(sumName);
    if (missing.length > 0) {
      this.fail(
        'BMAP_PARSE',
        `format ${v.text} requires ${missing.map((m) => `<${m}>`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} missing; the file is incomplete or was edited`,
      );
    }
    const fileChecksum = this.checkFileChecksum();
    if (!this.checksumOnly) this.checkGeometry();
    const algorithm = v.mode === 'generic' ? this.algorithm : v.mode === 'sha1' || this.anyRangeSha1 ? 'sha1' : undefined;
    const bmap: Bmap = {
      version: v.text,
      imageSize: this.values.ImageSize ?? 0,
      blockSize: this.values.BlockSize ?? 0,
      blocksCount: this.values.BlocksCount ?? 0,
      mappedBlocksCount: this.values.MappedBlocksCount ?? 0,
      ranges: this.ranges,
    };
    if (algorithm !== undefined) bmap.checksumType = algorithm;
    if (this.fileChecksumText !== undefined) bmap.fileChecksum = this.fileChecksumText;
    return { bmap, fileChecksum };
  }

  private checkFileChecksum(): FileChecksumResult | null {
    const name = this.checksumElementName();
    if (name === undefined || this.fileChecksumText === undefined) return null;
    const algorithm = this.version!.mode === 'sha1' ? 'sha1' : this.algorithm!;
    const want = digestHexLength(algorithm);
    if (this.fileChecksumText.length !== want) {
      this.fail(
        'BMAP_PARSE',
        `<${name}> has ${this.fileChecksumText.length} hex digits, but a ${algorithm} digest has ${want}; the file is damaged or was edited`,
      );
    }
    if (!this.verify) return null;
    const actual = this.hasher.digest();
    const ok = actual === this.fileChecksumText;
    if (!ok && !this.checksumOnly) {
      throw new BmapkitError(
        'BMAP_CHECKSUM',
        `checksum mismatch for ${this.source}: calculated '${actual}', should be '${this.fileChecksumText}'; ` +
          'the bmap is damaged or was edited: get a fresh copy',
        { details: { source: this.source, algorithm, expected: this.fileChecksumText, actual } },
      );
    }
    return { algorithm, expected: this.fileChecksumText, actual, ok };
  }

  private checkGeometry(): void {
    const { ImageSize: imageSize, BlockSize: blockSize, BlocksCount: blocksCount, MappedBlocksCount: mapped } =
      this.values as Record<ValueField, number>;
    if (imageSize === 0) this.fail('BMAP_INVALID', '<ImageSize> is 0; a bmap describes a non-empty image');
    if (blockSize === 0) this.fail('BMAP_INVALID', '<BlockSize> is 0; it must be a positive number of bytes');
    if (blocksCount !== blocksFor(imageSize, blockSize)) {
      this.fail(
        'BMAP_INVALID',
        `inconsistent bmap - image size does not match blocks count (${imageSize} bytes != ${blocksCount} blocks * ${blockSize} bytes); the file is damaged or was edited`,
      );
    }
    this.rangeChecker.finish(blocksCount, mapped, (msg) => this.fail('BMAP_INVALID', msg));
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
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
