import { constants, write as writeCb } from 'node:fs';
import { promisify } from 'node:util';
import { lstat, open, readlink, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BmapkitError, fsError } from '@bmapkit/bmap-format';
import { checkNotAnInput, creationPath, type InputFile } from '@bmapkit/device-guard';

/** Where `create -o` puts the bmap. */
export interface OutputFile {
  /** As the user gave it. */
  readonly path: string;
  write(data: string | Uint8Array): Promise<void>;
  /** Makes the output final: fsync and rename into place (a file), or close (a stream). */
  commit(): Promise<void>;
  /** Gives up: removes the temporary file this created (a stream is only closed). */
  discard(): Promise<void>;
}

/**
 * Opens OUTPUT for a result that must appear whole or not at all, after
 * checking what is there. A regular file, or a missing path, is written to
 * a temporary file beside it and renamed over it once complete (through a
 * symlink: beside and over the symlink's target, so the link stays). A
 * character device, a FIFO or a descriptor path (/dev/stdout, /proc/self/fd/N)
 * is written as a stream, in place. A block device, a directory, or one of
 * the inputs (same file by device and inode) is refused before anything is
 * opened. The temporary file is removed on failure, by discard(), and when
 * `signal` aborts before commit() has renamed it into place.
 */
export async function openOutput(path: string, inputs: readonly InputFile[], options: { signal?: AbortSignal } = {}): Promise<OutputFile> {
  const target = await inspect(path);
  await checkNotAnInput({ path, kind: 'file', existed: target.kind !== 'missing' }, inputs).catch((e: unknown) => {
    throw new BmapkitError('OUTPUT_IS_INPUT', (e as Error).message.replace(/^refusing to write to/, 'refusing to write the bmap to').replace(/; give a different destination$/, '; give another output file'));
  });
  if (target.kind === 'block') {
    throw new BmapkitError('OUTPUT_OPEN', `refusing to write the bmap to '${path}': it is a block device; give a file name (or leave out -o for stdout)`);
  }
  if (target.kind === 'directory') throw new BmapkitError('OUTPUT_OPEN', `cannot open the output file '${path}': is a directory; give a file name`);
  if (target.kind === 'stream') return StreamOutput.open(path);
  if (target.kind === 'descriptor') return new StreamOutput(path, undefined, target.fd);
  options.signal?.throwIfAborted();
  return AtomicOutput.create(path, target.file, options.signal);
}

type Target = { kind: 'missing' | 'file'; file: string } | { kind: 'descriptor'; fd: number } | { kind: 'stream' } | { kind: 'block' } | { kind: 'directory' };

/** What is at `path`, following symlinks; `file`: where a file is (or will be) written atomically. */
async function inspect(path: string): Promise<Target> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw fsError('OUTPUT_OPEN', 'cannot open the output file', path, e);
  });
  if (st === undefined) {
    const file = await creationPath(path).catch((e: Error) => {
      throw new BmapkitError('OUTPUT_OPEN', e.message.replace(/^cannot open/, 'cannot open the output file'));
    });
    return { kind: 'missing', file };
  }
  if (st.isDirectory()) return { kind: 'directory' };
  if (st.isBlockDevice()) return { kind: 'block' };
  const fd = await descriptorOf(path);
  if (fd !== undefined) return { kind: 'descriptor', fd };
  if (!st.isFile()) return { kind: 'stream' };
  return { kind: 'file', file: await realpath(path) };
}

/**
 * The descriptor a path names, followed through symlinks: /dev/stdout and
 * /dev/stderr, /dev/fd/N, /proc/self/fd/N (or this process's pid). Such a
 * path is written through the descriptor itself, never opened again or
 * renamed over: a socket cannot be opened by path, and the shell's
 * redirection (its offset, O_APPEND) is what the user asked for.
 */
