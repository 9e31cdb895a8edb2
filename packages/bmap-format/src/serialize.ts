import { createHash } from 'node:crypto';
import type { Bmap, BlockRange } from './types.js';
import { digestHexLength } from './checksum-types.js';
import { HEADER_COMMENT } from './header-comment.js';
import { humanSize, mappedPercent } from './human.js';
import { validateBmap } from './validate.js';

export interface SerializeOptions {
  /**
   * true (default): bmaptool 3.9's layout byte for byte, comments included
   * (bmap-format.md §8). false: the same elements and order without any
   * comment or blank line.
   */
  comments?: boolean;
}

/** node:crypto names -> the hashlib spelling the Python tools understand. */
const PYTHON_SPELLING: Record<string, string> = {
  blake2b512: 'blake2b',
  blake2s256: 'blake2s',
  'sha3-224': 'sha3_224',
  'sha3-256': 'sha3_256',
  'sha3-384': 'sha3_384',
  'sha3-512': 'sha3_512',
  'sha512-224': 'sha512_224',
  'sha512-256': 'sha512_256',
};

const RANGES_PER_PIECE = 4096;

/**
 * Writes a bmap in format 2.0 as one string. The Bmap is validated first
 * (BMAP_INVALID on any inconsistency); the version field of the input is
 * ignored, since bmapkit writes 2.0 only.
 */
export function serializeBmap(bmap: Bmap, options: SerializeOptions = {}): string {
  const { algorithm, digest } = prepare(bmap, options);
  return [...pieces(bmap, algorithm, digest, options)].join('');
}

/**
 * The same bytes as serializeBmap, as a stream whose memory does not grow
 * with the number of ranges: the text is generated twice, once to compute
 * the file checksum (which precedes the BlockMap) and once to emit it.
 */
export function serializeBmapStream(bmap: Bmap, options: SerializeOptions = {}): ReadableStream<Uint8Array> {
  const { algorithm, digest } = prepare(bmap, options);
  const it = pieces(bmap, algorithm, digest, options);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = it.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
    },
    { highWaterMark: 2 },
  );
}

function prepare(bmap: Bmap, options: SerializeOptions): { algorithm: string; digest: string } {
  const algorithm = validateBmap(bmap);
  const zeros = '0'.repeat(digestHexLength(algorithm));
  const hash = createHash(algorithm);
  for (const piece of pieces(bmap, algorithm, zeros, options)) hash.update(piece);
  return { algorithm, digest: hash.digest('hex') };
}

function* pieces(bmap: Bmap, algorithm: string, fileChecksum: string, options: SerializeOptions): Generator<string> {
  const comments = options.comments ?? true;
  const lines: string[] = [];
  const comment = (text: string): void => {
    if (comments) lines.push(`    <!-- ${text} -->`);
  };
  const blank = (): void => {
    if (comments) lines.push('');
  };
  lines.push('<?xml version="1.0" ?>');
  if (comments) lines.push(HEADER_COMMENT, '');
  lines.push('<bmap version="2.0">');
  comment(`Image size in bytes: ${humanSize(bmap.imageSize)}`);
  lines.push(`    <ImageSize> ${bmap.imageSize} </ImageSize>`);
  blank();
  comment('Size of a block in bytes');
  lines.push(`    <BlockSize> ${bmap.blockSize} </BlockSize>`);
  blank();
  comment('Count of blocks in the image file');
  lines.push(`    <BlocksCount> ${bmap.blocksCount} </BlocksCount>`);
  blank();
  if (comments) lines.push(mappedComment(bmap));
  const pad2 = ' '.repeat(Math.max(0, String(bmap.blocksCount).length - String(bmap.mappedBlocksCount).length));
  lines.push(`    <MappedBlocksCount> ${bmap.mappedBlocksCount}${pad2} </MappedBlocksCount>`);
  blank();
  comment('Type of checksum used in this file');
  lines.push(`    <ChecksumType> ${PYTHON_SPELLING[algorithm] ?? algorithm} </ChecksumType>`);
  blank();
  comment(
    'The checksum of this bmap file. When it is calculated, the value of\n' +
      '         the checksum has to be zero (all ASCII "0" symbols). ',
  );
  lines.push(`    <BmapFileChecksum> ${fileChecksum} </BmapFileChecksum>`);
  blank();
  comment(
    'The block map which consists of elements which may either be a\n' +
      "         range of blocks or a single block. The 'chksum' attribute\n" +
      '         (if present) is the checksum of this block range.',
  );
  lines.push('    <BlockMap>');
  yield lines.join('\n') + '\n';

  for (let i = 0; i < bmap.ranges.length; i += RANGES_PER_PIECE) {
    let out = '';
    for (let k = i; k < Math.min(bmap.ranges.length, i + RANGES_PER_PIECE); k++) out += rangeLine(bmap.ranges.at(k)!);
    yield out;
  }
  yield '    </BlockMap>\n</bmap>\n';
}

function rangeLine(r: BlockRange): string {
  const span = r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`;
  const attr = r.checksum === undefined ? '' : ` chksum="${r.checksum}"`;
  return `        <Range${attr}> ${span} </Range>\n`;
}

/**
 * "Count of mapped blocks: {T}{pad}-->": the reference reserves room for
 * H(ImageSize) + " or 100.0%" and back-fills it, so the padding is
 * len(H(ImageSize)) + 13 - len(T) spaces (bmap-format.md §8.2).
 */
function mappedComment(bmap: Bmap): string {
  const t = `${humanSize(bmap.mappedBlocksCount * bmap.blockSize)} or ${mappedPercent(bmap.mappedBlocksCount, bmap.blocksCount)}%`;
  const room = humanSize(bmap.imageSize).length + 10 + 3;
  if (t.length > room) {
    throw new Error(`internal error: mapped-blocks comment '${t}' does not fit its ${room}-character field`);
  }
  return `    <!-- Count of mapped blocks: ${t}${' '.repeat(room - t.length)}-->`;
}
