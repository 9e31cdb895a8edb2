import type { NativeDecoder } from '@bmapkit/native';
import type { DecoderPair } from './codec.js';
import { decompressError, truncatedError } from './errors.js';

/** Output is handed on in pieces of this size... */
const PIECE = 128 << 10;
/** ...decoded this many at a time, on a pool thread. */
const BATCH = 8 * PIECE;
/**
 * The decoder runs ahead of downstream while fewer than this many decoded
 * bytes wait (zero pieces cost nothing but a view) and fewer than MAX_PIECES
 * pieces: downstream is fast through holes and slow through data, so one
 * batch of look-ahead would leave one side idle.
 */
const AHEAD_BYTES = 8 << 20;
const MAX_PIECES = 512;

/**
 * Zeros shared by every decoder: runs of pieces that decode to zeros (the
 * holes of a disk image, most of it) are handed on as one view of this
 * instead of copies. Chunks are read-only by contract; nothing downstream
 * writes into them.
 */
const ZEROS = new Uint8Array(4 << 20);

/**
 * A DecoderPair around a native in-process decoder (libzstd, liblzma): no
 * pipe to a child process, whose copying cost more than the decoding itself.
 * Decoding runs on a libuv pool thread, ahead of what downstream has taken
 * (up to AHEAD_BYTES); a write resolves once its input is consumed, so memory stays
 * bounded whatever the compression ratio.
 */
export function nativeDecoderPair(decoder: NativeDecoder, format: string, source: string): DecoderPair {
  let input: Uint8Array | null = null;
  let inPos = 0;
  let settleWrite: ((error?: unknown) => void) | undefined;
  let wakeInput: (() => void) | undefined;
  let closed = false;
  let failure: unknown;
  let ended = false;
  let running: Promise<void> | undefined;
  let wakePull: (() => void) | undefined;
  const output = new Uint8Array(BATCH);
  const ready: Uint8Array[] = [];
  let readyBytes = 0;
  let zeroRun = 0;
  const releaseZeros = (): void => {
    if (zeroRun > 0) ready.push(ZEROS.subarray(0, zeroRun));
    zeroRun = 0;
  };

  const fail = (reason: unknown): unknown => {
    if (failure === undefined) {
      failure = reason;
      decoder.close();
      settleWrite?.(reason);
      settleWrite = undefined;
      wakeInput?.();
      wakePull?.();
    }
    return failure;
  };
  const translate = (e: unknown): unknown => {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ETRUNC') return truncatedError(format, source, e);
    if (err.code === 'EDATA' || err.code === 'ENOMEM') return decompressError(format, source, err.message, e);
    return e;
  };

  const decodeBatch = async (): Promise<void> => {
    while (input === null && !closed && failure === undefined) await new Promise<void>((resolve) => (wakeInput = resolve));
    wakeInput = undefined;
    if (failure !== undefined) throw failure;
    const finishing = input === null;
    let r;
    try {
      r = await decoder.run(input, inPos, output, PIECE, finishing);
    } catch (e) {
      throw fail(translate(e));
    }
    if (failure !== undefined) throw failure;
    inPos = r.inPos;
    if (input !== null && inPos >= input.byteLength) {
      input = null;
      inPos = 0;
      const settle = settleWrite;
      settleWrite = undefined;
      settle?.();
    }
    // Runs of data pieces go on as one copy; runs of zero pieces as one view
    // of ZEROS, held back until data follows or the view is full, so a hole
    // of any length costs a few chunks downstream.
    for (let at = 0, i = 0; at < r.outPos; ) {
      const zero = r.zero[i] === 1;
      let end = at;
      while (end < r.outPos && (r.zero[i] === 1) === zero) {
        end = Math.min(end + PIECE, r.outPos);
        i++;
      }
      if (zero) {
        zeroRun += end - at;
        while (zeroRun >= ZEROS.byteLength) {
          ready.push(ZEROS);
          zeroRun -= ZEROS.byteLength;
        }
      } else {
        releaseZeros();
        ready.push(output.slice(at, end));
        readyBytes += end - at;
      }
      at = end;
    }
    if (!r.ended && !r.progress) {
      if (!finishing) throw fail(decompressError(format, source, 'the decoder made no progress'));
      // All input given and nothing more comes out: the end, if the last frame ended.
      if (!r.lastEnd) throw fail(truncatedError(format, source));
    }
    if (r.ended || !r.progress) {
      ended = true;
      releaseZeros();
    }
  };
  /** Keeps one batch decoding while there is room ahead; wakes a waiting pull after each. */
  const pump = (): void => {
    if (running !== undefined || ended || failure !== undefined) return;
    if (readyBytes >= AHEAD_BYTES || ready.length >= MAX_PIECES) return;
    running = decodeBatch().then(
      () => {
        running = undefined;
        wakePull?.();
        pump();
      },
      () => {
        running = undefined;
        wakePull?.(); // the failure is recorded; the pull throws it
      },
    );
  };

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure !== undefined) throw failure;
      if (chunk.byteLength === 0) return;
      return new Promise<void>((resolve, reject) => {
        input = chunk;
        inPos = 0;
        settleWrite = (error) => (error === undefined ? resolve() : reject(error));
        wakeInput?.();
      });
    },
    close() {
      closed = true;
      wakeInput?.();
    },
    abort(reason) {
      fail(reason);
    },
  });

  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const next = ready.shift();
          if (next !== undefined) {
            if (next.buffer !== ZEROS.buffer) readyBytes -= next.byteLength;
            controller.enqueue(next);
            pump();
            return;
          }
          if (failure !== undefined) throw failure;
          if (ended) {
            decoder.close();
            controller.close();
            return;
          }
          pump();
          await new Promise<void>((resolve) => (wakePull = resolve));
          wakePull = undefined;
        }
      },
      cancel(reason) {
        fail(reason ?? new Error('cancelled'));
      },
    },
    { highWaterMark: 0 },
  );
  return { readable, writable };
}
