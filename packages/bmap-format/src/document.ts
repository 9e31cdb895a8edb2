import type { SaxesTagPlain } from 'saxes';
import { BmapkitError, type BmapkitErrorCode } from './errors.js';
import type { BlockRange, Bmap } from './types.js';
import { blocksFor } from './types.js';
import type { MaskedHasher } from './masked-hasher.js';
import { classifyVersion, type FormatVersion } from './version.js';
import { digestHexLength, requireHashName } from './checksum-types.js';
import { isHex, parseDecimal, trimXml } from './numbers.js';
import { parseRangeText, RangeChecker } from './range-rules.js';
import { RangeTable } from './range-table.js';
import type { FileChecksumResult, ParseOptions, ScanResult } from './scanner.js';
import { latin1, utf8FromLatin1 } from './latin1.js';

/** What the document builder needs from the byte-level scanner that drives it. */
export interface DocumentContext {
  /** "bmap file 'x.bmap'", the prefix of every message. */
  source: string;
  verify: boolean;
  /** Only find and check the file checksum; ignore ranges and values. */
  checksumOnly: boolean;
  keepRanges: boolean;
  onRange: ParseOptions['onRange'];
  hasher: MaskedHasher;
  /** Absolute byte offset of the parser's position in the document. */
  here(): number;
  line(): number;
  fail(code: BmapkitErrorCode, message: string, withLine?: boolean): never;
}

const VALUE_FIELDS = ['ImageSize', 'BlockSize', 'BlocksCount', 'MappedBlocksCount'] as const;
type ValueField = (typeof VALUE_FIELDS)[number];

/**
 * The meaning of a bmap document: which elements count in which version,
 * their values, the ranges and every rule that ties them together
 * (bmap-format.md §3-§6, §10). It is driven by BmapScanner's XML events and
 * tells the scanner's hasher where the file checksum's digest lies.
 */
export class BmapDocument {
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
  private readonly ranges = new RangeTable();
  private readonly rangeChecker: RangeChecker;
  private anyRangeSha1 = false;

  constructor(private readonly ctx: DocumentContext) {
    this.rangeChecker = new RangeChecker((msg) => ctx.fail('BMAP_INVALID', msg, true));
  }

  private checksumElementName(): string | undefined {
    if (this.version?.mode === 'generic') return 'BmapFileChecksum';
    if (this.version?.mode === 'sha1') return 'BmapFileSHA1';
    return undefined;
  }

  onText(t: string): void {
    const c = this.collecting;
    if (c === undefined || c.depth !== this.depth) return;
    c.text += t;
    if (c.name === this.checksumElementName() && this.checksumElement !== undefined) {
      this.checksumElement.contentEnd = this.ctx.here() - 1; // the text ends at the '<' just read
      this.checksumElement.text += t;
    }
  }

  onOpen(tag: SaxesTagPlain): void {
    this.depth += 1;
    const name = tag.name;
    if (this.depth === 1) return this.onRoot(tag);
    if (this.collecting !== undefined && this.collecting.name === this.checksumElementName()) {
      this.ctx.fail('BMAP_PARSE', `<${this.collecting.name}> must contain only the hex digest, as plain text`, true);
    }
    if (this.depth === 2) {
      const known = this.isField(name);
      if (!known) return;
      if (this.seen.has(name)) this.ctx.fail('BMAP_PARSE', `<${name}> appears more than once`, true);
      this.seen.add(name);
      if (name === 'BlockMap') {
        this.inBlockMap = true;
        return;
      }
      this.collecting = { name, depth: 2, text: '', attrs: {}, line: this.ctx.line() };
      if (name === this.checksumElementName()) {
        const at = this.ctx.here();
        this.checksumElement = { contentStart: at, contentEnd: at, text: '' };
        this.ctx.hasher.hold(at);
      }
      return;
    }
    if (this.depth === 3 && this.inBlockMap && name === 'Range' && !this.ctx.checksumOnly) {
      this.collecting = { name, depth: 3, text: '', attrs: tag.attributes, line: this.ctx.line() };
    }
  }

  private onRoot(tag: SaxesTagPlain): void {
    if (tag.name !== 'bmap') {
      this.ctx.fail('BMAP_PARSE', `the root element is <${tag.name}>, not <bmap>; this is not a bmap file`, true);
    }
    this.rootSeen = true;
    const version = tag.attributes['version'];
    this.version = classifyVersion(version === undefined ? undefined : utf8FromLatin1(version), this.ctx.source);
    if (!this.ctx.verify || this.version.mode === 'legacy') this.ctx.hasher.disable();
    else if (this.version.mode === 'sha1') this.ctx.hasher.start('sha1');
    if (this.version.mode !== 'generic') this.rangeChecker.setDigestLength(digestHexLength('sha1'));
  }

  private isField(name: string): boolean {
    if (name === 'BlockMap' || (VALUE_FIELDS as readonly string[]).includes(name)) return !this.ctx.checksumOnly;
    if (name === 'ChecksumType') return this.version!.mode === 'generic';
    return name === this.checksumElementName();
  }

