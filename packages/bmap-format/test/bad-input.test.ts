import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { BmapkitError, parseBmap, serializeBmap, type Bmap } from '../src/index.js';
import { bytes, reseal, vector, text } from './helpers.js';

const GOOD: Bmap = {
  version: '2.0',
  imageSize: 40960,
  blockSize: 4096,
  blocksCount: 10,
  mappedBlocksCount: 4,
  checksumType: 'sha256',
  ranges: [
    { first: 1, last: 2, checksum: 'a'.repeat(64) },
    { first: 5, last: 5, checksum: 'b'.repeat(64) },
    { first: 9, last: 9, checksum: 'c'.repeat(64) },
  ],
};
const BASE = serializeBmap(GOOD);

const edit = (from: string | RegExp, to: string): string => reseal(BASE.replace(from, to));
const v12 = text(vector('test.image.bmap.v1.2'));

interface Case {
  name: string;
  input: Uint8Array | string;
  code: string;
  message: RegExp;
  options?: Parameters<typeof parseBmap>[1];
}

const cases: Case[] = [
  { name: 'empty file', input: '', code: 'BMAP_PARSE', message: /the file is empty/ },
  { name: 'truncated XML', input: BASE.slice(0, 1800), code: 'BMAP_PARSE', message: /not well-formed XML at line \d+, column \d+: .*damaged or not a bmap/ },
  { name: 'random binary (an image given as the bmap)', input: new Uint8Array(4096).map((_, i) => (i * 7919) % 251), code: 'BMAP_PARSE', message: /contains binary data, so it is not a bmap file; is it the image\?/ },
  { name: 'plain text', input: 'hello world\n', code: 'BMAP_PARSE', message: /not well-formed XML at line \d+, column \d+: text data outside of root node;/ },
  { name: 'wrong root element', input: BASE.replace('<bmap version', '<bitmap version').replace('</bmap>', '</bitmap>'), code: 'BMAP_PARSE', message: /root element is <bitmap>, not <bmap>/ },
  { name: 'two root elements', input: BASE + '<bmap version="2.0"></bmap>\n', code: 'BMAP_PARSE', message: /not well-formed XML/ },
  { name: 'no version attribute', input: BASE.replace(' version="2.0"', ''), code: 'BMAP_PARSE', message: /no 'version' attribute/ },
  { name: 'version "2" without a minor', input: BASE.replace('version="2.0"', 'version="2"'), code: 'BMAP_PARSE', message: /malformed bmap format version '2'/ },
  { name: 'version "two.zero"', input: BASE.replace('version="2.0"', 'version="two.zero"'), code: 'BMAP_PARSE', message: /malformed bmap format version/ },
  { name: 'version 3.0', input: BASE.replace('version="2.0"', 'version="3.0"'), code: 'UNSUPPORTED_VERSION', message: /bmap format version 3\.0 is not supported .*reads format versions 1\.0 to 1\.4 and 2\.x/ },
  { name: 'version 1.5', input: BASE.replace('version="2.0"', 'version="1.5"'), code: 'UNSUPPORTED_VERSION', message: /version 1\.5 is not supported/ },
  { name: 'version 0.9', input: BASE.replace('version="2.0"', 'version="0.9"'), code: 'UNSUPPORTED_VERSION', message: /version 0\.9 is not supported/ },
  { name: 'missing ImageSize', input: edit(/ *<ImageSize>.*\n/, ''), code: 'BMAP_PARSE', message: /requires <ImageSize>, which is missing/ },
  { name: 'missing BlockMap', input: edit(/ *<BlockMap>[^]*<\/BlockMap>\n/, ''), code: 'BMAP_PARSE', message: /requires <BlockMap>/ },
  { name: 'missing ChecksumType (2.0)', input: edit(/ *<ChecksumType>.*\n/, ''), code: 'BMAP_PARSE', message: /requires <ChecksumType>/ },
  { name: 'missing BmapFileChecksum (2.0)', input: BASE.replace(/ *<BmapFileChecksum>.*\n/, ''), code: 'BMAP_PARSE', message: /requires <BmapFileChecksum>/ },
  { name: 'missing BmapFileSHA1 (1.3)', input: text(vector('test.image.bmap.v1.3')).replace(/ *<BmapFileSHA1>.*\n/, ''), code: 'BMAP_PARSE', message: /format 1\.3 requires <BmapFileSHA1>/ },
  { name: 'non-numeric ImageSize', input: edit('> 40960 <', '> 40960a <'), code: 'BMAP_PARSE', message: /<ImageSize> must be a decimal number, found '40960a'/ },
  { name: 'negative BlockSize', input: edit('> 4096 <', '> -4096 <'), code: 'BMAP_PARSE', message: /<BlockSize> must be a decimal number, found '-4096'/ },
  { name: 'signed and separated numbers', input: edit('> 10 </BlocksCount>', '> +1_0 </BlocksCount>'), code: 'BMAP_PARSE', message: /<BlocksCount> must be a decimal number/ },
  { name: 'a number beyond 2^53', input: edit('> 40960 <', '> 99999999999999999999 <'), code: 'BMAP_PARSE', message: /<ImageSize> must be a decimal number/ },
  { name: 'ImageSize 0', input: edit('> 40960 <', '> 0 <'), code: 'BMAP_INVALID', message: /<ImageSize> is 0; a bmap describes a non-empty image/ },
  { name: 'BlockSize 0', input: reseal(BASE.replace('> 4096 <', '> 0 <')), code: 'BMAP_INVALID', message: /<BlockSize> is 0/ },
  { name: 'BlocksCount inconsistent', input: edit('> 10 </BlocksCount>', '> 11 </BlocksCount>'), code: 'BMAP_INVALID', message: /image size does not match blocks count \(40960 bytes != 11 blocks \* 4096 bytes\)/ },
  { name: 'MappedBlocksCount wrong', input: edit(/<MappedBlocksCount> 4 *</, '<MappedBlocksCount> 5 <'), code: 'BMAP_INVALID', message: /<MappedBlocksCount> is 5, but the ranges add up to 4 blocks/ },
  { name: 'overlapping ranges', input: BASE.replace('> 5 </Range>', '> 2-5 </Range>'), code: 'BMAP_INVALID', message: /range '2-5' \(line \d+\) overlaps or comes before range '1-2'/ },
  { name: 'descending ranges', input: BASE.replace('> 9 </Range>', '> 3 </Range>'), code: 'BMAP_INVALID', message: /range '3' .* comes before range '5'/ },
  { name: 'range past the end', input: BASE.replace('> 9 </Range>', '> 9-10 </Range>'), code: 'BMAP_INVALID', message: /range '9-10' \(line \d+\) ends at block 10, past the image's last block 9/ },
  { name: 'first > last', input: BASE.replace('> 1-2 </Range>', '> 2-1 </Range>'), code: 'BMAP_PARSE', message: /bad range \(first > last\): '2-1'/ },
  { name: 'range with a missing side', input: BASE.replace('> 1-2 </Range>', '> 1- </Range>'), code: 'BMAP_PARSE', message: /bad range '1-'/ },
  { name: 'range with two dashes', input: BASE.replace('> 1-2 </Range>', '> 1-2-3 </Range>'), code: 'BMAP_PARSE', message: /bad range '1-2-3'/ },
  { name: 'empty range', input: BASE.replace('> 1-2 </Range>', '>  </Range>'), code: 'BMAP_PARSE', message: /empty <Range>/ },
  { name: 'unknown checksum type', input: edit('> sha256 <', '> crc99 <'), code: 'UNSUPPORTED_CHECKSUM', message: /checksum type 'crc99' is not supported/ },
  { name: 'range checksum of the wrong length', input: BASE.replace('a'.repeat(64), 'a'.repeat(40)), code: 'BMAP_INVALID', message: /range '1-2' \(line \d+\) has a 40-digit checksum, but .* 64 digits/ },
  { name: 'range checksum not hex', input: BASE.replace('a'.repeat(64), 'g'.repeat(64)), code: 'BMAP_PARSE', message: /range '1-2': chksum="g+" is not a hex digest/ },
  { name: 'file checksum of the wrong length', input: BASE.replace(/(<BmapFileChecksum> )[0-9a-f]{8}/, '$1'), code: 'BMAP_PARSE', message: /<BmapFileChecksum> has 56 hex digits, but a sha256 digest has 64/ },
  { name: 'file checksum not hex', input: BASE.replace(/(<BmapFileChecksum> )[0-9a-f]/, '$1z'), code: 'BMAP_PARSE', message: /<BmapFileChecksum> must be a hex digest/ },
  { name: 'file checksum mismatch (value edited)', input: BASE.replace('> 4096 <', '> 8192 <'), code: 'BMAP_CHECKSUM', message: /^checksum mismatch for bmap file: calculated '[0-9a-f]{64}', should be '[0-9a-f]{64}'; the bmap is damaged or was edited/ },
  { name: 'duplicate element', input: edit('    <BlockSize>', '    <BlockSize> 4096 </BlockSize>\n    <BlockSize>'), code: 'BMAP_PARSE', message: /<BlockSize> appears more than once/ },
  { name: 'DOCTYPE with entity expansion (billion laughs)', input: BASE.replace('<bmap ', '<!DOCTYPE bmap [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n<bmap '), code: 'BMAP_PARSE', message: /DOCTYPE declaration; .*refused for safety/ },
  { name: 'external entity (XXE)', input: BASE.replace('<bmap ', '<!DOCTYPE bmap [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<bmap ').replace('> 40960 <', '>&x;<'), code: 'BMAP_PARSE', message: /DOCTYPE/ },
  { name: 'undefined entity reference', input: BASE.replace('> 40960 <', '> &size; <'), code: 'BMAP_PARSE', message: /not well-formed XML .*undefined entity/i },
  { name: 'a declared non-UTF-8 encoding', input: BASE.replace('<?xml version="1.0" ?>', '<?xml version="1.0" encoding="ISO-8859-1" ?>'), code: 'BMAP_PARSE', message: /declares encoding 'ISO-8859-1'/ },
  { name: 'invalid UTF-8 in a comment', input: new Uint8Array([...bytes(BASE.slice(0, 30)), 0xc3, 0x28, ...bytes(BASE.slice(30))]), code: 'BMAP_PARSE', message: /invalid UTF-8 near byte 3[01];/ },
  { name: '50 MiB of whitespace', input: BASE.replace('<bmap ', `${' '.repeat(50 << 20)}<bmap `), code: 'BMAP_TOO_LARGE', message: /: text without markup longer than 1\.0 MiB at line \d+;/ },
  { name: 'a 2 MiB comment', input: BASE.replace('<bmap ', `<!--${'x'.repeat(2 << 20)}-->\n<bmap `), code: 'BMAP_TOO_LARGE', message: /: a comment or declaration longer than 1\.0 MiB at line \d+;/ },
  {
    name: '10^5 attributes on one tag',
    input: BASE.replace('<bmap version="2.0">', `<bmap version="2.0" ${Array.from({ length: 100_000 }, (_, i) => `a${i}="x"`).join(' ')}>`),
    code: 'BMAP_TOO_LARGE',
    message: /: a tag \(thousands of attributes\?\) longer than 1\.0 MiB at line \d+;/,
  },
  { name: 'input over the size cap', input: BASE, options: { maxBytes: 1000 }, code: 'BMAP_TOO_LARGE', message: /: larger than 1000 bytes \(1\.0 KiB\), which no real bmap is; check that this is the bmap and not the image$/ },
  { name: 'non-ASCII where a number belongs (shown as written)', input: BASE.replace('> 40960 <', '> １２ <'), code: 'BMAP_PARSE', message: /<ImageSize> must be a decimal number, found '１２'/ },
  { name: 'non-ASCII in a range (shown as written)', input: BASE.replace('> 1-2 </Range>', '> 1–2 </Range>'), code: 'BMAP_PARSE', message: /bad range '1–2': not a block number/ },
  { name: 'a non-ASCII version (shown as written)', input: BASE.replace('version="2.0"', 'version="２.0"'), code: 'BMAP_PARSE', message: /version '２\.0'/ },
  { name: 'a gzip-compressed bmap', input: gzipSync(BASE), code: 'BMAP_PARSE', message: /is gzip-compressed, not a bmap; decompress it first \(gunzip\)/ },
  { name: 'a clearsigned bmap cut before its signature', input: `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n${BASE}`, code: 'BMAP_PARSE', message: /clearsigned bmap ends before its signature block/ },
  { name: 'a 1.2 file with a bad sha1 length', input: v12.replace(/sha1="([0-9a-f]{40})"/, 'sha1="$1ab"'), code: 'BMAP_INVALID', message: /42-digit checksum/ },
  { name: 'markup inside the file checksum', input: BASE.replace(/(<BmapFileChecksum> )/, '$1<!-- x -->'), code: 'BMAP_PARSE', message: /<BmapFileChecksum> must contain only the hex digest/ },
];

describe('hostile and broken bmaps', () => {
  it('has at least 25 cases', () => expect(cases.length).toBeGreaterThanOrEqual(25));

  for (const c of cases) {
    it(`${c.name}: ${c.code}`, async () => {
      const err = await parseBmap(c.input, c.options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, 'must be rejected').toBeInstanceOf(BmapkitError);
      const e = err as BmapkitError;
      expect(e.code).toBe(c.code);
      expect(e.message).toMatch(c.message);
      expect(e.message).not.toMatch(/\n/);
      expect(e.message.startsWith('bmap file') || e.message.startsWith('checksum mismatch')).toBe(true);
    });
  }

  it('finds the same error whatever the chunking', async () => {
    for (const c of cases.filter((x) => x.input.length < 100_000)) {
      const data = typeof c.input === 'string' ? bytes(c.input) : c.input;
      let i = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (i >= data.length) return ctl.close();
          ctl.enqueue(data.subarray(i, i + 7));
          i += 7;
        },
      });
      await expect(parseBmap(stream, c.options), c.name).rejects.toMatchObject({ code: c.code });
    }
  });

  it('names the file in every message when given a source', async () => {
    await expect(parseBmap('junk', { source: 'disk.img.bmap' })).rejects.toThrow(/^bmap file 'disk\.img\.bmap': /);
  });
});
