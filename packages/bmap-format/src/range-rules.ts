import type { BlockRange } from './types.js';
import { parseDecimal, trimXml } from './numbers.js';

/**
 * Parses the text of a <Range>: "N" or "FIRST-LAST", split at the first '-',
 * each side trimmed (bmap-format.md §4). Returns an error message on failure.
 */
export function parseRangeText(text: string): { first: number; last: number } | string {
  const t = trimXml(text);
  const shown = `'${t.slice(0, 60)}'`;
  if (t === '') return `empty <Range>; expected 'N' or 'FIRST-LAST'`;
  const dash = t.indexOf('-');
  if (dash === -1) {
    const n = parseDecimal(t);
    return n === undefined ? `bad range ${shown}: not a block number` : { first: n, last: n };
  }
  const first = parseDecimal(t.slice(0, dash));
  const last = parseDecimal(t.slice(dash + 1));
  if (first === undefined || last === undefined) {
    return `bad range ${shown}: expected 'N' or 'FIRST-LAST' with decimal block numbers`;
  }
  if (first > last) return `bad range (first > last): ${shown}`;
  return { first, last };
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
  private prev: { last: number; label: string } | undefined;
  private digestLength: number | undefined;
  private readonly lengthsToCheck = new Map<number, string>();

  constructor(private readonly fail: Fail) {}

  setDigestLength(n: number): void {
    this.digestLength = n;
    for (const [len, label] of this.lengthsToCheck) this.checkLength(len, label);
    this.lengthsToCheck.clear();
  }

  add(range: BlockRange, label: string, line: number, blocksCount: number | undefined): void {
    const where = `range '${label}' (line ${line})`;
    if (this.prev !== undefined && range.first <= this.prev.last) {
      this.fail(`${where} overlaps or comes before range '${this.prev.label}'; ranges must be ascending and must not overlap`);
    }
    if (blocksCount !== undefined) this.checkBound(range.last, where, blocksCount);
    if (range.checksum !== undefined) {
      if (this.digestLength !== undefined) this.checkLength(range.checksum.length, where);
      else if (!this.lengthsToCheck.has(range.checksum.length)) this.lengthsToCheck.set(range.checksum.length, where);
    }
    this.mappedSum += range.last - range.first + 1;
    this.count += 1;
    this.prev = { last: range.last, label };
  }

  finish(blocksCount: number, mappedBlocksCount: number, fail: Fail): void {
    if (this.prev !== undefined) this.checkBound(this.prev.last, `range '${this.prev.label}'`, blocksCount, fail);
    if (this.mappedSum !== mappedBlocksCount) {
      fail(
        `<MappedBlocksCount> is ${mappedBlocksCount}, but the ranges add up to ${this.mappedSum} blocks; the file is damaged or does not belong to this image`,
      );
    }
  }

  private checkBound(last: number, where: string, blocksCount: number, fail: Fail = this.fail): void {
    if (last > blocksCount - 1) {
      fail(`${where} ends at block ${last}, past the image's last block ${blocksCount - 1} (BlocksCount ${blocksCount})`);
    }
  }

  private checkLength(len: number, where: string): void {
    if (len !== this.digestLength) {
      this.fail(`${where} has a ${len}-digit checksum, but the checksum type's digests have ${this.digestLength} digits`);
    }
  }
}
