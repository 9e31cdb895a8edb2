import { alignedBuffer } from '@bmapkit/native';
import type { PositionedFile } from '@bmapkit/range-writer';

/**
 * Testing hook, for proving read-back verification end to end: with
 * BMAPKIT_TEST_CORRUPT_WRITES=N the first N writes to DEST land with one
 * byte flipped, as a failing card would store them. The flip is made in a
 * page-aligned copy (O_DIRECT needs the alignment; chunks are read-only and
 * may share memory, so the data itself is never changed). Unset (always,
 * outside tests), the handle is returned as it is.
 */
export function corruptingWrites<T extends PositionedFile>(handle: T, setting: string | undefined): T | PositionedFile {
  const n = setting === undefined ? 0 : Number.parseInt(setting, 10);
  if (!(n > 0)) return handle;
  let left = n;
  return {
    fd: handle.fd,
    read: (b, o, l, p) => handle.read(b, o, l, p),
    sync: () => handle.sync(),
    truncate: (l) => handle.truncate(l),
    async write(buffer, offset, length, position) {
      if (left <= 0 || length === 0) return handle.write(buffer, offset, length, position);
      left--;
      const copy = alignedBuffer(length, 4096);
      copy.set(buffer.subarray(offset, offset + length));
      copy[length >> 1]! ^= 0xff;
      return handle.write(copy, 0, length, position);
    },
  };
}
