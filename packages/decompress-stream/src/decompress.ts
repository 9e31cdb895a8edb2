import { BmapkitError } from '@bmapkit/bmap-format';
import type { Codec } from './codec.js';
import { defaultRegistry, type CodecRegistry } from './registry.js';
import { isTarHeader, tarExtractor } from './codecs/tar.js';

export interface DetectedFormat {
  /** The compression codec, or undefined for raw data. */
  codec: Codec | undefined;
  /** The image is the first file member of a tar archive (inside the compression, if any). */
  tar: boolean;
  /** "gzip", "xz+tar", "tar", or "raw". */
  label: string;
}

export interface DecompressOptions {
  /** How the input is named (a path, URL path or "-"); its ending is the fallback clue. */
  name: string;
  registry?: CodecRegistry;
  /** Told about archive members that are not copied, and the like. */
  onWarning?: (message: string) => void;
  /**
   * The input is this local regular file, read from its start: a codec
   * that can read it itself does (and the input stream is cancelled).
   */
  file?: string;
}

export interface Decompressed {
  /** The decoded bytes (the input itself when it is not compressed). */
  stream: ReadableStream<Uint8Array>;
  format: DetectedFormat;
}

/**
 * Detects the compression of a byte stream by its magic bytes first and by
 * its name second, and decodes it. Compressed content is decoded whatever
 * its name (stdin, signed URLs); a name that promises a format the content
 * does not have is an error, not a raw copy.
 */
export async function decompress(input: ReadableStream<Uint8Array>, options: DecompressOptions): Promise<Decompressed> {
  const registry = options.registry ?? defaultRegistry();
  const { head, stream } = await peek(input, Math.max(registry.sniffBytes, TAR_HEADER));
  const named = registry.byName(options.name);
  // content first; a format that has no magic bytes can only go by its name
  const magic = registry.byMagic(head) ?? (named !== undefined && named.codec.sniff === undefined ? named.codec : undefined);
  const namedTar = named?.tar === true || options.name.toLowerCase().endsWith('.tar');
  if (magic === undefined && named !== undefined) {
    throw new BmapkitError(
      'IMAGE_FORMAT',
      `image '${options.name}' is named like a ${named.codec.name} file but its content is not ${named.codec.name} data` +
        `${head.length === 0 ? ' (it is empty)' : ''}; check that it is the right file, or rename it`,
      { details: { name: options.name, expected: named.codec.name } },
    );
  }
  const decoded = magic === undefined ? stream : await decoderFor(magic, stream, options);
  // tar inside: found by its magic after decoding; plain data counts as tar only when also named so
  const inner = magic === undefined ? { head, stream: decoded } : magic.name === 'zip' ? undefined : await peek(decoded, TAR_HEADER);
  const tar = inner !== undefined && isTarHeader(inner.head) && (magic !== undefined || namedTar);
  if (namedTar && !tar && magic?.name !== 'zip') {
    throw new BmapkitError('IMAGE_FORMAT', `image '${options.name}' is named like a tar archive but ${magic ? `its ${magic.name} content` : 'it'} is not one; check that it is the right file`);
  }
  const out = inner === undefined ? decoded : tar ? inner.stream.pipeThrough(tarExtractor({ source: options.name, onWarning: options.onWarning })) : inner.stream;
  const label = [magic?.name, tar ? 'tar' : undefined].filter(Boolean).join('+') || 'raw';
  return { stream: out, format: { codec: magic, tar, label } };
}

const TAR_HEADER = 512;

/** The codec decodes the file itself where it can (options.file), else the stream passes through its decoder. */
async function decoderFor(codec: Codec, stream: ReadableStream<Uint8Array>, options: DecompressOptions): Promise<ReadableStream<Uint8Array>> {
  const direct = options.file === undefined ? undefined : codec.fileDecoder?.({ source: options.name, onWarning: options.onWarning, path: options.file });
  if (direct === undefined) return stream.pipeThrough(codec.decoder({ source: options.name, onWarning: options.onWarning }));
  await stream.cancel();
  return direct;
}

/**
 * Reads at least `n` bytes (or to the end) without losing them: returns
 * them and a stream that yields everything from the start.
 */
export async function peek(input: ReadableStream<Uint8Array>, n: number): Promise<{ head: Uint8Array; stream: ReadableStream<Uint8Array> }> {
  const reader = input.getReader();
  const parts: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await reader.read();
    if (r.done) {
      done = true;
      break;
    }
    parts.push(r.value);
    have += r.value.byteLength;
  }
  const head = new Uint8Array(have);
  let o = 0;
  for (const p of parts) {
    head.set(p, o);
    o += p.byteLength;
  }
  let replayed = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!replayed) {
          replayed = true;
          for (const p of parts) controller.enqueue(p);
          if (done) controller.close();
          return;
        }
        const r = await reader.read();
        if (r.done) controller.close();
        else controller.enqueue(r.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return { head, stream };
}
