import type { BlockRange } from '@bmapkit/bmap-format';

/** Collects inclusive block ranges in ascending order, merging touching ones. */
export class RangeCollector {
  readonly ranges: BlockRange[] = [];
  blocks = 0;

  add(first: number, last: number): void {
    if (last < first) return;
    const prev = this.ranges[this.ranges.length - 1];
    if (prev !== undefined && first <= prev.last + 1) {
      if (last > prev.last) {
        this.blocks += last - prev.last;
        prev.last = last;
      }
      return;
    }
    this.ranges.push({ first, last });
    this.blocks += last - first + 1;
  }
}

/** The gaps between ascending ranges inside blocks [first, first + count): the holes. */
export function unmappedRanges(ranges: Iterable<BlockRange>, blocksCount: number, first = 0): BlockRange[] {
  const out: BlockRange[] = [];
  let next = first;
  const end = first + blocksCount;
  for (const r of ranges) {
    if (r.last < next) continue;
    if (r.first >= end) break;
    if (r.first > next) out.push({ first: next, last: r.first - 1 });
    next = r.last + 1;
  }
  if (next < end) out.push({ first: next, last: end - 1 });
  return out;
}
