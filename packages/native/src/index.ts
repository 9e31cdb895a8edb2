import { createRequire } from 'node:module';
import type { DecodedBatch } from './decoder.js';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BmapkitError } from '@bmapkit/bmap-format';

/** The addon's raw interface (native/*.c). */
interface Addon {
  fiemap(fd: number, start: number, length: number, maxExtents: number, sync: boolean): Float64Array;
  seek(fd: number, offset: number, whence: number): number;
  blockSize(fd: number): number;
  deviceSize(fd: number): number;
  sectorSize(fd: number): number;
  dropCache(fd: number, offset: number, length: number): void;
  addressMod(view: ArrayBufferView, alignment: number): number;
  digestRanges(
    fd: number,
    spans: Float64Array,
    algorithm: string,
    done: BigInt64Array | null,
    callback: (error: (Error & { offset?: number; index?: number }) | null, hexes: string[]) => void,
    cancel?: Int32Array | null,
    chain?: object,
    finish?: boolean,
  ): void;
  digestAvailable(algorithm: string): boolean;
  hashBegin(algorithm: string): object;
  hashRun(items: Array<[object, Uint8Array | null]>, callback: (error: Error | null, hexes: string[]) => void): void;
  decoderOpen(kind: string, threads: number): object;
  decoderClose(handle: object): void;
  decoderStart(handle: object, piece: number, batch: number, ahead: number, zeroAhead: number, skipLimit: number, onOutput: (events: DecodedBatch[]) => void, fd?: number): void;
  decoderFeed(handle: object, chunk: Uint8Array | null): void;
  decoderAck(handle: object, dataBytes: number, zeroBytes: number): void;
  decoderHold(handle: object, wait: boolean): void;
}

export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
/** FIEMAP extent flag: the last extent of the file. */
export const FIEMAP_EXTENT_LAST = 0x1;

let addon: Addon | undefined;
let loadError: unknown;

/** The addon if it loads, else undefined (for optional speed-ups with a fallback). */
export function load(): Addon | undefined {
  if (addon === undefined && loadError === undefined) {
    try {
      // Resolved through the package name, so that it is found from this
      // package's dist/ and from a bundle that inlines it (the CLI's).
      // node-gyp-build picks a local build (build/Release) first, else the
      // prebuild for this platform, architecture and libc (prebuilds/).
      // BMAPKIT_NATIVE_ADDON names another build of it (for diagnosis and tests).
      const require = createRequire(import.meta.url);
      const root = dirname(require.resolve('@bmapkit/native/package.json'));
      const file = process.env['BMAPKIT_NATIVE_ADDON'] ?? (require('node-gyp-build') as { resolve(dir: string): string }).resolve(root);
      addon = require(file) as Addon;
    } catch (e) {
      loadError = e;
    }
  }
  return addon;
}

/** True when the native addon is built and loads. */
export function nativeAvailable(): boolean {
  return load() !== undefined;
}

/** The addon, or a typed NATIVE_UNAVAILABLE error that says how to get it for the way bmapkit was installed. */
export function native(purpose: string): Addon {
  const a = load();
  if (a !== undefined) return a;
  const why = ((loadError as Error)?.message ?? 'unknown error').split('\n')[0]!.replace(/\.$/, '');
  throw new BmapkitError('NATIVE_UNAVAILABLE', `${purpose} needs bmapkit's native addon, which does not load here (${why}); ${nativeFix()}`, { cause: loadError });
}

/** How to build the addon, for the installer that put this package where it is. */
export function nativeFix(): string {
  const here = fileURLToPath(import.meta.url);
  const needs = '(a source build needs python3, make and a C compiler)';
  if (here.includes(`${sep}node_modules${sep}.pnpm${sep}`)) return `run 'pnpm approve-builds' (allow @bmapkit/native), then 'pnpm rebuild @bmapkit/native' ${needs}`;
  if (here.includes(`${sep}node_modules${sep}`)) return `run 'npm rebuild @bmapkit/native' ${needs}`;
  return `build it with 'pnpm --filter @bmapkit/native build:native' ${needs}`;
}

export interface Extent {
  /** Byte offset in the file. */
  logical: number;
  length: number;
  flags: number;
}

/** One FS_IOC_FIEMAP call: up to `maxExtents` extents overlapping [start, start+length). */
export function fiemap(fd: number, start: number, length: number, maxExtents: number, sync: boolean): Extent[] {
  const raw = native('finding the holes of a file').fiemap(fd, start, length, maxExtents, sync);
  const out: Extent[] = [];
  for (let i = 0; i < raw.length; i += 3) out.push({ logical: raw[i]!, length: raw[i + 1]!, flags: raw[i + 2]! });
  return out;
}

/** lseek(fd, offset, SEEK_DATA | SEEK_HOLE); -1 when there is no more data (ENXIO). */
export function seekDataOrHole(fd: number, offset: number, whence: typeof SEEK_DATA | typeof SEEK_HOLE): number {
  return native('finding the holes of a file').seek(fd, offset, whence);
}

/** The filesystem's block size (FIGETBSZ), or 0 where the ioctl is unsupported. */
export function filesystemBlockSize(fd: number): number {
  return native('finding the holes of a file').blockSize(fd);
}

/** Size in bytes of the block device open on `fd` (BLKGETSIZE64). */
export function blockDeviceSize(fd: number): number {
  return native('measuring a block device').deviceSize(fd);
}

/** Logical sector size of the block device open on `fd` (BLKSSZGET): the alignment O_DIRECT needs. */
export function blockDeviceSectorSize(fd: number): number {
  return native('direct I/O on a block device').sectorSize(fd);
}

/** Drops the page cache for [offset, offset+length) of `fd` (length 0: to the end), so that reads come from the medium. */
export function dropCache(fd: number, offset: number, length: number): void {
  native('reading back what was written').dropCache(fd, offset, length);
}

/**
 * A Uint8Array of `size` bytes whose first byte sits at an address that is a
 * multiple of `alignment` (a power of two up to 1 MiB), as O_DIRECT needs.
 */
export function alignedBuffer(size: number, alignment: number): Uint8Array {
  const raw = new Uint8Array(new ArrayBuffer(size + alignment));
  const mod = native('direct I/O').addressMod(raw, alignment);
  const skip = mod === 0 ? 0 : alignment - mod;
  return raw.subarray(skip, skip + size);
}

export { openDecoder, type NativeDecoder, type DecoderKind, type DecodedBatch, type DecoderStream, type DecoderStreamOptions } from './decoder.js';
export { digestFileRange, digestFileRanges, digestFileStep, canDigestFiles, DigestCancel, hashBegin, hashRun, type DigestError, type HashContext } from './digest.js';
