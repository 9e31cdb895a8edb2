import { closeSync, openSync } from 'node:fs';
import { BmapkitError } from '@bmapkit/bmap-format';
import { availableParallelism } from 'node:os';
import { openDecoder, type DecodedBatch, type DecoderKind, type DecoderStream, type NativeDecoder } from '@bmapkit/native';
import type { DecoderPair } from './codec.js';
import { decompressError, truncatedError } from './errors.js';

/** Output is checked for zeros in pieces of this size... */
const PIECE = 128 << 10;
/** ...decoded this many at a time. */
const BATCH = 8 * PIECE;
/**
 * The decoding thread runs ahead of downstream while fewer than this many
 * decoded data bytes wait: downstream is fast through holes and slow
 * through data, so one batch of look-ahead would leave one side idle.
 */
const AHEAD_BYTES = 4 << 20;
/** ...and fewer than this many zero bytes (each 4 MiB of them is one view of zeros). */
const ZERO_AHEAD = 256 << 20;
/**
 * A batch passes over up to this many bytes of leading zeros in the addon
 * (the hole of an image) before it is handed over: the tail of the bench
 * image (2 GiB, nearly all zeros) took 1.3 s in 1 MiB batches, in C alone
 * 0.45 s.
 */
const SKIP_ZEROS = 64 << 20;
/**
 * Compressed chunks queued for the decoder: a write resolves while fewer
 * wait, so the thread has its next input when it finishes one.
 */
const INPUT_QUEUE = 4;

/** Bytes of the zeros buffer each decoded stream hands out views of. */
const ZEROS_BYTES = 4 << 20;

/** The in-process decoder of `kind` (xz on every core) as a DecoderPair, or `fallback()` without the addon or the library. */
export function inProcessOr(kind: DecoderKind, format: string, source: string, fallback: () => DecoderPair): DecoderPair {
  const inProcess = openDecoder(kind, availableParallelism());
  return inProcess !== undefined ? nativeDecoderPair(inProcess, format, source) : fallback();
}

/** The in-process decoder of `kind` reading a local file itself, or undefined without the addon or the library. */
export function inProcessFile(kind: DecoderKind, format: string, source: string, path: string): ReadableStream<Uint8Array> | undefined {
  const inProcess = openDecoder(kind, availableParallelism());
  return inProcess === undefined ? undefined : nativeFileDecoder(inProcess, format, source, path);
}

/**
 * A DecoderPair around a native in-process decoder (libzstd, liblzma, zlib): no
 * pipe to a child process, whose copying cost more than the decoding itself.
 * The decoder runs on a thread of its own, batch after batch, up to
 * AHEAD_BYTES ahead of what downstream has taken, from up to INPUT_QUEUE
 * written chunks: memory stays bounded whatever the compression ratio, and
 * it never waits for the event loop to be started again. (With one libuv
 * job per batch it did, while the main thread hashed: bench .zst copy
 * 2.3 s, of which 0.6-0.7 s the decoder sat finished and unnoticed.)
 * Decoded data is handed on as views of the batch it was decoded into.
 */
export function nativeDecoderPair(decoder: NativeDecoder, format: string, source: string): DecoderPair {
  let queued = 0;
  let settleWrite: ((error?: unknown) => void) | undefined;
  const out = decodedStream(decoder, format, source, undefined, {
    consumed() {
      queued -= 1;
      const settle = settleWrite;
      settleWrite = undefined;
      settle?.();
    },
    failed(reason) {
      settleWrite?.(reason);
      settleWrite = undefined;
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      out.check();
      if (chunk.byteLength === 0) return;
      // the thread reads the chunk later: it gets a copy of its own, so
      // that the caller may reuse its buffer as soon as write() resolves
      out.stream.feed(chunk.slice());
      queued += 1;
      if (queued < INPUT_QUEUE) return;
      return new Promise<void>((resolve, reject) => {
        settleWrite = (error) => (error === undefined ? resolve() : reject(error));
      });
    },
    close() {
      out.check();
      out.stream.feed(null);
    },
    abort(reason) {
      out.fail(reason);
    },
  });
  return { readable: out.readable, writable };
}

/**
 * The decoded bytes of a local compressed file, read by the decoding thread
 * itself: no compressed chunk passes through the event loop, which in the
 * bench .zst copy kept the decoder waiting for input 0.8 s of 2.3 s while
 * the main thread hashed. The file is opened here and closed with the
 * decoder.
 */
