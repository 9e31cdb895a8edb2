/**
 * Python's "%.1f" for a non-negative double: the exact binary value rounded
 * to one decimal, exact ties to the even digit (bmap-format.md §8.3).
 * toFixed(1) is exact too but sends ties upward; ties are exactly the values
 * x with 4x an odd integer (1.25, 6.25, 18.75, ...).
 */
export function formatFixed1(x: number): string {
  const q = x * 4;
  if (Number.isInteger(q) && q % 2 !== 0 && Number.isSafeInteger(q)) {
    const tenths = x * 10; // exact: x = odd/4, so 10x = 2.5 * odd
    let n = Math.floor(tenths);
    if (n % 2 !== 0) n += 1;
    return `${Math.floor(n / 10)}.${n % 10}`;
  }
  return x.toFixed(1);
}

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/**
 * bmaptool's human_size: "1 byte", "N bytes" below 512, else one decimal in
 * the first binary unit where the unrounded value is below 1024. Unlike the
 * reference, 1 PiB and more are labelled correctly (PiB, EiB, ...).
 */
export function humanSize(bytes: number): string {
  if (bytes === 1) return '1 byte';
  if (bytes < 512) return `${Math.trunc(bytes)} bytes`;
  let size = bytes;
  for (let i = 0; i < UNITS.length; i++) {
    size /= 1024;
    if (size < 1024 || i === UNITS.length - 1) return `${formatFixed1(size)} ${UNITS[i]}`;
  }
  /* c8 ignore next */
  throw new Error('unreachable');
}

/** Mapped percentage as bmaptool prints it: mapped*100/blocks in doubles, one decimal. */
export function mappedPercent(mappedBlocks: number, blocksCount: number): string {
  return formatFixed1(blocksCount === 0 ? 0 : (mappedBlocks * 100) / blocksCount);
}

/**
 * bmaptool's human_time: whole hours and minutes split off first, then the
 * seconds with one decimal (59.99 -> "60.0s", 3725.2 -> "1h 2m 5.2s").
 */
export function humanTime(seconds: number): string {
  // divmod(seconds, 60), then divmod(minutes, 60), as the reference does
  const s = seconds % 60;
  const minutes = Math.round((seconds - s) / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h > 0 ? `${h}h ` : ''}${m > 0 ? `${m}m ` : ''}${formatFixed1(s)}s`;
}
