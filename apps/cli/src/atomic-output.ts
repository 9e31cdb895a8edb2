import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsError } from './fs-errors.js';

/**
 * A file that appears under its name only when complete: written to a
 * temporary file beside it, fsynced, then renamed over the target. Created
 * up front, so an unwritable place fails before any work is done. On
 * failure or interruption the temporary file is removed and the target is
 * left as it was.
 */
export class AtomicOutput {
  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private handle: FileHandle | undefined,
  ) {}

  static async create(path: string): Promise<AtomicOutput> {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
    const out = new AtomicOutput(path, tmp, undefined);
    out.installSignalCleanup(); // before the file exists: a signal may come at any moment
    try {
      out.handle = await open(tmp, 'wx', 0o644);
      return out;
    } catch (e) {
      out.removeSignalCleanup();
      throw fsError('OUTPUT_OPEN', 'cannot open the output file', path, e);
    }
  }

  async write(data: string | Uint8Array): Promise<void> {
    try {
      if (typeof data === 'string') await this.handle!.write(data);
      else await this.handle!.write(data);
    } catch (e) {
      throw fsError('OUTPUT_WRITE', 'cannot write the output file', this.path, e);
    }
  }

  /** fsync, close and rename into place. */
  async commit(): Promise<void> {
    try {
      await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      await rename(this.tmp, this.path);
    } catch (e) {
      throw fsError('OUTPUT_WRITE', 'cannot write the output file', this.path, e);
    } finally {
      this.removeSignalCleanup();
    }
  }

  /** Removes the temporary file; the target is untouched. */
  async discard(): Promise<void> {
    this.removeSignalCleanup();
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await unlink(this.tmp).catch(() => undefined);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    void this.discard().finally(() => process.kill(process.pid, signal));
  };

  private installSignalCleanup(): void {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    process.once('SIGHUP', this.onSignal);
  }

  private removeSignalCleanup(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('SIGHUP', this.onSignal);
  }
}
