// The project's own stand-ins for the reference vectors in ../shared/testdata,
// for a checkout that has no ../shared beside it. Same folder layout, file
// names and block geometry (821752 bytes, 201 blocks of 4096, 117 mapped in
// 48 ranges, so that tests can name range 119-133), but bmapkit's own image
// content and bmaps written here from the format spec, independently of
// @bmapkit/bmap-format's writer. Deterministic: the same bytes every time.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const IMAGE_SIZE = 821752;
const BLOCK = 4096;
const BLOCKS = Math.ceil(IMAGE_SIZE / BLOCK);
const RANGES = [
  [0, 1], [3, 5], [9, 10], [12, 12], [15, 18], [20, 20], [22, 22], [24, 24], [30, 32], [34, 35], [40, 40], [42, 43],
  [45, 45], [47, 47], [49, 50], [52, 53], [55, 56], [60, 63], [65, 67], [70, 70], [72, 72], [78, 80], [82, 83], [85, 85],
  [88, 88], [90, 91], [96, 96], [98, 105], [111, 111], [114, 116], [119, 133], [135, 135], [137, 137], [140, 140],
  [142, 144], [146, 147], [150, 151], [155, 155], [157, 157], [159, 160], [163, 174], [177, 177], [181, 186],
  [188, 189], [191, 191], [193, 193], [195, 195], [198, 199],
];
const MAPPED = RANGES.reduce((n, [a, b]) => n + b - a + 1, 0);

/** The image: every byte of a mapped block is text that names the block; the rest is zeros. */
export function ownImage() {
  const image = new Uint8Array(IMAGE_SIZE);
  const enc = new TextEncoder();
  for (const [first, last] of RANGES) {
    for (let b = first; b <= last; b++) {
      let s = '';
      for (let line = 0; s.length < BLOCK; line++) s += `bmapkit test image, block ${b}, line ${line}: ${createHash('sha1').update(`${b}.${line}`).digest('hex')}\n`;
      const start = b * BLOCK;
      image.set(enc.encode(s.slice(0, Math.min(BLOCK, IMAGE_SIZE - start))), start);
    }
  }
  return image;
}

const digest = (algo, data) => createHash(algo).update(data).digest('hex');
const span = ([a, b]) => (a === b ? `${a}` : `${a}-${b}`);
const kib = (blocks) => `${((blocks * BLOCK) / 1024).toFixed(1)} KiB`;

/** A bmap of VERSION ('1.2', '1.3', '1.4' or '2.0') for IMAGE, in the layout bmaptool writes. */
export function ownBmap(image, version) {
  const sha1 = version === '1.2' || version === '1.3';
  const algo = sha1 ? 'sha1' : 'sha256';
  const attr = sha1 ? 'sha1' : 'chksum';
  const hexLen = sha1 ? 40 : 64;
  const rangeLines = RANGES.map((r) => {
    const data = image.subarray(r[0] * BLOCK, Math.min((r[1] + 1) * BLOCK, IMAGE_SIZE));
    return `        <Range ${attr}="${digest(algo, data)}"> ${span(r)} </Range>\n`;
  }).join('');
  const mapped = `${kib(MAPPED)} or ${((MAPPED / BLOCKS) * 100).toFixed(1)}%`;
  let xml = '<?xml version="1.0" ?>\n<!-- A block map made by bmapkit\'s tools/own-vectors.js for its tests. -->\n\n';
  xml += `<bmap version="${version}">\n`;
  xml += `    <!-- Image size in bytes -->\n    <ImageSize> ${IMAGE_SIZE} </ImageSize>\n\n`;
  xml += `    <!-- Size of a block in bytes -->\n    <BlockSize> ${BLOCK} </BlockSize>\n\n`;
  xml += `    <!-- Count of blocks in the image file -->\n    <BlocksCount> ${BLOCKS} </BlocksCount>\n\n`;
  if (version !== '1.2') xml += `    <!-- Count of mapped blocks: ${mapped} -->\n    <MappedBlocksCount> ${MAPPED} </MappedBlocksCount>\n\n`;
  if (!sha1) xml += '    <!-- Type of checksum used in this file -->\n    <ChecksumType> sha256 </ChecksumType>\n\n';
  const fileTag = version === '1.3' ? 'BmapFileSHA1' : 'BmapFileChecksum';
  if (version !== '1.2') xml += `    <!-- The checksum of this bmap file, computed with this value all zeros -->\n    <${fileTag}> ${'0'.repeat(hexLen)} </${fileTag}>\n\n`;
  xml += `    <!-- The mapped blocks and the ${algo} of each range -->\n    <BlockMap>\n${rangeLines}    </BlockMap>\n`;
  if (version === '1.2') xml += `\n    <!-- Count of mapped blocks (${mapped} mapped) -->\n    <MappedBlocksCount> ${MAPPED} </MappedBlocksCount>\n`;
  xml += '</bmap>\n';
  if (version !== '1.2') xml = xml.replace('0'.repeat(hexLen), digest(algo, xml));
  return xml;
}