  onClose(tag: SaxesTagPlain): void {
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
        return this.onRangeElement(c.text, c.attrs);
      case 'ChecksumType':
        this.algorithm = requireHashName(utf8FromLatin1(c.text), this.ctx.source);
        if (this.ctx.verify) this.ctx.hasher.start(this.algorithm);
        this.rangeChecker.setDigestLength(digestHexLength(this.algorithm));
        return;
      case 'BmapFileChecksum':
      case 'BmapFileSHA1':
        return this.onChecksumElement(c.name);
      default: {
        const n = parseDecimal(c.text);
        if (n === undefined) {
          this.ctx.fail('BMAP_PARSE', `<${c.name}> must be a decimal number, found '${trimXml(c.text).slice(0, 40)}'`, true);
        }
        this.values[c.name as ValueField] = n;
      }
    }
  }

  private onChecksumElement(name: string): void {
    const el = this.checksumElement!;
    const raw = latin1(this.ctx.hasher.active ? this.ctx.hasher.slice(el.contentStart, el.contentEnd) : new Uint8Array());
    const text = el.text;
    const hex = trimXml(text);
    if (!isHex(hex)) {
      this.ctx.fail('BMAP_PARSE', `<${name}> must be a hex digest, found '${hex.slice(0, 80)}'`, true);
    }
    if (this.ctx.hasher.active && raw !== text) {
      this.ctx.fail('BMAP_PARSE', `<${name}> must contain only the hex digest, as plain text`, true);
    }
    const lead = text.length - text.replace(/^[ \t\r\n]+/, '').length;
    this.ctx.hasher.setMask(el.contentStart + lead, el.contentStart + lead + hex.length);
    this.ctx.hasher.release();
    this.fileChecksumText = hex.toLowerCase();
  }

  private onRangeElement(text: string, attrs: Record<string, string>): void {
    const line = this.ctx.line();
    const parsed = parseRangeText(text);
    if (typeof parsed === 'string') this.ctx.fail('BMAP_PARSE', parsed, true);
    const attrName = this.version!.mode === 'generic' ? 'chksum' : 'sha1';
    const sum = attrs[attrName];
    const range: BlockRange = { first: parsed.first, last: parsed.last };
    if (sum !== undefined) {
      const hex = trimXml(sum);
      if (!isHex(hex)) {
        this.ctx.fail('BMAP_PARSE', `range '${trimXml(text)}': ${attrName}="${hex.slice(0, 80)}" is not a hex digest`, true);
      }
      range.checksum = hex.toLowerCase();
      if (attrName === 'sha1') this.anyRangeSha1 = true;
    }
    this.rangeChecker.add(range, text, line, this.values.BlocksCount);
    const index = this.rangeChecker.count - 1;
    if (this.ctx.keepRanges) this.ranges.push(range);
    this.ctx.onRange?.(range, index);
  }

  conclude(): ScanResult {
    if (!this.rootSeen || this.version === undefined) this.ctx.fail('BMAP_PARSE', 'no <bmap> root element; this is not a bmap file');
    const v = this.version;
    const missing: string[] = [];
    if (!this.ctx.checksumOnly) for (const f of [...VALUE_FIELDS, 'BlockMap']) if (!this.seen.has(f)) missing.push(f);
    if (v.mode === 'generic' && !this.seen.has('ChecksumType')) missing.push('ChecksumType');
    const sumName = this.checksumElementName();
    if (sumName !== undefined && !this.seen.has(sumName)) missing.push(sumName);
    if (missing.length > 0) {
      this.ctx.fail(
        'BMAP_PARSE',
        `format ${v.text} requires ${missing.map((m) => `<${m}>`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} missing; the file is incomplete or was edited`,
      );
    }
    const fileChecksum = this.checkFileChecksum();
    if (!this.ctx.checksumOnly) this.checkGeometry();
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
      this.ctx.fail(
        'BMAP_PARSE',
        `<${name}> has ${this.fileChecksumText.length} hex digits, but a ${algorithm} digest has ${want}; the file is damaged or was edited`,
      );
    }
    if (!this.ctx.verify) return null;
    const actual = this.ctx.hasher.digest();
    const ok = actual === this.fileChecksumText;
    if (!ok && !this.ctx.checksumOnly) {
      throw new BmapkitError(
        'BMAP_CHECKSUM',
        `checksum mismatch for ${this.ctx.source}: calculated '${actual}', should be '${this.fileChecksumText}'; ` +
          'the bmap is damaged or was edited: get a fresh copy',
        { details: { source: this.ctx.source, algorithm, expected: this.fileChecksumText, actual } },
      );
    }
    return { algorithm, expected: this.fileChecksumText, actual, ok };
  }

  private checkGeometry(): void {
    const { ImageSize: imageSize, BlockSize: blockSize, BlocksCount: blocksCount, MappedBlocksCount: mapped } =
      this.values as Record<ValueField, number>;
    if (imageSize === 0) this.ctx.fail('BMAP_INVALID', '<ImageSize> is 0; a bmap describes a non-empty image');
    if (blockSize === 0) this.ctx.fail('BMAP_INVALID', '<BlockSize> is 0; it must be a positive number of bytes');
    if (blocksCount !== blocksFor(imageSize, blockSize)) {
      this.ctx.fail(
        'BMAP_INVALID',
        `inconsistent bmap - image size does not match blocks count (${imageSize} bytes != ${blocksCount} blocks * ${blockSize} bytes); the file is damaged or was edited`,
      );
    }
    this.rangeChecker.finish(blocksCount, mapped, (msg) => this.ctx.fail('BMAP_INVALID', msg));
  }
}
