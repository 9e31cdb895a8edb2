// Hot path: a million-range bmap calls these a few million times, so they scan
// char codes instead of using regular expressions.

const isXmlSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Trims XML whitespace (space, tab, CR, LF) only. */
export function trimXml(text: string): string {
  let a = 0;
  let b = text.length;
  while (a < b && isXmlSpace(text.charCodeAt(a))) a++;
  while (b > a && isXmlSpace(text.charCodeAt(b - 1))) b--;
  return a === 0 && b === text.length ? text : text.slice(a, b);
}

/**
 * Strict decimal parsing for bmap values: ASCII digits only (leading zeros
 * allowed), surrounding XML whitespace ignored, up to Number.MAX_SAFE_INTEGER.
 * Returns undefined for anything else (signs, "_", non-ASCII digits, "").
 */
export function parseDecimal(text: string, from = 0, to = text.length): number | undefined {
  while (from < to && isXmlSpace(text.charCodeAt(from))) from++;
  while (to > from && isXmlSpace(text.charCodeAt(to - 1))) to--;
  if (from === to) return undefined;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
    if (n > Number.MAX_SAFE_INTEGER) return undefined;
  }
  return n;
}

/** True if the string is non-empty and all hex digits. */
export function isHex(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) | 0x20; // fold A-F onto a-f
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}
