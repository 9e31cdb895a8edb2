import type { BlockRange } from './types.js';
import { parseDecimal, trimXml } from './numbers.js';

/**
 * Parses the text of a <Range>: "N" or "FIRST-LAST", split at the first '-',
 * each side trimmed (bmap-format.md §4). Returns an error message on failure.
 */
export function parseRangeText(text: string): { first: number; last: number } | string {
  const dash = text.indexOf('-');
  if (dash === -1) {
    const n = parseDecimal(text);
    if (n !== undefined) return { first: n, last: n };
  } else {
    const first = parseDecimal(text, 0, dash);
    const last = parseDecimal(text, dash + 1);
    if (first !== undefined && last !== undefined) {
      return first <= last ? { first, last } : `bad range (first > last): '${trimXml(text)}'`;
    }
  }
  const t = trimXml(text);
  if (t === '') return `empty <Range>; expected 'N' or 'FIRST-LAST'`;
  return dash === -1
    ? `bad range '${t.slice(0, 60)}': not a block number`
    : `bad range '${t.slice(0, 60)}': expected 'N' or 'FIRST-LAST' with decimal block numbers`;
}

type Fail = (message: string) => never;

/**
 * The rules that tie ranges together (bmap-format.md §5): ascending,
 * non-overlapping, inside BlocksCount, digests of the right length, and
 * adding up to MappedBlocksCount. Works one range at a time so that a
 * million-range bmap is checked without keeping the ranges.
 */
export class RangeChecker {
  count = 0;
  mappedSum = 0;
  private prevLast = -1;
  private prevLabel = '';
  private digestLength: number | undefined;
  private readonly lengthsToCheck = new Map<number, string>();

  constructor(private readonly fail: Fail) {}

  setDigestLength(n: number): void {
    this.digestLength = n;
    for (const [len, where] of this.lengthsToCheck) this.checkLength(len, where);
    this.lengthsToCheck.clear();
  }

  /** `label` is the range's text as written (for messages); `line` where it was found. */
  add(range: BlockRange, label: string, line: number, blocksCount: number | undefined): void {
    const where = (): string => `range '${trimXml(label)}' (line ${line})`;
    if (range.first <= this.prevLast) {
      this.fail(`${where()} overlaps or comes before range '${trimXml(this.prevLabel)}'; ranges must be ascending and must not overlap`);
    }
    if (blocksCount !== undefined && range.last > blocksCount - 1) this.outOfBounds(range.last, where(), blocksCount, this.fail);
    if (range.checksum !== undefined && range.checksum.length !== this.digestLength) {
      if (this.digestLength !== undefined) this.checkLength(range.checksum.length, where());
      else if (!this.lengthsToCheck.has(range.checksum.length)) this.lengthsToCheck.set(range.checksum.length, where());
    }
    this.mappedSum += range.last - range.first + 1;
    this.count += 1;
    this.prevLast = range.last;
    this.prevLabel = label;
  }

  finish(blocksCount: number, mappedBlocksCount: number, fail: Fail): void {
    if (this.count > 0 && this.prevLast > blocksCount - 1) this.outOfBounds(this.prevLast, `range '${trimXml(this.prevLabel)}'`, blocksCount, fail);
    if (this.mappedSum !== mappedBlocksCount) {
      fail(
        `<MappedBlocksCount> is ${mappedBlocksCount}, but the ranges add up to ${this.mappedSum} blocks; the file is damaged or does not belong to this image`,
      );
    }
  }

  private outOfBounds(last: number, where: string, blocksCount: number, fail: Fail): never {
    return fail(`${where} ends at block ${last}, past the image's last block ${blocksCount - 1} (BlocksCount ${blocksCount})`);
  }

  private checkLength(len: number, where: string): void {
    if (len !== this.digestLength) {
      this.fail(`${where} has a ${len}-digit checksum, but the checksum type's digests have ${this.digestLength} digits`);
    }
  }
}
