import { alignedBuffer } from '@bmapkit/native';
import { readFully, type PositionedFile } from './positioned.js';

/**
 * Gathers contiguous bytes into one sector-aligned buffer for O_DIRECT
 * writes. When the bytes do not start or end on a sector boundary (a bmap
 * block smaller than the sector, or an image size that is not a multiple of
 * it), the edge sectors are first read from the device (`reader`, opened
 * O_DIRECT too) so that the bytes around the data keep their old content.
 */
export class DirectStage {
  private readonly buf: Uint8Array;
  private readonly edge: Uint8Array;
  /** Device offset of buf[0] (aligned); -1 when empty. */
  private base = -1;
  /** First data byte's offset. */
  private start = 0;
  /** Bytes from base to the end of the data. */
  private fill = 0;

  constructor(
    private readonly sector: number,
    readonly capacity: number,
    private readonly reader: PositionedFile | undefined,
  ) {
    this.buf = alignedBuffer(capacity, Math.max(sector, 4096));
    this.edge = alignedBuffer(sector, Math.max(sector, 4096));
  }

  get empty(): boolean {
    return this.base < 0;
  }

  /** Sealing pads the data with the device's own bytes (it does not start or end on a sector boundary). */
  get unaligned(): boolean {
    return this.base >= 0 && (this.start > this.base || this.fill % this.sector !== 0);
  }

  /** The device offset just after the staged data (where a contiguous chunk must start). */
  get end(): number {
    return this.base + this.fill;
  }

  /** Copies as much of `data` (for `offset`) as fits; returns the number of bytes taken (0: flush first). */
  place(offset: number, data: Uint8Array): number {
    if (this.base < 0) {
      this.base = offset - (offset % this.sector);
      this.start = offset;
      this.fill = offset - this.base;
    } else if (offset !== this.end) {
      return 0;
    }
    const n = Math.min(data.byteLength, this.capacity - this.fill);
    this.buf.set(n === data.byteLength ? data : data.subarray(0, n), this.fill);
    this.fill += n;
    return n;
  }

  /** The staged bytes, padded with the device's own bytes to whole sectors, and where they go. */
  async seal(): Promise<{ position: number; data: Uint8Array } | undefined> {
    if (this.base < 0) return undefined;
    const alignedEnd = Math.ceil(this.fill / this.sector) * this.sector;
    if (this.start > this.base) {
      await this.readEdge(this.base);
      this.buf.set(this.edge.subarray(0, this.start - this.base), 0);
    }
    if (alignedEnd > this.fill) {
      await this.readEdge(this.base + alignedEnd - this.sector);
      const from = this.fill - (alignedEnd - this.sector);
      this.buf.set(this.edge.subarray(from), this.fill);
    }
    const out = { position: this.base, data: this.buf.subarray(0, alignedEnd) };
    this.base = -1;
    this.fill = 0;
    return out;
  }

  private async readEdge(position: number): Promise<void> {
    if (this.reader === undefined) {
      throw Object.assign(new Error(`unaligned direct write at byte ${position} needs a read descriptor for the edge sectors`), { code: 'EINVAL' });
    }
    await readFully(this.reader, this.edge, position);
  }
}
