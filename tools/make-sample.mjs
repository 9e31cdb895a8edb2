#!/usr/bin/env node
// Regenerates the bundled sample: samples/sample.img.gz (a small, mostly
// empty disk image with an MBR, some metadata, file data and a partial last
// block) and samples/sample.img.bmap, its bmap in bmaptool 3.9's format.
// Deterministic: running it again produces identical files.
import { writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { serializeBmap, rangeByteSpan } from '@bmapkit/bmap-format';

const BS = 4096;
const SIZE = 8 * 1024 * 1024 - 1000; // the last block is partial
const image = new Uint8Array(SIZE);
const text = (s) => new TextEncoder().encode(s);

function fillText(block, label) {
  const start = block * BS;
  const end = Math.min(start + BS, SIZE);
  let line = 0;
  let s = '';
  while (s.length < end - start) s += `bmapkit sample image: ${label}, block ${block}, line ${line++}\n`;
  image.set(text(s.slice(0, end - start)), start);
}

// block 0: an MBR with one Linux partition from sector 2048, and its signature
for (let i = 0; i < 440; i++) image[i] = (i * 37 + 11) & 0xff;
image.set([0x00, 0x20, 0x21, 0x00, 0x83, 0x46, 0x05, 0x01, 0x00, 0x08, 0, 0, 0x00, 0x38, 0, 0], 446);
image[510] = 0x55;
image[511] = 0xaa;
// "filesystem metadata" and "files"
for (let b = 256; b < 260; b++) fillText(b, 'superblock and group descriptors');
for (let b = 300; b < 364; b++) fillText(b, 'file data');
for (let b = 1024; b < 1026; b++) fillText(b, 'directory blocks');
fillText(Math.floor((SIZE - 1) / BS), 'the partial last block');

const blocks = [];
for (let b = 0; b * BS < SIZE; b++) {
  const start = b * BS;
  if (image.subarray(start, Math.min(start + BS, SIZE)).some((x) => x !== 0)) blocks.push(b);
}
const ranges = [];
for (const b of blocks) {
  const last = ranges[ranges.length - 1];
  if (last && last.last + 1 === b) last.last = b;
  else ranges.push({ first: b, last: b });
}
const bmap = {
  version: '2.0',
  imageSize: SIZE,
  blockSize: BS,
  blocksCount: Math.ceil(SIZE / BS),
  mappedBlocksCount: blocks.length,
  checksumType: 'sha256',
  ranges: ranges.map((r) => {
    const { start, end } = rangeByteSpan(r, { blockSize: BS, imageSize: SIZE });
    return { ...r, checksum: createHash('sha256').update(image.subarray(start, end)).digest('hex') };
  }),
};

const out = new URL('../samples/', import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL('sample.img.gz', out), gzipSync(image, { level: 9 }));
writeFileSync(new URL('sample.img.bmap', out), serializeBmap(bmap));
console.log(
  `samples/sample.img.gz: ${SIZE} bytes, ${blocks.length} of ${bmap.blocksCount} blocks mapped in ${ranges.length} ranges; ` +
    `sha256 ${createHash('sha256').update(image).digest('hex')}`,
);
