/** What the writer needs of an open file or device (a node:fs/promises FileHandle has it). */
export interface PositionedFile {
  readonly fd: number;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** Gathered write (pwritev); when present, contiguous chunks are written together. */
  writev?(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
}

/** Writes all of `data` at `position` (short writes continued). */
export async function writeFully(file: PositionedFile, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await file.write(data, done, data.byteLength - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error('wrote 0 bytes'), { code: 'EIO' });
    done += bytesWritten;
  }
}

/** Writes all of `buffers`, one after another, from `position` with pwritev (a short write is continued). */
export async function writevFully(file: PositionedFile, buffers: Uint8Array[], position: number): Promise<void> {
  if (file.writev === undefined || buffers.length === 1) {
    for (const b of buffers) {
      await writeFully(file, b, position);
      position += b.byteLength;
    }
    return;
  }
  let { bytesWritten: skip } = await file.writev(buffers, position);
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
    } else {
      await writeFully(file, b.subarray(skip), position + skip);
      skip = 0;
    }
    position += b.byteLength;
  }
}

/** Reads exactly `into.byteLength` bytes at `position`; fewer (the end of the file or device) is an error. */
export async function readFully(file: PositionedFile, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await file.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw Object.assign(new Error(`read past the end at byte ${position + done}`), { code: 'EIO' });
    done += bytesRead;
  }
}
