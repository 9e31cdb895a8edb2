import { load } from './index.js';

export type DecoderKind = 'zstd' | 'xz' | 'gzip';

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
  /** Corrupt data ('EDATA'), cut off ('ETRUNC'), out of memory ('ENOMEM') or, reading `fd`, the errno's name; nothing follows. */
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
 * A zstd, xz or gzip decoder on the system's libzstd.so.1 or liblzma.so.5,
 * or the zlib inside Node (found on first use; nothing is linked at build
 * time). It decodes on a thread of its own, so the event loop keeps
 * writing and hashing.
 */
export interface NativeDecoder {
  /**
   * Decodes on a thread of its own, batch after batch, without waiting for
   * the event loop: `onOutput` gets, on the main thread, every batch decoded
   * since its last call. close() stops it.
   */
  stream(options: DecoderStreamOptions, onOutput: (batches: DecodedBatch[]) => void): DecoderStream;
  /** Frees the decoder, stopping its thread. */
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
  return {
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
