/**
 * Strict decimal parsing for bmap values: ASCII digits only (leading zeros
 * allowed), after trimming XML whitespace, up to Number.MAX_SAFE_INTEGER.
 * Returns undefined for anything else (signs, "_", non-ASCII digits, "").
 */
export function parseDecimal(text: string): number | undefined {
  const t = trimXml(text);
  if (!/^[0-9]+$/.test(t)) return undefined;
  const digits = t.replace(/^0+(?=.)/, '');
  if (digits.length > 16) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Trims XML whitespace (space, tab, CR, LF) only. */
export function trimXml(text: string): string {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
}
