import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

/** The project's shared folder (../shared beside the checkout), read-only test vectors. */
export const SHARED = fileURLToPath(new URL('../../../../shared/', import.meta.url));
export const BMAPTOOL_VECTORS = `${SHARED}testdata/bmaptool/`;
export const BLOCKMAP_VECTORS = `${SHARED}testdata/blockmap/`;

export function vector(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${BMAPTOOL_VECTORS}${name}`));
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Re-seals an edited 2.0 document: recomputes its BmapFileChecksum (sha256) by the §6.4 procedure. */
export function reseal(xml: string): string {
  const m = /<BmapFileChecksum>\s*([0-9a-fA-F]+)\s*<\/BmapFileChecksum>/.exec(xml);
  if (!m) return xml;
  const at = m.index + m[0].indexOf(m[1]!);
  const zeroed = xml.slice(0, at) + '0'.repeat(m[1]!.length) + xml.slice(at + m[1]!.length);
  return zeroed.slice(0, at) + sha256(zeroed) + zeroed.slice(at + m[1]!.length);
}
