import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDecoder } from '@bmapkit/native';
import { decompress } from '../src/index.js';
import { hasProgram as has, skipNote } from '../../../tools/test-needs.js';

// xz and zstd decode in process (libzstd.so.1 / liblzma.so.5 through the
// addon) when they can; these tests prove that path is the one taken (PATH is
// emptied, so no program could run) and that it is as strict as the programs.

let dir: string;
let image: Buffer;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const savedPath = process.env['PATH'];

/** 30 MiB + 100 KiB: random data, a 21 MiB run of zeros, text, zeros again, a ragged random tail. */
function makeImage(): Buffer {
  const b = Buffer.alloc((30 << 20) + 100_000);
  randomFillSync(b, 0, 3 << 20);
  b.write('bmapkit native decoder '.repeat(45000), 24 << 20);
  randomFillSync(b, 30 << 20);
  return b;
}

function sh(cmd: string): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

/**
 * How the compressed bytes reach the decoder: fed as the chunks of a stream,
 * or read by its thread from the file (decompress's `file`; the stream then
 * holds only the first 64 KiB, so the rest can only come from the file).
 */
type Input = 'fed' | 'file';

/** Decodes a file with `env` set meanwhile (restored after). */
async function decodeWith(path: string, env: Record<string, string>, how: Input = 'fed'): Promise<{ bytes: Buffer; chunks: Uint8Array[] }> {
  const whole = readFileSync(path);
  const input = new Blob([how === 'fed' ? whole : whole.subarray(0, 65536)]).stream() as ReadableStream<Uint8Array>;
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    const { stream } = await decompress(input, { name: path, ...(how === 'file' ? { file: path } : {}) });
    const chunks: Uint8Array[] = [];
    for await (const c of stream as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    return { bytes: Buffer.concat(chunks), chunks };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Decodes with no program reachable (PATH empty): only the in-process decoder can succeed. */
const decodeInProcess = (path: string, how: Input = 'fed') => decodeWith(path, { PATH: '' }, how);
/** Decodes through the program: the in-process decoder turned off. */
const decodeByProgram = (path: string) => decodeWith(path, { BMAPKIT_NO_NATIVE_DECODERS: '1' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-native-dec-'));
  image = makeImage();
  writeFileSync(join(dir, 'img'), image);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.env['PATH'] = savedPath;
});

const FORMATS: Array<{ kind: 'zstd' | 'xz' | 'gzip'; tool: string; variants: Array<[string, string, string]>; fallback: string }> = [
  {
    kind: 'zstd',
    tool: 'zstd',
    variants: [
      ['one frame', 'zstd -q -c img > img.zst', 'img.zst'],
      ['several frames', 'head -c 5000000 img | zstd -q -c > mf.zst && tail -c +5000001 img | zstd -q -19 -c >> mf.zst', 'mf.zst'],
      ['with a skippable frame first (pzstd)', "printf '\\120\\052\\115\\030\\004\\000\\000\\000abcd' > sk.zst && zstd -q -c img >> sk.zst", 'sk.zst'],
    ],
    fallback: 'zstd -q -c -T2 img > p.zstd',
  },
  {
    kind: 'xz',
    tool: 'xz',
    variants: [
      ['one block', 'xz -c img > img.xz', 'img.xz'],
      ['many blocks (xz -T2)', 'xz -c -T2 --block-size=1MiB img > mb.xz', 'mb.xz'],
      ['several streams', 'head -c 5000000 img | xz -c > ms.xz && tail -c +5000001 img | xz -c -T2 --block-size=2MiB >> ms.xz', 'ms.xz'],
    ],
    fallback: 'xz -q -c -T2 img > p.xz',
  },
  {
    kind: 'gzip',
    tool: 'gzip',
    variants: [
      ['one member', 'gzip -c img > img.gz', 'img.gz'],
      ['many members (pigz)', 'pigz -c -b 128 -p 2 img > pz.gz', 'pz.gz'],
      ['two members with zero padding after each (as gzip -d and node:zlib accept)', 'head -c 5000000 img | gzip -c > zp.gz && head -c 512 /dev/zero >> zp.gz && tail -c +5000001 img | gzip -1 -c >> zp.gz && head -c 100 /dev/zero >> zp.gz', 'zp.gz'],
    ],
    // without the addon's decoder gzip is node:zlib's, in process too
    fallback: 'gzip -c img > p.gzip',
  },
];

for (const { kind, tool, variants, fallback } of FORMATS) {
  const probe = openDecoder(kind);
  probe?.close();
  const available = has(tool) && probe !== undefined;
  if (!available) skipNote(`in-process ${kind}: ${has(tool) ? `the addon or the ${kind} library is not available` : `${tool} is not installed`}`);

  for (const how of ['fed', 'file'] as const)
  describe.skipIf(!available)(`in-process ${kind}, ${how === 'fed' ? 'fed chunks' : 'reading the file itself'}`, () => {
    for (const [label, cmd, file] of variants) {
      const needs = /^(pigz) /.exec(cmd)?.[1];
      const missing = needs === undefined || has(needs) ? undefined : `the ${label} ${kind} test: ${needs} is not installed`;
      if (how === 'fed') skipNote(missing);
      it.skipIf(missing !== undefined)(`${label}: byte-identical with no program on PATH`, async () => {
        sh(cmd);
        const { bytes } = await decodeInProcess(join(dir, file), how);
        expect(bytes.length).toBe(image.length);
        expect(sha(bytes)).toBe(sha(image));
      });
    }

    it('hands on a run of zeros as a few large shared views, and data as views that stay intact', async () => {
      sh(`${tool} -q -c img > z.${kind}`);
      const { chunks } = await decodeInProcess(join(dir, `z.${kind}`), how);
      const zeroViews = chunks.filter((c) => c.byteLength > 0 && c.every((b) => b === 0));
      const zeroBytes = zeroViews.reduce((n, c) => n + c.byteLength, 0);
      expect(zeroBytes).toBeGreaterThanOrEqual(21 << 20);
      // 21+ MiB of zeros in at most a dozen chunks (views of one shared 4 MiB buffer)
      expect(zeroViews.length).toBeLessThanOrEqual(12);
      expect(new Set(zeroViews.map((c) => c.buffer)).size).toBe(1);
      // every chunk of data still holds its bytes after the whole stream was read
      expect(sha(Buffer.concat(chunks))).toBe(sha(image));
    });

    for (const [where, cut] of [
      ['in the middle', (n: number) => Math.floor(n / 2)],
      ['just before the end', (n: number) => n - 3],
    ] as const) {
      it(`cut off ${where}: IMAGE_TRUNCATED naming the file, never a short image`, async () => {
        sh(`${tool} -q -c img > t.${kind}`);
        const whole = readFileSync(join(dir, `t.${kind}`));
        const path = join(dir, `cut.${kind}`);
        writeFileSync(path, whole.subarray(0, cut(whole.length)));
        await expect(decodeInProcess(path, how)).rejects.toMatchObject({
          code: expect.stringMatching(/^IMAGE_(TRUNCATED|DECOMPRESS)$/),
          message: expect.stringContaining(path),
        });
      });
    }

    it('corrupt data: IMAGE_DECOMPRESS naming the file', async () => {
      sh(`${tool} -q -c img > c.${kind}`);
      const data = readFileSync(join(dir, `c.${kind}`));
      for (let i = 5000; i < 5100; i++) data[i] = data[i]! ^ 0x55;
      const path = join(dir, `c2.${kind}`);
      writeFileSync(path, data);
      await expect(decodeInProcess(path, how)).rejects.toMatchObject({ code: 'IMAGE_DECOMPRESS', message: expect.stringContaining(`cannot decompress ${kind} image '${path}'`) });
    });

    if (kind === 'gzip') {
      it('bytes after a member that are neither padding nor a member: IMAGE_DECOMPRESS', async () => {
        sh('gzip -c img > g.gz && printf garbage >> g.gz');
        await expect(decodeInProcess(join(dir, 'g.gz'), how)).rejects.toMatchObject({ code: 'IMAGE_DECOMPRESS', message: expect.stringContaining("cannot decompress gzip image") });
      });
    }

    if (how === 'file') {
      it('a file that cannot be read: IMAGE_READ naming it, with the reason', async () => {
        sh(`${tool} -q -c img > r.${kind}`);
        const head = new Blob([readFileSync(join(dir, `r.${kind}`)).subarray(0, 65536)]).stream() as ReadableStream<Uint8Array>;
        // a directory opens for reading, but every read of it fails (EISDIR)
        const decodeAll = async () => {
          const { stream } = await decompress(head, { name: `r.${kind}`, file: dir });
          for await (const _ of stream as unknown as AsyncIterable<Uint8Array>) void _;
        };
        await expect(decodeAll()).rejects.toMatchObject({ code: 'IMAGE_READ', message: expect.stringMatching(new RegExp(`cannot read image 'r\\.${kind}': .*directory`, 'i')) });
      });
    }

    it('a reader that stops early cancels cleanly (no hang, no stray error)', async () => {
      sh(`${tool} -q -c img > s.${kind}`);
      const path = join(dir, `s.${kind}`);
      const { stream } = await decompress(new Blob([readFileSync(path)]).stream() as ReadableStream<Uint8Array>, { name: `s.${kind}`, ...(how === 'file' ? { file: path } : {}) });
      const reader = stream.getReader();
      const first = await reader.read();
      expect(first.done).toBe(false);
      await reader.cancel('enough');
    });
  });

  if (kind === 'zstd') {
    it.skipIf(!has('zstd'))('zstd --long frames (a window above the default 128 MiB limit) decode in process and through the program', async () => {
      // 2 x 70 MB of the same random bytes: the long-distance match needs a 256 MiB window
      sh("head -c 70000000 /dev/urandom > half && cat half half > long.raw && rm half && zstd -q -1 -T2 --long=28 long.raw -o long.zst");
      const want = sha(readFileSync(join(dir, 'long.raw')));
      rmSync(join(dir, 'long.raw'));
      // the plain program refuses such a frame: the limit is real
      expect(spawnSync('zstd', ['-dcq', join(dir, 'long.zst')], { stdio: ['ignore', 'ignore', 'pipe'] }).status).not.toBe(0);
      if (available) expect(sha((await decodeInProcess(join(dir, 'long.zst'))).bytes)).toBe(want);
      try {
        expect(sha((await decodeByProgram(join(dir, 'long.zst'))).bytes)).toBe(want);
      } finally {
        rmSync(join(dir, 'long.zst'));
      }
    });
  }

  describe.skipIf(!has(tool))(`${kind} without the addon's decoder (BMAPKIT_NO_NATIVE_DECODERS=1: ${kind === 'gzip' ? 'node:zlib' : 'the program'})`, () => {
    it('decodes the same bytes when the in-process decoder is turned off', async () => {
      sh(fallback);
      process.env['BMAPKIT_NO_NATIVE_DECODERS'] = '1';
      try {
        expect(openDecoder(kind)).toBeUndefined();
      } finally {
        delete process.env['BMAPKIT_NO_NATIVE_DECODERS'];
      }
      expect(sha((await decodeByProgram(join(dir, `p.${kind}`))).bytes)).toBe(sha(image));
    });
  });
}
