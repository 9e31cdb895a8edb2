import type { FileHandle } from 'node:fs/promises';
import { BmapkitError, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';

export interface FileWriterOptions {
  /** How the destination is named in messages. */
  dest: string;
  /** Block size and ranges, to name the blocks a failed write was for. */
  bmap: Pick<Bmap, 'ranges' | 'blockSize'>;
  /** The image size when known: the file is cut to it before and after writing, so holes stay holes. */
  imageSize?: number;
  /** Regular file (truncated, sized, fsynced), or a character device (/dev/null: written only). */
  kind: 'file' | 'char';
  /** Chunks queued while a write is in flight (default 8): decoding and hashing go on meanwhile. */
  queueDepth?: number;
  /** Called once all data is written, just before the final fsync (to say so). */
  beforeSync?: () => void;
}

export interface FileWriter extends WritableStream<ImageChunk> {
  /** Bytes written so far. */
  readonly bytesWritten: () => number;
  /** One past the highest byte written: the image size when it was not known. */
  readonly end: () => number;
}

/**
 * Writes ImageChunks at their offsets into an open destination file. Only
 * mapped data is written; a regular file is truncated to 0 and sized to the
 * image first (so the old content does not show through the holes, and XFS
 * does not preallocate), sized again at the end, and fsynced.
 */
export function fileRangeWriter(handle: FileHandle, options: FileWriterOptions): FileWriter {
  let written = 0;
  let end = 0;
  const { dest, bmap } = options;
  const io = (what: string, e: unknown, chunk?: ImageChunk): BmapkitError => {
    const err = e as NodeJS.ErrnoException;
    const range = chunk === undefined ? undefined : bmap.ranges[chunk.range];
    const where = range === undefined ? '' : ` blocks ${range.first}-${range.last} of`;
    if (err.code === 'ENOSPC') {
      return new BmapkitError('DEST_FULL', `error while writing${where} '${dest}': no space left on device`, { cause: e });
    }
    return new BmapkitError('DEST_IO', `${what}${where} '${dest}': ${err.message}`, { cause: e });
  };
  const stream = new WritableStream<ImageChunk>(
    {
      async start() {
        if (options.kind !== 'file') return;
        try {
          await handle.truncate(0);
          if (options.imageSize !== undefined) await handle.truncate(options.imageSize);
        } catch (e) {
          throw io('cannot truncate file', e);
        }
      },
      async write(chunk) {
        let done = 0;
        try {
          while (done < chunk.data.byteLength) {
            const { bytesWritten } = await handle.write(chunk.data, done, chunk.data.byteLength - done, chunk.offset + done);
            done += bytesWritten;
          }
        } catch (e) {
          throw io('error while writing', e, chunk);
        }
        written += done;
        end = Math.max(end, chunk.offset + done);
      },
      async close() {
        if (options.kind !== 'file') {
          options.beforeSync?.(); // a character device: nothing to truncate or sync (the reference skips /dev/null's fsync)
          return;
        }
        try {
          await handle.truncate(options.imageSize ?? end);
        } catch (e) {
          throw io('cannot truncate file', e);
        }
        options.beforeSync?.();
        try {
          await handle.sync();
        } catch (e) {
          throw io('cannot synchronize', e);
        }
      },
    },
    { highWaterMark: options.queueDepth ?? 8 },
  );
  return Object.assign(stream, { bytesWritten: () => written, end: () => end });
}
