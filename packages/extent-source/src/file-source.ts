import { open, type FileHandle } from 'node:fs/promises';
import { BmapkitError, fsReason, fsError } from '@bmapkit/bmap-format';

/** Image bytes that can be read at any offset: a local file, later an HTTP server with Range support. */
export interface RandomAccessSource {
  /** How the source is named in messages. */
  readonly name: string;
  /** Size in bytes, when known. */
  readonly size: number | undefined;
  /** Reads up to into.length bytes at `position`; resolves with the count (0 at EOF). */
  read(into: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

/** Opens a local file for positioned reads. */
export async function openFileSource(path: string): Promise<RandomAccessSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw fsError('IMAGE_OPEN', 'cannot open image file', path, e);
  }
  const st = await handle.stat();
  return {
    name: path,
    size: st.isFile() ? st.size : undefined,
    async read(into, position) {
      let done = 0;
      try {
        while (done < into.length) {
          const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
      } catch (e) {
        throw new BmapkitError('IMAGE_READ', `cannot read image file '${path}' at byte ${position + done}: ${fsReason(e)}`, { cause: e });
      }
      return done;
    },
    close: () => handle.close(),
  };
}
