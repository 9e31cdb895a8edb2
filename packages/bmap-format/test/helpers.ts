import { readFileSync } from 'node:fs';
import { testVectors } from '../../../tools/test-needs.js';
import { createHash } from 'node:crypto';

/** The bmaptool and blockmap vectors: the reference ones in ../shared when present, else the project's stand-ins (tools/own-vectors.js). */
const bmaptoolVectors = testVectors('bmaptool');
export const BMAPTOOL_VECTORS = bmaptoolVectors.dir;
export const BLOCKMAP_VECTORS = testVectors('blockmap').dir;
/** Whether BMAPTOOL_VECTORS are bmaptool's own files (their file checksums are known values). */
export const REFERENCE_VECTORS = bmaptoolVectors.reference;

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
