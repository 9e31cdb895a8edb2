import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { create as xmlCreate } from 'xmlbuilder2';
import {
  parseBmap,
  serializeBmap,
  serializeBmapStream,
  verifyBmapChecksum,
  type Bmap,
  type BlockRange,
  rangeByteSpan,
} from '../src/index.js';
import { sha256, text } from './helpers.js';
import { vectorAImage } from '../../../tools/vector-a.js';

/** A bmap for an in-memory image whose mapped blocks are given as [first, last] pairs. */
function bmapOf(image: Uint8Array, spans: Array<[number, number]>, opts: { checksums?: boolean; blockSize?: number } = {}): Bmap {
  const blockSize = opts.blockSize ?? 4096;
  const geometry = { blockSize, imageSize: image.length };
  const ranges: BlockRange[] = spans.map(([first, last]) => {
    const r: BlockRange = { first, last };
    if (opts.checksums ?? true) {
      const { start, end } = rangeByteSpan(r, geometry);
      r.checksum = sha256(image.subarray(start, end));
    }
    return r;
  });
  return {
    version: '2.0',
    imageSize: image.length,
    blockSize,
    blocksCount: Math.ceil(image.length / blockSize),
    mappedBlocksCount: spans.reduce((n, [a, b]) => n + b - a + 1, 0),
    checksumType: 'sha256',
    ranges,
  };
}

const A_SPANS: Array<[number, number]> = [[0, 0], [10, 11], [100, 101], [200, 200]];

function vectorBImage(): Uint8Array {
  const img = new Uint8Array(10000);
  img.set(new TextEncoder().encode('END'), 9997);
  return img;
}

const fileChecksumOf = (xml: string): string => /<BmapFileChecksum> ([0-9a-f]+) </.exec(xml)![1]!;

