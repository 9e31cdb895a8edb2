import { load } from './index.js';

/**
 * True when the addon can hash file ranges itself with this node:crypto
 * algorithm name (through the OpenSSL inside Node).
 */
export function canDigestFiles(algorithm: string): boolean {
  const addon = load();
  return addon !== undefined && addon.digestAvailable(algorithm);
}

/**
 * Hashes bytes [start, end) of an open file on a libuv pool thread and
 * resolves with the hex digest. A regular file is hashed straight from the
 * page cache through read-only mappings (it must not shrink meanwhile);
 * anything else is read. `done`, if given, counts the bytes hashed as it
 * goes (Atomics.load it for progress). A file that ends early rejects with
 * code 'ESHORT' and `offset` where it ended.
 */
export function digestFileRange(fd: number, start: number, end: number, algorithm: string, done?: BigInt64Array): Promise<string> {
  const addon = load();
  if (addon === undefined) return Promise.reject(new Error('the native addon is not available'));
  return new Promise((resolve, reject) => {
    addon.digestRange(fd, start, end, algorithm, done ?? null, (error, hex) => (error !== null ? reject(error) : resolve(hex!)));
  });
}
