import type { Duplex } from 'node:stream';
import type { DecoderPair } from './codec.js';

/**
 * Wraps a Node Duplex (a zlib stream) as a WHATWG pair, with its errors
 * mapped to typed ones. Node's own Duplex.toWeb would do, but it turns
 * errors into generic aborts and loses the zlib error code.
 */
export function duplexPair(duplex: Duplex, mapError: (e: unknown) => Error): DecoderPair {
  let failure: Error | undefined;
  duplex.on('error', (e) => {
    failure ??= mapError(e);
  });
  const readable = webReadable(duplex, {
    finish: async () => failure,
    watchErrors: (fail) => duplex.on('error', () => fail(failure!)),
    cancel: () => duplex.destroy(),
  });
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (failure) throw failure;
      return new Promise<void>((resolve, reject) => {
        duplex.write(chunk, (e) => (e ? reject(failure ?? mapError(e)) : resolve()));
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        duplex.end(() => (failure ? reject(failure) : resolve()));
      });
    },
    abort() {
      duplex.destroy();
    },
  });
  return { readable, writable };
}

export interface WebReadableHooks {
  /** Called when the source ends: an error to fail with, or undefined to close normally. */
  finish(): Promise<Error | undefined>;
  /** Lets the caller fail the stream early (a source's 'error' event). */
  watchErrors?: (fail: (e: Error) => void) => void;
  /** The consumer gave up: stop the source. */
  cancel(): void;
}

/**
 * A Node readable as a WHATWG ReadableStream with backpressure (pause when
 * the queue is full, resume on pull), and nothing enqueued once the consumer
 * has cancelled or the stream has settled.
 */
export function webReadable(source: NodeJS.ReadableStream, hooks: WebReadableHooks): ReadableStream<Uint8Array> {
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const fail = (e: Error) => {
          if (done) return;
          done = true;
          controller.error(e);
        };
        source.on('data', (b: Buffer) => {
          if (done) return; // output still in flight when the consumer gave up
          controller.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
        source.on('end', () => {
          void hooks.finish().then((err) => {
            if (err !== undefined) return fail(err);
            if (done) return;
            done = true;
            controller.close();
          });
        });
        hooks.watchErrors?.(fail);
      },
      pull() {
        source.resume();
      },
      cancel() {
        done = true;
        hooks.cancel();
      },
    },
    { highWaterMark: 4 },
  );
}
