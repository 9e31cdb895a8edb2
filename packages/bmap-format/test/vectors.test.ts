import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseBmap, verifyBmapChecksum, BmapkitError } from '../src/index.js';
import { BLOCKMAP_VECTORS, REFERENCE_VECTORS, bytes, text, vector } from './helpers.js';
import { declaredFileChecksum } from '../../../tools/own-vectors.js';

const VERSIONS = [
  { file: 'test.image.bmap.v1.2', version: '1.2', checksumType: 'sha1', fileChecksum: undefined },
  { file: 'test.image.bmap.v1.3', version: '1.3', checksumType: 'sha1', fileChecksum: 'e235f7cd0c6b8c07a2e6f2538510fb763e7790a6' },
  { file: 'test.image.bmap.v1.4', version: '1.4', checksumType: 'sha256', fileChecksum: '4310fd457a88d307abeeb593a7888e1fa3cae0cfc01d905158967c904c5375e5' },
  { file: 'test.image.bmap.v2.0', version: '2.0', checksumType: 'sha256', fileChecksum: 'd9cf7d44790d04fcbb089c5eeec7700e9233439ab6e4bd759035906e20f90070' },
];

/** The file checksum a vector declares: bmaptool's known values, or whatever the project's stand-in (tools/own-vectors.js) says. */
function declared(v: (typeof VERSIONS)[number]): string | undefined {
  if (REFERENCE_VECTORS || v.fileChecksum === undefined) return v.fileChecksum;
  return declaredFileChecksum(text(vector(v.file)));
}

describe(REFERENCE_VECTORS ? 'bmaptool compatibility vectors' : "the project's stand-ins for the bmaptool vectors (../shared is not here)", () => {
  for (const v of VERSIONS) {
    describe(v.file, () => {
      it('parses with the expected geometry and checksum type', async () => {
        const bmap = await parseBmap(vector(v.file), { source: v.file });
        expect(bmap.version).toBe(v.version);
        expect(bmap.imageSize).toBe(821752);
        expect(bmap.blockSize).toBe(4096);
        expect(bmap.blocksCount).toBe(201);
        expect(bmap.mappedBlocksCount).toBe(117);
        expect(bmap.ranges).toHaveLength(48);
        expect(bmap.checksumType).toBe(v.checksumType);
        expect(bmap.fileChecksum).toBe(declared(v));
        const hexLen = v.checksumType === 'sha1' ? 40 : 64;
        for (const r of bmap.ranges) expect(r.checksum).toMatch(new RegExp(`^[0-9a-f]{${hexLen}}$`));
        expect([...bmap.ranges].reduce((n, r) => n + r.last - r.first + 1, 0)).toBe(117);
      });

      it('gives the same ranges from a stream fed one byte at a time', async () => {
        const data = vector(v.file);
        const whole = await parseBmap(data);
        let i = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(c) {
            if (i < data.length) c.enqueue(data.subarray(i, ++i));
            else c.close();
          },
        });
        expect(await parseBmap(stream)).toEqual(whole);
      });

      if (v.fileChecksum !== undefined) {
        it('has a file checksum that verifies', async () => {
          const r = await verifyBmapChecksum(vector(v.file));
          expect(r).toMatchObject({ ok: true, expected: declared(v), actual: declared(v) });
        });

        it('fails the file checksum after a one-byte change anywhere', async () => {
          const data = vector(v.file);
          // every 97th byte, plus the first and last: comments, whitespace, values, digits
          const positions = [0, data.length - 1];
          for (let p = 1; p < data.length - 1; p += 97) positions.push(p);
          for (const p of positions) {
            const copy = Uint8Array.from(data);
            copy[p] = copy[p] === 0x20 ? 0x09 : copy[p] === 0x30 ? 0x31 : 0x20;
            let verdict: string;
            try {
              const r = await verifyBmapChecksum(copy);
              verdict = r === null ? 'no checksum' : r.ok ? 'ok' : 'mismatch';
            } catch (e) {
              verdict = (e as BmapkitError).code; // a change can also break the XML itself
            }
            expect(verdict, `byte ${p} changed`).not.toBe('ok');
            await expect(parseBmap(copy), `byte ${p} changed`).rejects.toBeInstanceOf(BmapkitError);
          }
        });
      } else {
        it('has no file checksum to verify (format 1.2)', async () => {
          expect(await verifyBmapChecksum(vector(v.file))).toBeNull();
        });
      }
    });
  }

  it('reads the v1.4 and v2.0 files as the same map', async () => {
    const a = await parseBmap(vector('test.image.bmap.v1.4'));
    const b = await parseBmap(vector('test.image.bmap.v2.0'));
    expect([...a.ranges]).toEqual([...b.ranges]);
  });

  it('reads v1.2 and v1.3 sha1 sums as the same ranges and digests', async () => {
    const a = await parseBmap(vector('test.image.bmap.v1.2'));
    const b = await parseBmap(vector('test.image.bmap.v1.3'));
    expect([...a.ranges]).toEqual([...b.ranges]);
  });

  it('accepts a UTF-8 BOM and CRLF line endings only where the checksum allows', async () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, ...vector('test.image.bmap.v1.2')]);
    expect((await parseBmap(withBom)).ranges).toHaveLength(48);
    const crlf = bytes(text(vector('test.image.bmap.v1.2')).replace(/\n/g, '\r\n'));
    expect((await parseBmap(crlf)).ranges).toHaveLength(48);
    // for a checksummed format, any such change breaks the file checksum
    const crlf2 = bytes(text(vector('test.image.bmap.v2.0')).replace(/\n/g, '\r\n'));
    await expect(parseBmap(crlf2)).rejects.toMatchObject({ code: 'BMAP_CHECKSUM' });
  });
});

