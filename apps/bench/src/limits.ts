// The machine's limits for one copy, each part alone (pnpm bench copy prints
// them beside the tools): `node dist/limits.js decode IMAGE` runs the
// decompress stage alone, its output thrown away; `node dist/limits.js hash
// BMAP IMAGE` hashes the mapped bytes where they lie; `node dist/limits.js write BMAP DEV` writes
// the mapped bytes to DEV from memory, with nothing else (no read, no hash,
// no decoder). Options for write: --direct (O_DIRECT, the default for a block
// device), --buffered, --size BYTES per write (default 4 MiB), --depth N
// writes in flight (default 2).
import { open, readFile } from 'node:fs/promises';
import { constants, existsSync, statSync } from 'node:fs';
import { parseBmap, rangeByteSpan, type Bmap } from '@bmapkit/bmap-format';
import { alignedBuffer } from '@bmapkit/native';
import { rangeDigests } from '@bmapkit/verifier';
import { decompress } from '@bmapkit/decompress-stream';
import { openImage } from '@bmapkit/extent-source';

const args = process.argv.slice(2);
if (args[0] === 'decode' && args[1] !== undefined) {
  await decodeAlone(args[1]);
  process.exit(0);
}
const [mode, bmapPath, target, ...rest] = args;
const flag = (name: string) => rest.includes(`--${name}`);
const value = (name: string, dflt: number) => {
  const i = rest.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(rest[i + 1]);
};
if ((mode !== 'hash' && mode !== 'write') || target === undefined) {
  process.stderr.write('usage: limits decode IMAGE | limits hash BMAP IMAGE | limits write BMAP DEV [--direct|--buffered] [--size BYTES] [--depth N]\n');
  process.exit(2);
}
const bmap = await parseBmap(await readFile(bmapPath!));

if (mode === 'hash') {
  // the verifier's native engine: the mapped bytes hashed in place on the pool, no copy
  for await (const _ of rangeDigests(target, bmap, { engine: 'native' }));
} else {
  await writeMapped(bmap, target);
}

async function writeMapped(b: Bmap, dev: string): Promise<void> {
  const block = existsSync(dev) && statSync(dev).isBlockDevice();
  const direct = flag('buffered') ? false : flag('direct') || block;
  const size = value('size', 4 << 20);
  const depth = value('depth', 2);
  // a regular file is written as a copy writes one: truncated, then only the mapped bytes
  const fh = await open(dev, constants.O_WRONLY | (direct ? constants.O_DIRECT : 0) | (block ? 0 : constants.O_CREAT | constants.O_TRUNC), 0o644);
  try {
    const bufs = Array.from({ length: depth }, (_, i) => alignedBuffer(size, 4096).fill(0x5a + i));
    const inFlight = new Set<Promise<void>>();
    let next = 0;
    for (const r of b.ranges) {
      const { start, end } = rangeByteSpan(r, b);
      for (let at = start; at < end; at += size) {
        // the last piece is rounded up to the sector for O_DIRECT (what a direct writer writes)
        const len = direct ? Math.ceil(Math.min(size, end - at) / 4096) * 4096 : Math.min(size, end - at);
        const buf = bufs[next++ % depth]!.subarray(0, len);
        const p: Promise<void> = fh.write(buf, 0, len, at).then(() => void inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= depth) await Promise.race(inFlight);
      }
    }
    await Promise.all(inFlight);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The decompress stage alone, as a copy runs it (the codec may read the file itself); the bytes go nowhere. */
async function decodeAlone(image: string): Promise<void> {
  const source = await openImage(image);
  const { stream } = await decompress(source.stream(), { name: image, file: image });
  const reader = stream.getReader();
  while (!(await reader.read()).done);
}
