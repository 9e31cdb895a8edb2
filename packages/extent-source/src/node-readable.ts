import type { Readable } from 'node:stream';

/**
 * A WHATWG ReadableStream over a Node Readable, with backpressure (pause
 * while the queue is full) and nothing enqueued once the consumer has
 * cancelled. Node 20's `Readable.toWeb` throws "Controller is already
 * closed" from a 'data' event that was already queued when the stream was
 * cancelled (a pipeline torn down by Ctrl-C while stdin still has data), an
 * uncaught exception that would turn exit 130 into exit 1.
 */
export function readableFromNode(source: Readable): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source.pause();
        source.on('data', (b: Buffer) => {
          if (settled) return;
          controller.enqueue(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
          if ((controller.desiredSize ?? 1) <= 0) source.pause();
        });
        source.once('end', () => {
          if (settled) return;
          settled = true;
          controller.close();
        });
        source.once('error', (e) => {
          if (settled) return;
          settled = true;
          controller.error(e);
        });
      },
      pull() {
        source.resume();
      },
      cancel() {
        settled = true;
        source.destroy();
      },
    },
    { highWaterMark: 4 },
  );
}
