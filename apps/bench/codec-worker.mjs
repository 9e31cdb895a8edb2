// One timed decode for `pnpm bench codecs` (src/codec-bench.ts), run in the
// Node under test:  node codec-worker.mjs DECODER FILE LIBDIR
// Decodes FILE to the end, throwing the bytes away, and prints
// {"ms": decode time, "bytes": decoded bytes}. LIBDIR holds the libraries
// under comparison (fflate, @napi-rs/lzma), installed by the bench.
import { createReadStream, openSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { openDecoder } from '@bmapkit/native';

const [decoder, file, libdir] = process.argv.slice(2);
const lib = createRequire(`${libdir}/node_modules/`);
let bytes = 0;
const start = performance.now();

/** The addon: its own thread reads the file and decodes, as bmapkit copies a local image. */
function addon(kind, threads) {
  const d = openDecoder(kind, threads);
  if (d === undefined) throw new Error(`the addon has no ${kind} decoder here`);
  const fd = openSync(file, 'r');
  return new Promise((resolve, reject) => {
    const s = d.stream({ piece: 64 << 10, batch: 4 << 20, ahead: 32 << 20, zeroAhead: 256 << 20, skipZeros: 1 << 30, fd }, (batches) => {
      for (const b of batches) {
        if (b.error !== null) return reject(b.error);
        bytes += b.length + b.skipped;
        s.ack(b.data === null ? 0 : b.length, (b.data === null ? b.length : 0) + b.skipped);
        if (b.done !== 0) {
          d.close();
          closeSync(fd);
          return resolve();
        }
      }
    });
    s.hold(true);
  });
}

/** A Node Transform fed from the file. */
async function nodeStream(transform) {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }).pipe(transform)) bytes += chunk.length;
}

/** A WHATWG ReadableStream of the decoded bytes. */
async function web(readable) {
  for await (const chunk of readable) bytes += chunk.length;
}

/** fflate's streaming decoder (ondata callbacks), fed from the file. */
async function fflateStream(Decoder) {
  const d = new Decoder((chunk) => (bytes += chunk.length));
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) d.push(chunk, false);
  d.push(new Uint8Array(0), true);
}

const DECODERS = {
  'zstd:addon': () => addon('zstd', 1),
  'zstd:node:zlib': () => nodeStream(zlib.createZstdDecompress({ chunkSize: 256 << 10 })),
  'xz:addon': () => addon('xz', 2),
  'xz:@napi-rs/lzma': () => web(lib('@napi-rs/lzma/xz').decompressStream(Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })))),
  'gzip:addon': () => addon('gzip', 1),
  'gzip:node:zlib': () => nodeStream(zlib.createGunzip({ chunkSize: 256 << 10 })),
  'gzip:fflate': () => fflateStream(lib('fflate').Gunzip),
  'deflate:node:zlib': () => nodeStream(zlib.createInflateRaw({ chunkSize: 256 << 10 })),
  'deflate:fflate': () => fflateStream(lib('fflate').Inflate),
};
const run = DECODERS[decoder];
if (run === undefined) throw new Error(`unknown decoder ${decoder}`);
await run();
console.log(JSON.stringify({ ms: Math.round(performance.now() - start), bytes }));
