import type { DecoderKind } from '@bmapkit/native';
import { startsWith, type Codec, type DecoderPair } from '../codec.js';
import { externalDecoder, type ExternalDecoderSpec } from '../external.js';
import { inProcessFile, inProcessOr } from '../native-decoder.js';
import { napiXzDecoder, nodeZstdDecoder } from '../library-decoders.js';

// Formats decoded by their own programs, which are faster here than any npm
// decoder (toolchain.md: xz -dc 366 MB/s vs 190 in process, zstd -dc 1100 vs
// fzstd 500, lz4 -dc 640 vs 160, bzip2 in parallel vs 7-17 in pure JS, and no
// npm package reads lzop files at all). Each handles concatenated streams.
//
// xz and zstd first try the system's liblzma/libzstd in process (through the
// native addon): reading a program's output through a pipe costs more than
// decoding (zstd -dc of the 4 GiB bench image: 0.75 s to /dev/null, 3.2 s
// into a pipe), and in process the pieces that decode to zeros are never
// copied. The program is the fallback when the library or addon is missing.

/**
 * The native decoder when the addon and library are there (xz on every
 * core), else an in-process library where there is one, else the program.
 */
function inProcessOrProgram(kind: DecoderKind, program: ExternalDecoderSpec, source: string, library?: (source: string) => DecoderPair | undefined): DecoderPair {
  return inProcessOr(kind, program.format, source, () => library?.(source) ?? externalDecoder(program, source));
}

export const bzip2: Codec = {
  name: 'bzip2',
  extensions: ['.bz2'],
  tarExtensions: ['.tbz', '.tbz2', '.tb2'],
  sniffBytes: 4,
  // "BZh" and a block size digit 1-9
  sniff: (head) => startsWith(head, [0x42, 0x5a, 0x68]) && head.length > 3 && head[3]! >= 0x31 && head[3]! <= 0x39,
  decoder: ({ source }) =>
    externalDecoder(
      {
        format: 'bzip2',
        programs: [
          { program: 'lbzip2', args: ['-dc'] },
          { program: 'pbzip2', args: ['-dc'] },
          { program: 'bzip2', args: ['-dc'] },
        ],
        truncated: /ends unexpectedly|before BZ_STREAM_END|unexpected end/i,
        aptPackage: 'pbzip2',
      },
      source,
    ),
};

export const xz: Codec = {
  name: 'xz',
  extensions: ['.xz'],
  tarExtensions: ['.txz'],
  sniffBytes: 6,
  sniff: (head) => startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  decoder: ({ source }) =>
    inProcessOrProgram(
      'xz',
      { format: 'xz', programs: [{ program: 'xz', args: ['-dc', '-T0'] }], truncated: /Unexpected end of input/i, aptPackage: 'xz-utils' },
      source,
      napiXzDecoder,
    ),
  fileDecoder: ({ source, path }) => inProcessFile('xz', 'xz', source, path),
};

export const zstd: Codec = {
  name: 'zstd',
  extensions: ['.zst'],
  tarExtensions: ['.tzst'],
  sniffBytes: 4,
  // a frame, or a skippable frame (0x184D2A50-5F) as pzstd writes first
  sniff: (head) => startsWith(head, [0x28, 0xb5, 0x2f, 0xfd]) || (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && startsWith(head, [0x2a, 0x4d, 0x18], 1)),
  decoder: ({ source }) =>
    inProcessOrProgram(
      'zstd',
      { format: 'zstd', programs: [{ program: 'zstd', args: ['-dcq', '--long=31'] }], truncated: /premature end|truncated/i, aptPackage: 'zstd' },
      source,
      nodeZstdDecoder,
    ),
  fileDecoder: ({ source, path }) => inProcessFile('zstd', 'zstd', source, path),
};

export const lz4: Codec = {
  name: 'lz4',
  extensions: ['.lz4'],
  tarExtensions: ['.tlz4'],
  sniffBytes: 4,
  sniff: (head) => startsWith(head, [0x04, 0x22, 0x4d, 0x18]) || startsWith(head, [0x02, 0x21, 0x4c, 0x18]),
  decoder: ({ source }) =>
    externalDecoder({ format: 'lz4', programs: [{ program: 'lz4', args: ['-dcq'] }], truncated: /Unfinished stream/i, aptPackage: 'lz4' }, source),
};

export const lzop: Codec = {
  name: 'lzop',
  extensions: ['.lzo'],
  tarExtensions: ['.tzo'],
  sniffBytes: 9,
  sniff: (head) => startsWith(head, [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]),
  decoder: ({ source }) =>
    externalDecoder(
      // lzop reports a cut-off stream as "Inappropriate ioctl for device" when reading a pipe
      { format: 'lzop', programs: [{ program: 'lzop', args: ['-dc'] }], truncated: /unexpected end of file|Inappropriate ioctl/i, aptPackage: 'lzop' },
      source,
    ),
};
