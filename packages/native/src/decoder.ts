import { load } from './index.js';

export type DecoderKind = 'zstd' | 'xz';

export interface DecodeResult {
  /** Where the next call continues in the input. */
  inPos: number;
  /** Bytes of output written (from 0). */
  outPos: number;
  /** With `finish`: the data ended and everything is out; do not call again. */
  ended: boolean;
  /** The last call that moved anything ended a frame (zstd); false at the end of input means cut off. */
  lastEnd: boolean;
  /** Anything was consumed or produced. */
  progress: boolean;
  /** zero[i] is 1 when output piece i is all zeros. */
  zero: Uint8Array;
}

/**
 * A zstd or xz decoder running on the system's libzstd.so.1 or liblzma.so.5
 * (opened on first use; nothing is linked at build time). Each run decodes
 * on a libuv pool thread, so the event loop keeps writing and hashing.
 */
export interface NativeDecoder {
  /**
   * Decodes input[inPos..] into output (from 0) until the output is full,
   * the input is used up, or (finish: no more input will come) the data
   * ends, and says which `piece`-sized parts of the output are all zeros.
   * Neither buffer may be touched until the promise settles. Corrupt input
   * rejects with an Error whose code is 'EDATA' ('ETRUNC' when xz sees it
   * cut off, 'ENOMEM' when the library runs out of memory).
   */
  run(input: Uint8Array | null, inPos: number, output: Uint8Array, piece: number, finish: boolean): Promise<DecodeResult>;
  /** Frees the decoder (after the run in progress, if any). */
  close(): void;
}

/**
 * A native decoder, or undefined when the addon or the library is not
 * available (the caller then uses another decoder). `threads` applies to xz:
 * files with several blocks (xz -T) decode on that many threads.
 * BMAPKIT_NO_NATIVE_DECODERS=1 turns them off (for comparison and tests).
 */
export function openDecoder(kind: DecoderKind, threads = 1): NativeDecoder | undefined {
  const addon = load();
  if (addon === undefined || process.env['BMAPKIT_NO_NATIVE_DECODERS'] === '1') return undefined;
  let handle: object;
  try {
    handle = addon.decoderOpen(kind, threads);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOLIB') return undefined;
    throw e;
  }
  const state = new Float64Array(5);
  let zero = new Uint8Array(0);
  return {
    run(input, inPos, output, piece, finish) {
      const pieces = Math.ceil(output.byteLength / piece);
      if (zero.byteLength < pieces) zero = new Uint8Array(pieces);
      const flags = zero;
      return new Promise<DecodeResult>((resolve, reject) => {
        addon.decoderRun(handle, input, inPos, output, piece, finish, state, flags, (error) => {
          if (error !== null) return reject(error);
          resolve({ inPos: state[0]!, outPos: state[1]!, ended: state[2] === 1, lastEnd: state[3] === 1, progress: state[4] === 1, zero: flags });
        });
      });
    },
    close() {
      addon.decoderClose(handle);
    },
  };
}