async function descriptorOf(path: string): Promise<number | undefined> {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    const std = /^\/dev\/std(out|err)$/.exec(p);
    if (std !== null) return std[1] === 'out' ? 1 : 2;
    const fd = /^\/(?:dev\/fd|proc\/(?:self|thread-self|(\d+))\/fd)\/(\d+)$/.exec(p);
    if (fd !== null && (fd[1] === undefined || Number(fd[1]) === process.pid)) return Number(fd[2]);
    const st = await lstat(p).catch(() => undefined);
    if (st === undefined || !st.isSymbolicLink()) return undefined;
    p = resolve(dirname(p), await readlink(p));
  }
  return undefined;
}

/** Written to a temporary file beside `file`, fsynced, then renamed over it. */
class AtomicOutput implements OutputFile {
  private handle: FileHandle | undefined;
  private unregister: () => void = () => undefined;

  private constructor(
    readonly path: string,
    /** What is renamed over at the end: the path, or its symlink's target. */
    private readonly file: string,
    private readonly tmp: string,
  ) {}

  static async create(path: string, file: string, signal: AbortSignal | undefined): Promise<AtomicOutput> {
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    const out = new AtomicOutput(path, file, tmp);
    if (signal !== undefined) {
      const onAbort = () => void out.discard();
      signal.addEventListener('abort', onAbort, { once: true });
      out.unregister = () => signal.removeEventListener('abort', onAbort);
    }
    try {
      out.handle = await open(tmp, 'wx', 0o644);
    } catch (e) {
      out.unregister();
      throw fsError('OUTPUT_OPEN', 'cannot open the output file', path, e);
    }
    if (signal?.aborted === true) {
      // aborted while the file was being created: the listener found nothing to remove
      await out.discard();
      throw signal.reason;
    }
    return out;
  }

  async write(data: string | Uint8Array): Promise<void> {
    try {
      if (typeof data === 'string') await this.handle!.write(data);
      else await this.handle!.write(data);
    } catch (e) {
      throw fsError('OUTPUT_WRITE', 'cannot write the output file', this.path, e);
    }
  }

  async commit(): Promise<void> {
    try {
      await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      await rename(this.tmp, this.file);
    } catch (e) {
      await this.discard();
      throw fsError('OUTPUT_WRITE', 'cannot write the output file', this.path, e);
    } finally {
      this.unregister();
    }
  }

  /** Removes the temporary file; the target is untouched. */
  async discard(): Promise<void> {
    this.unregister();
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await unlink(this.tmp).catch(() => undefined);
  }
}

/**
 * A device or FIFO, opened for writing as it is, or a descriptor of this
 * process (`fd`, left open): written in order. Nothing to remove on failure.
 */
class StreamOutput implements OutputFile {
  constructor(
    readonly path: string,
    private handle: FileHandle | undefined,
    private readonly fd?: number,
  ) {}

  static async open(path: string): Promise<StreamOutput> {
    try {
      return new StreamOutput(path, await open(path, constants.O_WRONLY));
    } catch (e) {
      throw fsError('OUTPUT_OPEN', 'cannot open the output file', path, e);
    }
  }

  async write(data: string | Uint8Array): Promise<void> {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let done = 0; done < bytes.length; ) {
        done += this.handle !== undefined ? (await this.handle.write(bytes, done, bytes.length - done)).bytesWritten : await writeAll(this.fd!, bytes.subarray(done));
      }
    } catch (e) {
      throw fsError('OUTPUT_WRITE', 'cannot write the output file', this.path, e);
    }
  }

  async commit(): Promise<void> {
    try {
      await this.handle?.close();
      this.handle = undefined;
    } catch (e) {
      throw fsError('OUTPUT_WRITE', 'cannot write the output file', this.path, e);
    }
  }

  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}

const writeFd = promisify(writeCb);

/** One write to a descriptor this process holds; resolves with the bytes written (a non-blocking pipe that is full is waited for). */
async function writeAll(fd: number, bytes: Uint8Array): Promise<number> {
  for (;;) {
    try {
      return (await writeFd(fd, bytes)).bytesWritten;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