export function nativeFileDecoder(decoder: NativeDecoder, format: string, source: string, path: string): ReadableStream<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    decoder.close();
    throw readError(source, e as NodeJS.ErrnoException);
  }
  return decodedStream(decoder, format, source, fd, {
    closed() {
      closeSync(fd);
    },
  }).readable;
}

function readError(source: string, e: Error & { code?: string }): BmapkitError {
  return new BmapkitError('IMAGE_READ', `cannot read image '${source}': ${e.message}`, { cause: e, details: { errno: e.code } });
}

interface DecodedHooks {
  /** A fed chunk was used up. */
  consumed?(): void;
  /** The stream failed (decoding, cancel or abort). */
  failed?(reason: unknown): void;
  /** The decoder is closed (its thread stopped). */
  closed?(): void;
}

/** The decoding thread's output as a ReadableStream; `fd`: it reads that file itself, else it is fed. */
function decodedStream(decoder: NativeDecoder, format: string, source: string, fd: number | undefined, hooks: DecodedHooks) {
  let failure: unknown;
  let ended = false;
  let open = true;
  let wakePull: (() => void) | undefined;
  const ready: Uint8Array[] = [];
  // Runs of pieces that decode to zeros (the holes of a disk image, most of
  // it) are handed on as views of one buffer of zeros instead of copies:
  // this stream's own, never another's, so that a stage that breaks the
  // read-only contract spoils at most its own pipeline.
  const zeros = new Uint8Array(ZEROS_BYTES);
  let zeroRun = 0;
  const addZeros = (n: number): void => {
    zeroRun += n;
    while (zeroRun >= zeros.byteLength) {
      ready.push(zeros);
      zeroRun -= zeros.byteLength;
    }
  };
  const releaseZeros = (): void => {
    if (zeroRun > 0) ready.push(zeros.subarray(0, zeroRun));
    zeroRun = 0;
  };
  const close = (): void => {
    if (!open) return;
    open = false;
    decoder.close();
    hooks.closed?.();
  };
  const fail = (reason: unknown): unknown => {
    if (failure === undefined) {
      failure = reason;
      close();
      hooks.failed?.(reason);
      wakePull?.();
    }
    return failure;
  };
  const translate = (e: Error & { code?: string }): unknown => {
    if (e.code === 'ETRUNC') return truncatedError(format, source, e);
    if (e.code === 'EDATA' || e.code === 'ENOMEM') return decompressError(format, source, e.message, e);
    return fd === undefined ? e : readError(source, e);
  };

  /** Runs of data pieces go on as one view of their batch, runs of zero pieces (and skipped zeros) as views of zeros. */
  const take = (b: DecodedBatch): void => {
    if (b.consumed === 1) hooks.consumed?.();
    if (b.error !== null) {
      fail(translate(b.error));
      return;
    }
    addZeros(b.skipped);
    for (let at = 0, i = 0; at < b.length; ) {
      const zero = b.zero[i] === 1;
      let end = at;
      while (end < b.length && (b.zero[i] === 1) === zero) {
        end = Math.min(end + PIECE, b.length);
        i++;
      }
      if (zero) addZeros(end - at);
      else {
        releaseZeros();
        ready.push(b.data!.subarray(at, end));
      }
      at = end;
    }
    if (b.done === 2) fail(truncatedError(format, source));
    else if (b.done === 1) {
      ended = true;
      releaseZeros();
    }
  };

  let stream: DecoderStream;
  try {
    const options = { piece: PIECE, batch: BATCH, ahead: AHEAD_BYTES, zeroAhead: ZERO_AHEAD, skipZeros: SKIP_ZEROS, ...(fd === undefined ? {} : { fd }) };
    stream = decoder.stream(options, (batches) => {
      for (const b of batches) if (failure === undefined) take(b);
      wakePull?.();
    });
  } catch (e) {
    close();
    throw e;
  }

  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const next = ready.shift();
          if (next !== undefined) {
            if (next.buffer === zeros.buffer) stream.ack(0, next.byteLength);
            else stream.ack(next.byteLength, 0);
            controller.enqueue(next);
            return;
          }
          if (failure !== undefined) throw failure;
          if (ended) {
            close();
            controller.close();
            return;
          }
          stream.hold(true);
          await new Promise<void>((resolve) => (wakePull = resolve));
          wakePull = undefined;
          if (open) stream.hold(false);
        }
      },
      cancel(reason) {
        fail(reason ?? new Error('cancelled'));
      },
    },
    { highWaterMark: 0 },
  );
  return {
    readable,
    stream,
    fail,
    /** Throws the failure, if any. */
    check(): void {
      if (failure !== undefined) throw failure;
    },
  };
}