describe('serializeBmap: bmaptool 3.9 byte for byte (bmap-format.md §9)', () => {
  it('vector A', () => {
    const img = vectorAImage();
    expect(sha256(img)).toBe('a1669df711ac5285fa16d8791d6d104361d1fdfa0d3305a369a74ac835e4fadf');
    const xml = serializeBmap(bmapOf(img, A_SPANS));
    expect(xml.length).toBe(2585);
    expect(xml.split('\n')).toHaveLength(54); // 53 lines and the final newline
    expect(sha256(xml)).toBe('55cd74a37205d23faf15069cd8a9433d5b244d2c08b0f9ca011f8ac8dd1dd87f');
    expect(fileChecksumOf(xml)).toBe('80fe50ec88c039aef7b4f7f28fc35d6372a6374df2387abe79e4dba799e9000b');
    expect(xml).toContain('    <!-- Count of mapped blocks: 24.0 KiB or 2.3%    -->\n    <MappedBlocksCount> 6   </MappedBlocksCount>');
    expect(xml).toContain('<Range chksum="e0a455536cbd1bb9736379ddcecce7348f6863921e8f88be4ba3ef08f4547174"> 0 </Range>');
    expect(xml).toContain('<Range chksum="f8ca02c69621dd84cd1212ebfd7d6cdc9ba6ad658854f29567723531912d1a35"> 10-11 </Range>');
    expect(xml).toContain('<Range chksum="7a0073468ba4b1bfa078fef0d995eb31466c32c5e5f246de5c65f96eeb36f0c2"> 100-101 </Range>');
    expect(xml).toContain('<Range chksum="01bb7d9e1469459d109dd542b3bb8b57be1e8d6a1e5a35906337f231e10314df"> 200 </Range>');
  });

  it("vector A' (--no-checksum)", () => {
    const xml = serializeBmap(bmapOf(vectorAImage(), A_SPANS, { checksums: false }));
    expect(xml).toContain('        <Range> 0 </Range>\n        <Range> 10-11 </Range>');
    expect(xml).toContain('<ChecksumType> sha256 </ChecksumType>');
    expect(fileChecksumOf(xml)).toBe('4c0dddd4632cbb7613193db16a38d08e2fe36a7cc19ee0e4ab05121a523f40d9');
    expect(sha256(xml)).toBe('1b941a6bd88265ac9246552536d96946482ed4fa742f642b7589e9afc5914b11');
  });

  it('vector B: partial last block hashed only up to the image size', () => {
    const img = vectorBImage();
    expect(sha256(img)).toBe('f774c61904e1c94e40af4030ddee6123ebcd8d3222f219ac1741744219842e57');
    const xml = serializeBmap(bmapOf(img, [[2, 2]]));
    expect(xml).toContain('<!-- Image size in bytes: 9.8 KiB -->');
    expect(xml).toContain('<!-- Count of mapped blocks: 4.0 KiB or 33.3%    -->');
    expect(xml).toContain('<MappedBlocksCount> 1 </MappedBlocksCount>');
    expect(xml).toContain('<Range chksum="4bee0a00010a143c9db8aa82557f30b6f3dd31f4b04d84d735326b2f38bc59f1"> 2 </Range>');
    expect(fileChecksumOf(xml)).toBe('bf6eb8e349ec97ed4029a4f7585199e4942fdee090c9844589c4dd740cb44216');
    expect(xml.length).toBe(2264);
    expect(sha256(xml)).toBe('faf53a2bbd7494c0e1f6ab7442b2bacf4953f7cc9665af2e577b42b6743cd27f');
    const xmlNoSum = serializeBmap(bmapOf(img, [[2, 2]], { checksums: false }));
    expect(fileChecksumOf(xmlNoSum)).toBe('cf37789042f3558b9d5256caf82720ea1b237208f5959e10023c0f2d5fd53974');
  });

  it('vector C: all holes', () => {
    const xml = serializeBmap(bmapOf(new Uint8Array(5 << 20), []));
    expect(xml).toContain('<!-- Count of mapped blocks: 0 bytes or 0.0%     -->');
    expect(xml).toContain('<MappedBlocksCount> 0    </MappedBlocksCount>');
    expect(xml).toContain('    <BlockMap>\n    </BlockMap>\n</bmap>\n');
    expect(fileChecksumOf(xml)).toBe('37b1747c8e93c6cc0f3774f815c52ee5c73f35560579200b0d37554375a8cc56');
    expect(xml.length).toBe(2171);
    expect(sha256(xml)).toBe('d07e955d31f5aaf9be7a3d756e23b76a2d9e8d62c09fd080aede6b58355b40c0');
  });

  it('vector D: a one-byte image', () => {
    const xml = serializeBmap(bmapOf(new Uint8Array([0x61]), [[0, 0]]));
    expect(xml).toContain('<!-- Image size in bytes: 1 byte -->');
    expect(xml).toContain('<!-- Count of mapped blocks: 4.0 KiB or 100.0%  -->');
    expect(xml).toContain('<MappedBlocksCount> 1 </MappedBlocksCount>');
  });

  it('vector E: 255 of 256 blocks', () => {
    const img = new Uint8Array(1 << 20).fill(7, 0, 255 * 4096);
    const xml = serializeBmap(bmapOf(img, [[0, 254]]));
    expect(xml).toContain('<!-- Count of mapped blocks: 1020.0 KiB or 99.6% -->');
    expect(xml).toContain('<MappedBlocksCount> 255 </MappedBlocksCount>');
  });

  it('vector F: a rounding tie in the image size', () => {
    const img = new Uint8Array(1280);
    img[0] = 1;
    expect(serializeBmap(bmapOf(img, [[0, 0]]))).toContain('<!-- Image size in bytes: 1.2 KiB -->');
  });

  it('is deterministic, and every file checksum it writes verifies', async () => {
    const b = bmapOf(vectorAImage(), A_SPANS);
    expect(serializeBmap(b)).toBe(serializeBmap(b));
    expect(await verifyBmapChecksum(serializeBmap(b))).toMatchObject({ ok: true, algorithm: 'sha256' });
    expect(await verifyBmapChecksum(serializeBmap(b, { comments: false }))).toMatchObject({ ok: true });
  });

  it('writes other checksum types in the spelling Python reads, with a matching file checksum', async () => {
    const img = vectorAImage();
    for (const [node, written, len] of [['sha1', 'sha1', 40], ['sha512', 'sha512', 128], ['sha3-256', 'sha3_256', 64]] as const) {
      const b = bmapOf(img, A_SPANS, { checksums: false });
      b.checksumType = node;
      b.ranges = [...b.ranges].map((r) => {
        const { start, end } = rangeByteSpan(r, b);
        return { ...r, checksum: createHash(node).update(img.subarray(start, end)).digest('hex') };
      });
      const xml = serializeBmap(b);
      expect(xml).toContain(`<ChecksumType> ${written} </ChecksumType>`);
      expect(fileChecksumOf(xml)).toHaveLength(len);
      const back = await parseBmap(xml);
      expect(back.checksumType).toBe(node);
      expect([...back.ranges]).toEqual([...b.ranges]);
    }
  });

  it('without comments keeps the elements and order and drops every comment', async () => {
    const xml = serializeBmap(bmapOf(vectorAImage(), A_SPANS), { comments: false });
    expect(xml).not.toContain('<!--');
    expect(xml).not.toMatch(/\n\n/);
    const order = [...xml.matchAll(/<([A-Za-z]+)[ >]/g)].map((m) => m[1]);
    expect(order.slice(0, 8)).toEqual(['bmap', 'ImageSize', 'BlockSize', 'BlocksCount', 'MappedBlocksCount', 'ChecksumType', 'BmapFileChecksum', 'BlockMap']);
  });

  it('the streaming writer emits exactly the same bytes', async () => {
    const b = randomBmap(50_000, 3);
    const chunks: Uint8Array[] = [];
    for await (const c of serializeBmapStream(b) as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(3);
    expect(text(Buffer.concat(chunks))).toBe(serializeBmap(b));
  });

  it('refuses an inconsistent Bmap object instead of writing it', () => {
    const good = bmapOf(vectorAImage(), A_SPANS);
    const cases: Array<[string, Partial<Bmap>]> = [
      ['mapped count', { mappedBlocksCount: 7 }],
      ['blocks count', { blocksCount: 255 }],
      ['overlap', { ranges: [{ first: 0, last: 3 }, { first: 3, last: 4 }], mappedBlocksCount: 6 }],
      ['past the end', { ranges: [{ first: 250, last: 256 }], mappedBlocksCount: 7 }],
      ['digest length', { ranges: [{ first: 0, last: 5, checksum: 'abcd' }], mappedBlocksCount: 6 }],
      ['unknown type', { checksumType: 'crc32x' }],
    ];
    for (const [what, change] of cases) {
      expect(() => serializeBmap({ ...good, ...change }), what).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(BMAP_INVALID|UNSUPPORTED_CHECKSUM)$/) }));
    }
  });
});

