import { BmapkitError, isClearsigned } from '@bmapkit/bmap-format';
import { peek, type CodecRegistry } from '@bmapkit/decompress-stream';
import { openImage, streamImage } from '@bmapkit/extent-source';
import { prepareImage, type PreparedImage } from './copy-chunks.js';

export interface OpenedImage {
  prepared: PreparedImage;
  /** Stops whatever still reads the image (a decoding thread or program, a connection); safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Opens an image (a path, "-", a URL, or a stream of its bytes), sniffs it
 * and sets up its decoding, refusing an empty image and a bmap given as the
 * image before anything else is done.
 */
export async function openPrepared(
  input: string | URL | ReadableStream<Uint8Array>,
  options: { registry?: CodecRegistry | undefined; onWarning: (message: string) => void },
): Promise<OpenedImage> {
  const image = typeof input === 'string' ? await openImage(input) : input instanceof URL ? await openImage(input.href) : streamImage(input);
  // stdin can be read once: the peeked stream carries on from the start
  const sniffed = await peek(image.stream(), 4096);
  let source: ReadableStream<Uint8Array> = sniffed.stream;
  const stop = async () => {
    if (!source.locked) await source.cancel().catch(() => undefined);
  };
  try {
    if (sniffed.head.length === 0) {
      throw new BmapkitError('IMAGE_EMPTY', `image '${image.name}' is empty (0 bytes): nothing to copy; check what produced it`);
    }
    refuseBmapAsImage(image.name, sniffed.head);
    const prepared = await prepareImage(image, sniffed.stream, options.onWarning, options.registry);
    source = prepared.stream;
    return { prepared, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** An IMAGE that is itself a bmap means swapped or mistaken arguments: never copy it raw. */
function refuseBmapAsImage(image: string, head: Uint8Array): void {
  const text = new TextDecoder('latin1').decode(head);
  const xmlBmap = /^(\xef\xbb\xbf)?\s*</.test(text) && /<bmap[\s>]/.test(text) && !text.includes('\0');
  if (isClearsigned(head) || xmlBmap) {
    throw new BmapkitError(
      'IMAGE_IS_BMAP',
      `image '${image}' is a bmap file, not an image; give the image first and the destination second (bmaptool copy IMAGE DEST)`,
    );
  }
}
