import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { BmapkitError, blocksFor, type BlockRange, fsError } from '@bmapkit/bmap-format';
import { FIEMAP_EXTENT_LAST, SEEK_DATA, SEEK_HOLE, fiemap, filesystemBlockSize, seekDataOrHole } from '@bmapkit/native';
import { RangeCollector } from './ranges.js';
import { checkZfsCompatible, type ZfsCheckOptions } from './fs-type.js';

export type ExtentBackend = 'fiemap' | 'seek';

export interface FileExtentsOptions {
  /** 'auto' (default): FIEMAP, or SEEK_DATA/SEEK_HOLE where FIEMAP is not supported. */
  backend?: 'auto' | ExtentBackend;
  /** Map only blocks [first, first + count) instead of the whole file. */
  window?: { first: number; count: number };
  /** How the ZFS check finds its facts (tests substitute them). */
  zfs?: ZfsCheckOptions;
}

export interface FileExtents {
  /** The file as named by the caller (used in messages). */
  name: string;
  imageSize: number;
  blockSize: number;
  blocksCount: number;
  backend: ExtentBackend;
  /** Mapped ranges, ascending and merged where they touch; no checksums. */
  ranges: BlockRange[];
  mappedBlocksCount: number;
}

/** Extents per FIEMAP call: a 256 KiB buffer, as the reference uses. */
const FIEMAP_BATCH = 4680;

/**
 * The mapped blocks of a regular file, exactly as bmaptool's Filemap finds
 * them (bmaptool-behaviour.md §16): the file is fsynced, the block size comes
 * from FIGETBSZ (else st_blksize), FIEMAP with FIEMAP_FLAG_SYNC is used where
 * the filesystem supports it (unwritten extents count as mapped), and
 * SEEK_DATA/SEEK_HOLE elsewhere (tmpfs). Touching extents are merged.
 */
export async function fileExtents(path: string, options: FileExtentsOptions = {}): Promise<FileExtents> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw fsError('IMAGE_OPEN', 'cannot open image file', path, e);
  }
  try {
    const st = await handle.stat();
    checkRegularFile(path, st);
    await handle.sync();
    await checkZfsCompatible(path, options.zfs);
    const blockSize = filesystemBlockSize(handle.fd) || st.blksize;
    const blocksCount = blocksFor(st.size, blockSize);
    const first = options.window?.first ?? 0;
    const count = options.window?.count ?? blocksCount;
    const win = { start: first * blockSize, end: Math.min(first + count, blocksCount) * blockSize };
    const backend = options.backend === undefined || options.backend === 'auto' ? probeBackend(handle.fd, path, blockSize) : options.backend;
    const collector = new RangeCollector();
    if (backend === 'fiemap') mapWithFiemap(handle.fd, path, blockSize, win, collector);
    else mapWithSeek(handle.fd, path, blockSize, st.size, win, collector);
    return {
      name: path,
      imageSize: st.size,
      blockSize,
      blocksCount,
      backend,
      ranges: collector.ranges,
      mappedBlocksCount: collector.blocks,
    };
  } finally {
    await handle.close();
  }
}

function checkRegularFile(path: string, st: Stats): void {
  if (st.isDirectory()) {
    throw new BmapkitError('IMAGE_NOT_FILE', `cannot generate bmap for '${path}': it is a directory; give the image file`);
  }
  if (!st.isFile()) {
    throw new BmapkitError(
      'IMAGE_NOT_FILE',
      `cannot generate bmap for '${path}': not a regular file; copy the image to a file first (a device or pipe has no holes to map)`,
    );
  }
  if (st.size === 0) throw new BmapkitError('IMAGE_EMPTY', `cannot generate bmap for zero-sized image file '${path}'`);
}

function probeBackend(fd: number, path: string, blockSize: number): ExtentBackend {
  try {
    fiemap(fd, 0, blockSize, 1, false);
    return 'fiemap';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EOPNOTSUPP' || code === 'ENOTTY') return 'seek';
    throw mapError(e, `the FIEMAP ioctl failed for '${path}'`);
  }
}

function mapError(e: unknown, what: string): BmapkitError {
  if (e instanceof BmapkitError) return e;
  return new BmapkitError('IMAGE_MAP', `${what}: ${(e as Error).message}`, { cause: e });
}

function mapWithFiemap(fd: number, path: string, bs: number, win: { start: number; end: number }, out: RangeCollector): void {
  let pos = win.start;
  while (pos < win.end) {
    let extents;
    try {
      extents = fiemap(fd, pos, win.end - pos, FIEMAP_BATCH, true);
    } catch (e) {
      throw mapError(e, `the FIEMAP ioctl failed for '${path}'`);
    }
    if (extents.length === 0) return;
    for (const e of extents) {
      const start = Math.max(e.logical, win.start);
      const end = Math.min(e.logical + e.length, win.end);
      if (end > start) out.add(Math.floor(start / bs), Math.ceil(end / bs) - 1);
    }
    const last = extents[extents.length - 1]!;
    if ((last.flags & FIEMAP_EXTENT_LAST) !== 0) return;
    pos = last.logical + last.length;
  }
}

function mapWithSeek(fd: number, path: string, bs: number, size: number, win: { start: number; end: number }, out: RangeCollector): void {
  const seek = (offset: number, whence: typeof SEEK_DATA | typeof SEEK_HOLE): number => {
    try {
      return seekDataOrHole(fd, offset, whence);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EINVAL') {
        throw new BmapkitError('IMAGE_MAP', `cannot generate bmap for file '${path}': the file system supports neither FIEMAP nor SEEK_DATA/SEEK_HOLE`, { cause: e });
      }
      throw mapError(e, `cannot generate bmap for file '${path}'`);
    }
  };
  let pos = win.start;
  while (pos < win.end) {
    const data = seek(pos, SEEK_DATA);
    if (data < 0 || data >= win.end) return;
    let hole = seek(data, SEEK_HOLE);
    if (hole < 0 || hole >= size) hole = win.end; // data up to EOF covers the partial last block
    const end = Math.min(hole, win.end);
    out.add(Math.floor(data / bs), Math.ceil(end / bs) - 1);
    pos = end;
  }
}