/** A random, valid bmap with `n` ranges (a deterministic LCG, so failures reproduce). */
function randomBmap(n: number, seed: number, checksums = true): Bmap {
  let s = seed;
  const rnd = (k: number): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % k;
  };
  const ranges: BlockRange[] = [];
  let block = rnd(3);
  let mapped = 0;
  for (let i = 0; i < n; i++) {
    const len = 1 + rnd(i % 7 === 0 ? 1 : 40);
    const r: BlockRange = { first: block, last: block + len - 1 };
    if (checksums) r.checksum = createHash('sha256').update(`${i}`).digest('hex');
    ranges.push(r);
    mapped += len;
    block += len + 1 + rnd(50);
  }
  const blockSize = 4096;
  const imageSize = block * blockSize - rnd(blockSize); // a partial last block
  return { version: '2.0', imageSize, blockSize, blocksCount: Math.ceil(imageSize / blockSize), mappedBlocksCount: mapped, checksumType: 'sha256', ranges };
}

describe('round trip: parse(serialize(b)) equals b', () => {
  const strip = (b: Bmap) => ({ ...b, fileChecksum: undefined, ranges: [...b.ranges] });
  const cases: Array<[string, Bmap]> = [
    ['single-block ranges and a partial last block', bmapOf(vectorBImage(), [[0, 0], [2, 2]])],
    ['no ranges at all', bmapOf(new Uint8Array(3 << 20), [])],
    ['one range over the whole image', bmapOf(new Uint8Array(12345).fill(1), [[0, 3]])],
    ['ranges without checksums', bmapOf(vectorAImage(), A_SPANS, { checksums: false })],
    ['an odd block size', bmapOf(new Uint8Array(5000).fill(2), [[0, 9]], { blockSize: 500 })],
    ['100k random ranges', randomBmap(100_000, 42)],
  ];
  for (const [name, b] of cases) {
    it(name, async () => {
      const back = await parseBmap(serializeBmap(b));
      expect(back.fileChecksum).toMatch(/^[0-9a-f]{64}$/);
      expect(strip(back)).toEqual(strip(b));
      const backBare = await parseBmap(serializeBmap(b, { comments: false }));
      expect(strip(backBare)).toEqual(strip(b));
    });
  }

  it('a document built by another XML library (xmlbuilder2), in another element order, parses the same', async () => {
    const b = randomBmap(500, 7);
    const doc = xmlCreate({ version: '1.0', encoding: 'UTF-8' }).ele('bmap', { version: '2.0' });
    const blockMap = doc.ele('BlockMap');
    for (const r of b.ranges) blockMap.ele('Range', { chksum: r.checksum!.toUpperCase() }).txt(`\n${r.first}\t-\t${r.last}\n`);
    doc.ele('Unknown', { future: 'yes' }).txt('ignored');
    doc.ele('MappedBlocksCount').txt(`00${b.mappedBlocksCount}`);
    doc.ele('BlocksCount').txt(String(b.blocksCount));
    doc.ele('BlockSize').txt(String(b.blockSize));
    doc.ele('ImageSize').txt(String(b.imageSize));
    doc.ele('ChecksumType').txt('SHA256');
    doc.ele('BmapFileChecksum').txt('0'.repeat(64));
    const zeroed = doc.end({ prettyPrint: true });
    const digest = createHash('sha256').update(zeroed).digest('hex');
    const xml = zeroed.replace('0'.repeat(64), digest);
    expect(strip(await parseBmap(xml))).toEqual(strip(b));
  });
});
