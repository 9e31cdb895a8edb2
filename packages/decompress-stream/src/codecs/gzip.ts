import { createGunzip, constants } from 'node:zlib';
import { startsWith, type Codec } from '../codec.js';
import { decompressError, truncatedError } from '../errors.js';
import { duplexPair } from '../node-stream-pair.js';
import { inProcessFile, inProcessOr } from '../native-decoder.js';

/**
 * gzip, in process, including multi-member files (pigz, concatenated
 * gzip): zlib's inflate (the one inside Node) on the addon's decoding
 * thread, like xz and zstd, so runs of zeros are never copied and a local
 * file is read by that thread; node:zlib (750-1400 MB/s here, as fast as
 * pigz -dc) without the addon or with BMAPKIT_NO_NATIVE_DECODERS=1.
 */
export const gzip: Codec = {
  name: 'gzip',
  extensions: ['.gz', '.gzip'],
  tarExtensions: ['.tgz'],
  sniffBytes: 2,
  sniff: (head) => startsWith(head, [0x1f, 0x8b]),
  decoder: ({ source }) =>
    inProcessOr('gzip', 'gzip', source, () =>
      duplexPair(createGunzip({ chunkSize: 256 << 10 }), (e) => {
        const err = e as NodeJS.ErrnoException & { errno?: number };
        if (err.code === 'Z_BUF_ERROR' || err.errno === constants.Z_BUF_ERROR) return truncatedError('gzip', source, e);
        return decompressError('gzip', source, err.message, e);
      }),
    ),
  fileDecoder: ({ source, path }) => inProcessFile('gzip', 'gzip', source, path),
};
