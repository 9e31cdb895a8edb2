import { createInflateRaw, type InflateRaw } from 'node:zlib';
import { BmapkitError } from '@bmapkit/bmap-format';
import { ByteQueue } from '../byte-queue.js';
import { startsWith, type Codec, type DecoderOptions, type DecoderPair } from '../codec.js';
import { decompressError, truncatedError } from '../errors.js';

const LOCAL = [0x50, 0x4b, 0x03, 0x04];
const utf8 = new TextDecoder();

interface Member {
  name: string;
  method: number;
  flags: number;
  /** Compressed size, or undefined when a data descriptor follows (flag bit 3) and the local header says 0. */
  size: number | undefined;
}

/**
 * zip: the first file member, streamed (stored or deflate, ZIP64 sizes),
 * like funzip; directories before it are skipped, and a warning names the
 * next member if there are more.
 */
export const zip: Codec = {
  name: 'zip',
  extensions: ['.zip'],
  sniffBytes: 4,
  sniff: (head) => startsWith(head, LOCAL),
  decoder: (options) => zipExtractor(options),
};

function zipExtractor(options: DecoderOptions): DecoderPair {
  const q = new ByteQueue();
  let member: Member | undefined;
  let image: string | undefined;
  let remaining = 0;
  let inflater: InflateRaw | undefined;
  let inflaterDone: Promise<void> | undefined;
  let inflateEnded = false;
  let done = false;
  let warned = false;
  const fail: (why: string) => never = (why) => {
    throw new BmapkitError('IMAGE_DECOMPRESS', `cannot read zip archive '${options.source}': ${why}; the archive is damaged or not a zip file`);
  };

  const parseHeader = (): Member | 'wait' | 'none' => {
    if (q.length < 30) return 'wait';
    const h = q.peek(30);
    if (!startsWith(h, LOCAL)) return 'none';
    const v = new DataView(h.buffer, h.byteOffset, 30);
    const nameLen = v.getUint16(26, true);
    const extraLen = v.getUint16(28, true);
    if (q.length < 30 + nameLen + extraLen) return 'wait';
    const all = q.take(30 + nameLen + extraLen);
    const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
    const flags = dv.getUint16(6, true);
    const method = dv.getUint16(8, true);
    let size: number | undefined = dv.getUint32(18, true);
    const name = utf8.decode(all.subarray(30, 30 + nameLen));
    if (size === 0xffffffff) {
      // ZIP64: the real sizes are in extra field 0x0001 (uncompressed, then compressed)
      let o = 30 + nameLen;
      size = undefined;
      while (o + 4 <= all.length) {
        const id = dv.getUint16(o, true);
        const len = dv.getUint16(o + 2, true);
        if (id === 0x0001 && len >= 16) size = Number(dv.getBigUint64(o + 12, true));
        o += 4 + len;
      }
      if (size === undefined) fail(`member '${name}' has ZIP64 sizes but no ZIP64 field`);
    }
    if ((flags & 0x8) !== 0 && size === 0) size = undefined;
    if ((flags & 0x1) !== 0) fail(`member '${name}' is encrypted`);
    if (method !== 0 && method !== 8) fail(`member '${name}' uses compression method ${method}; only stored and deflate are supported`);
    if (method === 0 && size === undefined) fail(`stored member '${name}' has no size in its header`);
    return { name, method, flags, size };
  };

  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, controller) {
      q.push(chunk);
      for (;;) {
        if (done) {
          if (!warned && q.length >= 30) {
            warned = true;
            const next = parseHeader();
            if (typeof next === 'object') options.onWarning?.(`zip archive '${options.source}' has more members ('${next.name}', ...); only the first file, '${image}', was copied`);
          }
          q.takeUpTo(q.length);
          return;
        }
        if (member === undefined) {
          const m = parseHeader();
          if (m === 'wait') return;
          if (m === 'none') fail('no local file header where one was expected');
          if (m.name.endsWith('/') && (m.size ?? 0) === 0) continue; // a directory entry
          member = m;
          image = m.name;
          remaining = m.size ?? Number.POSITIVE_INFINITY;
          if (m.method === 8) {
            const inf = createInflateRaw({ chunkSize: 256 << 10 });
            inflater = inf;
            inf.on('data', (d: Buffer) => {
              try {
                controller.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
              } catch {
                inf.destroy(); // the consumer has gone away (its error is reported by the pipe)
              }
            });
            inflaterDone = new Promise((resolve, reject) => {
              inf.on('end', () => {
                inflateEnded = true;
                resolve();
              });
              inf.on('error', (e) => reject(decompressError('zip', options.source, e.message, e)));
            });
          }
        }
        const parts = q.takeUpTo(remaining);
        if (parts.length === 0) return;
        for (const p of parts) {
          remaining -= p.byteLength;
          if (inflater === undefined) controller.enqueue(p);
          else if (!inflateEnded) await new Promise<void>((resolve) => inflater!.write(p, () => resolve()));
        }
        // a member with a data descriptor ends where its deflate stream ends
        if (remaining === 0 || inflateEnded) {
          if (inflater !== undefined) {
            inflater.end();
            await inflaterDone;
          }
          done = true;
        }
      }
    },
    async flush() {
      if (member === undefined) fail('it has no file member to copy');
      if (!done) {
        if (inflater !== undefined && remaining === Number.POSITIVE_INFINITY) {
          inflater.end();
          try {
            await inflaterDone;
            return;
          } catch (e) {
            throw truncatedError('zip', options.source, e);
          }
        }
        throw truncatedError('zip', options.source);
      }
    },
  });
}