describe('blockmap vectors', () => {
  for (const ver of ['1.2', '1.3', '1.4', '2.0']) {
    it(`version-${ver}.bmap parses to the same ranges as bmaptool's`, async () => {
      const bmap = await parseBmap(readFileSync(`${BLOCKMAP_VECTORS}version-${ver}.bmap`));
      const ref = await parseBmap(vector(`test.image.bmap.v${ver}`));
      expect([...bmap.ranges]).toEqual([...ref.ranges]);
    });
  }

  for (const ver of ['1.3', '1.4', '2.0']) {
    it(`invalid/file-checksum/version-${ver}.bmap is rejected with BMAP_CHECKSUM`, async () => {
      const file = `${BLOCKMAP_VECTORS}invalid/file-checksum/version-${ver}.bmap`;
      await expect(parseBmap(readFileSync(file), { source: file })).rejects.toMatchObject({
        code: 'BMAP_CHECKSUM',
        message: expect.stringContaining(`checksum mismatch for bmap file '${file}'`),
      });
      expect((await verifyBmapChecksum(readFileSync(file)))?.ok).toBe(false);
    });
  }

  // Their broken digests start with an 'X': a strict reader refuses them while
  // parsing, naming the first bad range, before any destination is opened.
  for (const ver of ['1.2', '1.3', '1.4', '2.0']) {
    for (const [kind, first] of [['version', '119-133'], ['multiple', '15-18']] as const) {
      it(`invalid/range/${kind}-${ver}.bmap is refused, naming range ${first}`, async () => {
        const file = `${BLOCKMAP_VECTORS}invalid/range/${kind}-${ver}.bmap`;
        await expect(parseBmap(readFileSync(file), { source: file })).rejects.toMatchObject({
          code: 'BMAP_PARSE',
          message: expect.stringMatching(new RegExp(`^bmap file '.*${kind}-${ver}.bmap': line \\d+: range '${first}': (sha1|chksum)="X[0-9a-f]+" is not a hex digest$`)),
        });
      });
    }
  }
});
