import { createHash, getHashes } from 'node:crypto';
import { BmapkitError } from './errors.js';

/** Python hashlib spellings (as ChecksumType may carry them) -> node:crypto names. */
const PYTHON_NAMES: Record<string, string> = {
  blake2b: 'blake2b512',
  blake2s: 'blake2s256',
  sha3_224: 'sha3-224',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
  sha512_224: 'sha512-224',
  sha512_256: 'sha512-256',
};

const hexLengths = new Map<string, number>();

/**
 * Maps a ChecksumType as found in a bmap ("sha256", "SHA256", "sha3_256",
 * "blake2b") to the node:crypto name, or undefined if node cannot compute it.
 */
export function nodeHashName(checksumType: string): string | undefined {
  const lower = checksumType.trim().toLowerCase();
  const name = PYTHON_NAMES[lower] ?? lower;
  if (!/^[a-z0-9-]+$/.test(name) || !getHashes().includes(name)) return undefined;
  if (name.startsWith('shake')) return undefined; // variable-length digests have no fixed hex form
  return name;
}

/** Like nodeHashName, but throws UNSUPPORTED_CHECKSUM naming the algorithm and the file. */
export function requireHashName(checksumType: string, source = 'bmap file'): string {
  const name = nodeHashName(checksumType);
  if (name === undefined) {
    throw new BmapkitError(
      'UNSUPPORTED_CHECKSUM',
      `${source}: checksum type '${checksumType.trim()}' is not supported; ` +
        `use a bmap with ChecksumType sha256 (or sha1, sha224, sha384, sha512, md5, sha3-*, blake2*)`,
      { details: { checksumType } },
    );
  }
  return name;
}

/** Number of hex digits in a digest of this (node) algorithm. */
export function digestHexLength(nodeName: string): number {
  let n = hexLengths.get(nodeName);
  if (n === undefined) {
    n = createHash(nodeName).digest().length * 2;
    hexLengths.set(nodeName, n);
  }
  return n;
}
