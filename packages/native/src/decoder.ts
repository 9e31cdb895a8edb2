import { load } from './index.js';

export type DecoderKind = 'zstd' | 'xz' | 'gzip';

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
  /** Zero bytes decoded before the output and not written to it (see `skipZeros`); 0 without it. */
  skipped: number;
}

/** One batch from a decoding thread (see NativeDecoder.stream). */
export interface DecodedBatch {
  /** The batch's bytes (its own memory), or null when all of it is zeros. */
  data: Uint8Array | null;
  /** Bytes in the batch (after the skipped zeros). */
  length: number;
  /** zero[i] is 1 when piece i of the batch is all zeros. */
  zero: Uint8Array;
  /** Zero bytes decoded before the batch and not in it. */
  skipped: number;
  /** 1 when the oldest fed chunk was used up with this batch. */
  consumed: number;
  /** 1: the data ended here; 2: the input ended inside the data (cut off). */
  done: number;
  /** Corrupt data ('EDATA'), cut off ('ETRUNC') or out of memory ('ENOMEM'); nothing follows. */
  error: (Error & { code?: string }) | null;
}

export interface DecoderStreamOptions {
  /** Zero pieces are found at this size. */
  piece: number;
  /** Bytes decoded into each batch. */
  batch: number;
  /** The thread waits while this many data bytes are out and not acknowledged. */
  ahead: number;
  /** ... or this many zero bytes. */
  zeroAhead: number;
  /** Leading zeros a batch may pass over (DecodedBatch.skipped). */
  skipZeros: number;
  /**
   * A regular file open for reading: the thread reads the compressed data
   * itself, from its start to its end, and nothing is fed (no chunk passes
   * through the event loop). Keep it open until close().
   */
  fd?: number;
}

export interface DecoderStream {
  /** Queues a compressed chunk (untouched until a batch says consumed), or null: no more input. */
  feed(chunk: Uint8Array | null): void;
  /** Output taken downstream: the thread may run further ahead. */
  ack(dataBytes: number, zeroBytes: number): void;
  /**
   * true while the caller waits for output: only then does the thread keep
   * the event loop (and the process) alive, so an abandoned decoder does
   * not keep the process from exiting.
   */
  hold(waiting: boolean): void;
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
   *
   * `skipZeros`: while the first piece decodes to zeros, count it in
   * `skipped` (up to this many bytes) and decode over it again: a hole
   * passes in one run, in the cache, without being handed over piece by
   * piece. The output follows the skipped zeros.
   */
  run(input: Uint8Array | null, inPos: number, output: Uint8Array, piece: number, finish: boolean, skipZeros?: number): Promise<DecodeResult>;
  /**
   * Decodes on a thread of its own, batch after batch, without waiting for
   * the event loop: `onOutput` gets, on the main thread, every batch decoded
   * since its last call. Not together with run(). close() stops it.
   */
  stream(options: DecoderStreamOptions, onOutput: (batches: DecodedBatch[]) => void): DecoderStream;
  /** Frees the decoder (after the run in progress, if any; stopping its thread). */
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
  const state = new Float64Array(6);
  let zero = new Uint8Array(0);
  return {
    run(input, inPos, output, piece, finish, skipZeros = 0) {
      const pieces = Math.ceil(output.byteLength / piece);
      if (zero.byteLength < pieces) zero = new Uint8Array(pieces);
      const flags = zero;
      return new Promise<DecodeResult>((resolve, reject) => {
        state[5] = 0;
        addon.decoderRun(
          handle,
          input,
          inPos,
          output,
          piece,
          finish,
          state,
          flags,
          (error) => {
            if (error !== null) return reject(error);
            resolve({ inPos: state[0]!, outPos: state[1]!, ended: state[2] === 1, lastEnd: state[3] === 1, progress: state[4] === 1, zero: flags, skipped: state[5]! });
          },
          skipZeros,
        );
      });
    },
    stream(o, onOutput) {
      if (o.fd === undefined) addon.decoderStart(handle, o.piece, o.batch, o.ahead, o.zeroAhead, o.skipZeros, onOutput);
      else addon.decoderStart(handle, o.piece, o.batch, o.ahead, o.zeroAhead, o.skipZeros, onOutput, o.fd);
      return {
        feed: (chunk) => addon.decoderFeed(handle, chunk),
        ack: (dataBytes, zeroBytes) => addon.decoderAck(handle, dataBytes, zeroBytes),
        hold: (waiting) => addon.decoderHold(handle, waiting),
      };
    },
    close() {
      addon.decoderClose(handle);
    },
  };
}
