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
