/** Bytes arriving in chunks, taken out in exact amounts (archive parsers need headers whole). */
export class ByteQueue {
  private parts: Uint8Array[] = [];
  length = 0;

  push(b: Uint8Array): void {
    if (b.byteLength === 0) return;
    this.parts.push(b);
    this.length += b.byteLength;
  }

  /** Removes and returns exactly n bytes (n <= length); a view when they lie in one part. */
  take(n: number): Uint8Array {
    const first = this.parts[0];
    if (first !== undefined && first.byteLength >= n) {
      const out = first.subarray(0, n);
      if (first.byteLength === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const p = this.parts[0]!;
      const k = Math.min(p.byteLength, n - o);
      out.set(p.subarray(0, k), o);
      o += k;
      if (k === p.byteLength) this.parts.shift();
      else this.parts[0] = p.subarray(k);
    }
    this.length -= n;
    return out;
  }

  /** Removes up to n bytes, as views, without copying. */
  takeUpTo(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    while (n > 0 && this.parts.length > 0) {
      const p = this.parts[0]!;
      const k = Math.min(p.byteLength, n);
      out.push(p.subarray(0, k));
      if (k === p.byteLength) this.parts.shift();
      else this.parts[0] = p.subarray(k);
      this.length -= k;
      n -= k;
    }
    return out;
  }

  /** The first n bytes without removing them (n <= length). */
  peek(n: number): Uint8Array {
    const out = this.take(n);
    this.parts.unshift(out);
    this.length += n;
    return out;
  }
}
