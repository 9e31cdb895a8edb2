import type { Bmap } from './types.js';
import { BmapScanner, type FileChecksumResult, type ParseOptions, type ScanResult } from './scanner.js';

export type BmapInput = Uint8Array | string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * A WritableStream that parses the bmap bytes written to it; `result`
 * resolves with the validated Bmap when the stream closes (or rejects with a
 * BmapkitError). Memory is bounded by the ranges kept (none with
 * `keepRanges: false`), never by the file's size.
 */
export class BmapParserStream extends WritableStream<Uint8Array> {
  readonly result: Promise<Bmap>;

  constructor(options: ParseOptions = {}) {
    const scanner = new BmapScanner(options);
    let resolve!: (b: Bmap) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<Bmap>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    result.catch(() => undefined); // the caller may only await the pipe
    super({
      write(chunk) {
        try {
          scanner.write(chunk);
        } catch (e) {
          reject(e);
          throw e;
        }
      },
      close() {
        try {
          resolve(scanner.finish().bmap);
        } catch (e) {
          reject(e);
          throw e;
        }
      },
      abort(reason) {
        reject(reason);
      },
    });
    this.result = result;
  }
}

/**
 * Parses and fully validates a bmap of any version (1.0-2.x), verifying its
 * file checksum unless `verifyChecksum: false`. Accepts bytes, a string, a
 * WHATWG ReadableStream or any async iterable of bytes (a Node stream).
 * Clearsigned bmaps are read through their signed text (the signature itself
 * is not checked here).
 */
export async function parseBmap(input: BmapInput, options: ParseOptions = {}): Promise<Bmap> {
  return (await scanBmap(input, options)).bmap;
}

/** parseBmap, plus the outcome of the file-checksum check (null where the format has none). */
export async function scanBmap(input: BmapInput, options: ParseOptions = {}): Promise<ScanResult> {
  return scan(input, new BmapScanner(options));
}

/**
 * Verifies the bmap file's own checksum (BmapFileChecksum or BmapFileSHA1)
 * by the procedure of bmap-format.md §6.4, without judging its ranges.
 * Returns null for formats that carry no file checksum (1.0-1.2).
 */
export async function verifyBmapChecksum(
  input: BmapInput,
  options: Pick<ParseOptions, 'source' | 'maxBytes' | 'maxTokenBytes'> = {},
): Promise<FileChecksumResult | null> {
  return (await scan(input, new BmapScanner({ ...options, verifyChecksum: true, keepRanges: false }, true)))
    .fileChecksum;
}

async function scan(input: BmapInput, scanner: BmapScanner): Promise<ScanResult> {
  if (typeof input === 'string') {
    scanner.write(new TextEncoder().encode(input));
  } else if (input instanceof Uint8Array) {
    scanner.write(input);
  } else if (input instanceof ReadableStream) {
    const reader = input.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        scanner.write(value);
      }
    } catch (e) {
      await reader.cancel(e).catch(() => undefined);
      throw e;
    }
  } else {
    for await (const chunk of input) scanner.write(chunk);
  }
  return scanner.finish();
}