/** The file checksum (BmapFileSHA1 or BmapFileChecksum) the bmap text XML declares, or undefined (format 1.2). */
export function declaredFileChecksum(xml) {
  return /<BmapFile(?:SHA1|Checksum)>\s*([0-9a-f]+)/.exec(xml)?.[1];
}

/** Whitespace and comments squeezed out: the file checksum no longer matches. */
function squeezed(xml) {
  return xml.replace(/<!--[\s\S]*?-->\n*/g, '').replace(/\n\s*\n/g, '\n').replace(/> +/g, '>');
}

/** The file checksum element removed and the digests of the given ranges spoiled with a leading 'X'. */
function spoiled(xml, firsts) {
  let out = xml.replace(/ *<!-- The checksum of this bmap file[^\n]*\n *<BmapFile\w+>[^<]*<\/BmapFile\w+>\n\n/, '');
  for (const first of firsts) {
    out = out.replace(new RegExp(`(=")[0-9a-f]([0-9a-f]+">\\s*${first}[\\s-])`), '$1X$2');
  }
  return out;
}

const VERSIONS = ['1.2', '1.3', '1.4', '2.0'];

/** Writes the stand-ins into ROOT/bmaptool and ROOT/blockmap, laid out as ../shared/testdata. */
export function writeOwnVectors(root) {
  const image = ownImage();
  const bmaps = Object.fromEntries(VERSIONS.map((v) => [v, ownBmap(image, v)]));
  const a = join(root, 'bmaptool');
  const b = join(root, 'blockmap');
  for (const d of [a, b, join(b, 'invalid', 'file-checksum'), join(b, 'invalid', 'range')]) mkdirSync(d, { recursive: true });
  const readme = 'bmapkit\'s own stand-ins for the reference vectors (tools/own-vectors.js): same names and geometry, the project\'s own content.\n';
  writeFileSync(join(a, 'README.md'), readme);
  writeFileSync(join(b, 'README.md'), readme);
  writeFileSync(join(a, 'test.image.gz'), gzipSync(image, { level: 9 }));
  writeFileSync(join(b, 'bmap.img.gz'), gzipSync(image, { level: 1 }));
  for (const v of VERSIONS) {
    writeFileSync(join(a, `test.image.bmap.v${v}`), bmaps[v]);
    writeFileSync(join(b, `version-${v}.bmap`), bmaps[v]);
    if (v !== '1.2') writeFileSync(join(b, 'invalid', 'file-checksum', `version-${v}.bmap`), squeezed(bmaps[v]));
    writeFileSync(join(b, 'invalid', 'range', `version-${v}.bmap`), spoiled(bmaps[v], [119]));
    writeFileSync(join(b, 'invalid', 'range', `multiple-${v}.bmap`), spoiled(bmaps[v], [15, 119, 191]));
  }
}
