import { describe, expect, it } from 'vitest';
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { BmapParserStream, parseBmap, classifyVersion } from '../src/index.js';
import { BMAPTOOL_VECTORS, reseal, text, vector } from './helpers.js';

describe('BmapParserStream in a pipeline', () => {
  it('parses what is piped into it', async () => {
    const data = vector('test.image.bmap.v2.0');
    const sink = new BmapParserStream({ source: 'v2.0' });
    await new Blob([data]).stream().pipeTo(sink);
    const bmap = await sink.result;
    expect(bmap.ranges).toHaveLength(48);
  });

  it('rejects both the pipe and the result on a bad bmap', async () => {
    const sink = new BmapParserStream();
    const pipe = new Blob([vector('test.image.bmap.v2.0').subarray(0, 3000)]).stream().pipeTo(sink);
    await expect(pipe).rejects.toMatchObject({ code: 'BMAP_PARSE' });
    await expect(sink.result).rejects.toMatchObject({ code: 'BMAP_PARSE' });
  });

  it('reads a Node stream (async iterable)', async () => {
    const bmap = await parseBmap(createReadStream(`${BMAPTOOL_VECTORS}test.image.bmap.v1.3`, { highWaterMark: 100 }));
    expect(bmap.version).toBe('1.3');
  });

  it('reports each range as it is parsed, and can keep none', async () => {
    const seen: Array<[number, number, number]> = [];
    const bmap = await parseBmap(vector('test.image.bmap.v2.0'), {
      keepRanges: false,
      onRange: (r, i) => seen.push([i, r.first, r.last]),
    });
    expect([...bmap.ranges]).toEqual([]);
    expect(seen).toHaveLength(48);
    expect(seen[0]![0]).toBe(0);
    expect(seen[47]![0]).toBe(47);
  });

  it('can skip the file-checksum check when asked', async () => {
    const edited = text(vector('test.image.bmap.v2.0')).replace('<!-- Size of a block', '<!-- size of a block');
    await expect(parseBmap(edited)).rejects.toMatchObject({ code: 'BMAP_CHECKSUM' });
    expect((await parseBmap(edited, { verifyChecksum: false })).ranges).toHaveLength(48);
  });
});

describe('format versions (bmap-format.md §7)', () => {
  it.each([
    ['2.0', 'generic'],
    ['2.7', 'generic'],
    ['1.4', 'generic'],
    ['1.3', 'sha1'],
    ['1.2', 'legacy'],
    ['1.1', 'legacy'],
    ['1.0', 'legacy'],
    [' 2.0 ', 'generic'],
  ])('%s is read in %s mode', (v, mode) => expect(classifyVersion(v, 'x').mode).toBe(mode));

  const legacy = (version: string, attrs: string) =>
    `<?xml version="1.0"?>\n<bmap version="${version}">\n\t<ImageSize>8192</ImageSize>\n\t<BlockSize>4096</BlockSize>\n\t<BlocksCount>2</BlocksCount>\n\t<BlockMap>\n\t\t<Range${attrs}>1-1</Range>\n\t</BlockMap>\n\t<MappedBlocksCount>1</MappedBlocksCount>\n</bmap>\n`;

  it('reads a 1.0 file (MappedBlocksCount last, no checksums)', async () => {
    const b = await parseBmap(legacy('1.0', ''));
    expect(b).toMatchObject({ version: '1.0', blocksCount: 2, mappedBlocksCount: 1 });
    expect([...b.ranges]).toEqual([{ first: 1, last: 1 }]);
    expect(b.checksumType).toBeUndefined();
  });

  it('reads 1.1 sha1 range sums (which the reference ignores)', async () => {
    const sum = createHash('sha1').update('x').digest('hex');
    const b = await parseBmap(legacy('1.1', ` sha1="${sum.toUpperCase()}"`));
    expect(b.checksumType).toBe('sha1');
    expect(b.ranges.at(0)!.checksum).toBe(sum);
  });

  it('reads a 2.x minor above 0 as 2.0, ignoring unknown elements and attributes', async () => {
    const doc = reseal(
      text(vector('test.image.bmap.v2.0'))
        .replace('version="2.0"', 'version="2.7"')
        .replace('<BlockMap>', '<Compression algo="none"><Range> 1-1 </Range></Compression>\n    <BlockMap future="1">')
        .replace('<Range ', '<Range weight="3" '),
    );
    const b = await parseBmap(doc);
    expect(b.version).toBe('2.7');
    expect([...b.ranges]).toEqual([...(await parseBmap(vector('test.image.bmap.v2.0'))).ranges]);
  });

  it('refuses 1.5 to 1.x, which no tool ever wrote', async () => {
    const doc = text(vector('test.image.bmap.v1.2')).replace('version="1.2"', 'version="1.9"');
    await expect(parseBmap(doc)).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });
});

describe('a million ranges', () => {
  it('streams in bounded memory and checks everything', async () => {
    const N = 1_000_000;
    const sum = 'cd'.repeat(32);
    function* pieces(digest: string) {
      yield `<?xml version="1.0" ?>\n<bmap version="2.0">\n <ImageSize> ${N * 4 * 4096} </ImageSize>\n <BlockSize> 4096 </BlockSize>\n <BlocksCount> ${N * 4} </BlocksCount>\n <MappedBlocksCount> ${N * 2} </MappedBlocksCount>\n <ChecksumType> sha256 </ChecksumType>\n <BmapFileChecksum> ${digest} </BmapFileChecksum>\n <BlockMap>\n`;
      for (let i = 0; i < N; i += 10_000) {
        let s = '';
        for (let j = i; j < i + 10_000; j++) s += `  <Range chksum="${sum}"> ${j * 4}-${j * 4 + 1} </Range>\n`;
        yield s;
      }
      yield ' </BlockMap>\n</bmap>\n';
    }
    const hash = createHash('sha256');
    let size = 0;
    for (const p of pieces('0'.repeat(64))) {
      hash.update(p);
      size += p.length;
    }
    expect(size).toBeGreaterThan(100 * 2 ** 20);
    const it = pieces(hash.digest('hex'));
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        const n = it.next();
        if (n.done) c.close();
        else c.enqueue(encoder.encode(n.value));
      },
    });
    globalThis.gc?.();
    const base = process.memoryUsage().heapUsed;
    let peak = 0;
    let count = 0;
    const bmap = await parseBmap(stream, {
      keepRanges: false,
      onRange: () => {
        if (++count % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      },
    });
    expect(count).toBe(N);
    expect(bmap.mappedBlocksCount).toBe(N * 2);
    // The document is over 100 MiB; the parser's working set must not follow it.
    expect(peak).toBeLessThan(80 * 2 ** 20);
  }, 120_000);
});
