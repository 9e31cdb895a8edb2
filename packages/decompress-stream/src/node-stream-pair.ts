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
  let cancelled = false;
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        duplex.on('data', (chunk: Buffer) => {
          if (cancelled) return; // output still in flight when the consumer gave up
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) duplex.pause();
        });
        duplex.on('end', () => {
          if (failure === undefined && !cancelled) controller.close();
        });
        duplex.on('error', () => {
          if (!cancelled) controller.error(failure);
        });
        duplex.on('close', () => {
          if (failure !== undefined && !cancelled) controller.error(failure);
        });
      },
      pull() {
        duplex.resume();
      },
      cancel() {
        cancelled = true;
        duplex.destroy();
      },
    },
    { highWaterMark: 4 },
  );
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

