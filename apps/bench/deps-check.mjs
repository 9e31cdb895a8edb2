// The two measurements behind "Dependencies and why" that are not decoders:
//   node apps/bench/deps-check.mjs LIBDIR     (LIBDIR: the codec-libs folder `pnpm bench codecs` installs)
// 1. web-streams-polyfill against Node's own WHATWG streams: 1 GiB in 64 KiB
//    chunks through a TransformStream, and whether the two interoperate.
// 2. xmlbuilder2 against serializeBmap: 200,000 ranges.
import { createRequire } from 'node:module';
import { serializeBmap } from '@bmapkit/bmap-format';

const lib = createRequire(`${process.argv[2]}/node_modules/`);
const polyfill = lib('web-streams-polyfill');

async function pipe({ ReadableStream, TransformStream, WritableStream }) {
  const chunk = new Uint8Array(65536);
  let n = 0;
  const t = performance.now();
  await new ReadableStream({ pull: (c) => (n++ < 16384 ? c.enqueue(chunk) : c.close()) }, { highWaterMark: 4 })
    .pipeThrough(new TransformStream({ transform: (c, ctl) => ctl.enqueue(c) }))
    .pipeTo(new WritableStream({ write() {} }));
  return Math.round(performance.now() - t);
}
for (let i = 0; i < 3; i++) console.log(`1 GiB through a TransformStream: native ${await pipe(globalThis)} ms, web-streams-polyfill ${await pipe(polyfill)} ms`);
try {
  await new Response(new Uint8Array(10)).body.pipeTo(new polyfill.WritableStream({ write() {} }));
  console.log('a fetch body piped into a polyfill WritableStream: works');
} catch (e) {
  console.log(`a fetch body piped into a polyfill WritableStream: ${e.message}`);
}

const { create } = lib('xmlbuilder2');
const N = 200_000;
const ranges = Array.from({ length: N }, (_, i) => ({ first: i * 4, last: i * 4 + 1, checksum: 'ab'.repeat(32) }));
const bmap = { version: '2.0', imageSize: N * 16384, blockSize: 4096, blocksCount: N * 4, mappedBlocksCount: N * 2, checksumType: 'sha256', ranges };
let t = performance.now();
serializeBmap(bmap);
const ours = performance.now() - t;
t = performance.now();
const doc = create({ version: '1.0' }).ele('bmap', { version: '2.0' });
for (const [k, v] of [['ImageSize', bmap.imageSize], ['BlockSize', 4096], ['BlocksCount', bmap.blocksCount], ['MappedBlocksCount', bmap.mappedBlocksCount], ['ChecksumType', 'sha256'], ['BmapFileChecksum', '0'.repeat(64)]]) doc.ele(k).txt(` ${v} `);
const map = doc.ele('BlockMap');
for (const r of ranges) map.ele('Range', { chksum: r.checksum }).txt(` ${r.first}-${r.last} `);
doc.end({ prettyPrint: true });
console.log(`${N} ranges: serializeBmap ${Math.round(ours)} ms; xmlbuilder2 ${Math.round(performance.now() - t)} ms, heap then ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);
