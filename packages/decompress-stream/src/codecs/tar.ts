import { BmapkitError, concatBytes } from '@bmapkit/bmap-format';
import { ByteQueue } from '../byte-queue.js';
import type { DecoderOptions, DecoderPair } from '../codec.js';

const BLOCK = 512;
const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder();

/** True if a 512-byte header carries the ustar magic (POSIX "ustar\0" or GNU "ustar  "). */
export function isTarHeader(head: Uint8Array): boolean {
  return head.length >= 263 && latin1.decode(head.subarray(257, 262)) === 'ustar';
}

interface Entry {
  name: string;
  size: number;
  type: string;
}

/**
 * Extracts the first regular-file member of a tar stream (the image) and
 * streams its bytes; other members are skipped, directories and links too,
 * and named in one warning at the end. Reads to the end of the archive.
 * Understands ustar, GNU long names ('L') and PAX headers ('x', for long
 * names and sizes over 8 GiB); sizes in octal or GNU base-256.
 */
export function tarExtractor(options: DecoderOptions): DecoderPair {
  const q = new ByteQueue();
  let pending: { remaining: number; pad: number; emit: boolean; collect?: Uint8Array[] } | undefined;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let collectingFor: 'pax' | 'longname' | undefined;
  let image: string | undefined;
  const others: string[] = [];
  let ended = false;
  let offset = 0;

  const fail: (why: string) => never = (why) => {
    throw new BmapkitError('IMAGE_DECOMPRESS', `cannot read tar archive '${options.source}': ${why} (at byte ${offset}); the archive is damaged or not a tar file`);
  };

  const header = (h: Uint8Array): Entry | 'end' => {
    if (h.every((b) => b === 0)) return 'end';
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = parseOctal(h.subarray(148, 156));
    if (stored !== sum) fail('header checksum mismatch');
    const field = (a: number, b: number) => utf8.decode(h.subarray(a, b)).replace(/\0.*$/s, '');
    const prefix = isTarHeader(h) ? field(345, 500) : '';
    const name = pax['path'] ?? longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const size = pax['size'] !== undefined ? Number(pax['size']) : parseSize(h.subarray(124, 136));
    if (!Number.isSafeInteger(size) || size < 0) fail('bad member size');
    const type = String.fromCharCode(h[156]!) === '\0' ? '0' : String.fromCharCode(h[156]!);
    return { name, size, type };
  };

  const readable = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      q.push(chunk);
      for (;;) {
        if (pending !== undefined) {
          if (pending.remaining > 0) {
            const parts = q.takeUpTo(pending.remaining);
            for (const p of parts) {
              pending.remaining -= p.byteLength;
              offset += p.byteLength;
              if (pending.emit) controller.enqueue(p);
              else if (pending.collect) pending.collect.push(p.slice());
            }
            if (pending.remaining > 0) return;
          }
          if (q.length < pending.pad) return;
          q.take(pending.pad);
          offset += pending.pad;
          if (pending.collect) finishCollect(pending.collect);
          pending = undefined;
        }
        if (ended) {
          q.takeUpTo(q.length); // zero blocks after the end marker
          return;
        }
        if (q.length < BLOCK) return;
        const h = q.take(BLOCK);
        offset += BLOCK;
        const e = header(h);
        if (e === 'end') {
          ended = true;
          continue;
        }
        const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
        if (e.type === 'x' || e.type === 'L') {
          collectingFor = e.type === 'x' ? 'pax' : 'longname';
          pending = { remaining: e.size, pad, emit: false, collect: [] };
          continue;
        }
        const isFile = e.type === '0' || e.type === '7';
        const emit = isFile && image === undefined;
        if (emit) image = e.name;
        else if (isFile) others.push(e.name);
        pax = {};
        longName = undefined;
        pending = { remaining: e.size, pad, emit };
      }
    },
    flush() {
      if (pending !== undefined && (pending.remaining > 0 || q.length < pending.pad)) {
        throw new BmapkitError('IMAGE_TRUNCATED', `tar archive '${options.source}' is truncated inside member '${image ?? '?'}'; copy or download it again`);
      }
      if (image === undefined) fail('it has no regular file member to copy');
      if (others.length > 0) {
        const shown = others.slice(0, 5).map((n) => `'${n}'`).join(', ');
        options.onWarning?.(
          `tar archive '${options.source}' has ${others.length} more file member${others.length > 1 ? 's' : ''} (${shown}${others.length > 5 ? ', ...' : ''}); only the first, '${image}', was copied`,
        );
      }
    },
  });

  function finishCollect(parts: Uint8Array[]): void {
    const text = utf8.decode(concatBytes(parts));
    if (collectingFor === 'longname') longName = text.replace(/\0.*$/s, '');
    else pax = parsePax(text);
    collectingFor = undefined;
  }

  return readable;
}

function parseOctal(field: Uint8Array): number {
  const s = latin1.decode(field).replace(/[\0 ]+$/, '').trim();
  return s === '' ? 0 : parseInt(s, 8);
}

/** Octal, or GNU base-256 (high bit set) for sizes of 8 GiB and more. */
function parseSize(field: Uint8Array): number {
  if ((field[0]! & 0x80) !== 0) {
    let n = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  return parseOctal(field);
}

/** PAX records: "<len> <key>=<value>\n". */
function parsePax(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
