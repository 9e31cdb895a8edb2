import { createRequire } from 'node:module';
import * as zlib from 'node:zlib';
import type { DecoderPair } from './codec.js';
import { decompressError, truncatedError } from './errors.js';
import { duplexPair } from './node-stream-pair.js';

// In-process libraries, for when the addon's decoder cannot run (no addon, no
// libzstd.so.1 or liblzma.so.5, BMAPKIT_NO_NATIVE_DECODERS=1): tried before
// any external program. `pnpm bench codecs` measured them against the addon
// (README, "Dependencies and why"); they are the fallback, not the first
// choice, because they were slower there.

type ZstdFactory = (options: zlib.ZlibOptions & { params?: Record<number, number> }) => zlib.Gunzip;

/** zstd from node:zlib (Node >= 22.15, 23.8), or undefined on an older Node. */
export function nodeZstdDecoder(source: string): DecoderPair | undefined {
  const create = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  const windowLogMax = (zlib.constants as Record<string, number>)['ZSTD_d_windowLogMax'];
  if (create === undefined || windowLogMax === undefined) return undefined;
  // frames made with zstd --long=31 need a window of up to 2 GiB, as `zstd -d --long=31` accepts
  return duplexPair(create({ chunkSize: 256 << 10, params: { [windowLogMax]: 31 } }), (e) => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'Z_BUF_ERROR') return truncatedError('zstd', source, e);
    return decompressError('zstd', source, err.message, e);
  });
}

interface NapiXz {
  decompressStream(input: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
}

let napiXz: NapiXz | null | undefined;

/** @napi-rs/lzma's xz, loaded once: null where it is not installed or this Node is below its engines (^22.20 || ^24.12 || >=25; npm may install it elsewhere too, with a warning). */
function loadNapiXz(): NapiXz | null {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  if (!((major === 22 && minor >= 20) || (major === 24 && minor >= 12) || major >= 25)) return null;
  try {
    return createRequire(import.meta.url)('@napi-rs/lzma/xz') as NapiXz;
  } catch {
    return null;
  }
}

/** xz from @napi-rs/lzma (an optional dependency; installed on Node >= 22.20), or undefined where it is not installed. */
export function napiXzDecoder(source: string): DecoderPair | undefined {
  if (napiXz === undefined) napiXz = loadNapiXz();
  if (napiXz === null) return undefined;
  // the library reads its input later, from a queue: each chunk goes in as a
  // copy of its own, so that the caller may reuse its buffer once write() resolves
  const input = new TransformStream<Uint8Array, Uint8Array>({ transform: (chunk, c) => c.enqueue(chunk.slice()) });
  const decoded = napiXz.decompressStream(input.readable);
  const mapError = (e: unknown): Error => {
    const message = (e as Error)?.message ?? String(e);
    return /unexpected end|truncat|incomplete/i.test(message) ? truncatedError('xz', source, e) : decompressError('xz', source, message, e);
  };
  const reader = decoded.getReader();
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (e) {
          throw mapError(e);
        }
        if (next.done) c.close();
        else c.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { writable: input.writable, readable };
}
