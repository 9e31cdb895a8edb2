import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './run.js';

export interface HeldRun {
  child: ChildProcess;
  /** Resolves with the exit status (or the signal's name) and everything the CLI wrote to stderr. */
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Lets the CLI's stderr writes through from now on (it was blocked on its first one). */
  release(): void;
}

/**
 * Runs the CLI with stderr on a full pipe: its first write to stderr blocks
 * (Node writes to pipes synchronously on Linux) until release(). So a test
 * can hold the CLI at a known point, e.g. in its cleanup ("interrupted,
 * exiting") while it sends a second signal, without racing it. `room`
 * bytes are left free, to let the first lines through and hold a later one.
 */
export function spawnHeld(args: string[], opts: { env?: NodeJS.ProcessEnv; room?: number; stdout?: 'pipe' | 'ignore' } = {}): HeldRun {
  const dir = mkdtempSync(join(tmpdir(), 'bmapkit-held-'));
  const fifo = join(dir, 'stderr');
  if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error('mkfifo failed');
  // O_RDWR: neither open blocks, and the pipe never reports EOF while we hold it
  const ours = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const filled = fillPipe(ours, opts.room ?? 0);
  const theirs = openSync(fifo, constants.O_WRONLY);
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...opts.env }, stdio: ['ignore', opts.stdout ?? 'ignore', theirs] });
  closeSync(theirs);
  let stderr = '';
  let released = false;
  const buf = Buffer.alloc(1 << 16);
  const drain = () => {
    for (;;) {
      let n = 0;
      try {
        n = readSync(ours, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
        throw e;
      }
      if (n === 0) return;
      stderr += buf.subarray(0, n).toString('utf8');
    }
  };
  let skip = filled; // the filler bytes come out first; they are not the CLI's
  const timer = setInterval(() => released && take(), 5);
  const take = () => {
    drain();
    if (skip > 0) {
      const cut = Math.min(skip, stderr.length);
      stderr = stderr.slice(cut);
      skip -= cut;
    }
  };
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.once('exit', (status, signal) => {
      clearInterval(timer);
      take();
      closeSync(ours);
      rmSync(dir, { recursive: true, force: true });
      resolve({ status, signal, stderr });
    });
  });
  return {
    child,
    exited,
    release() {
      if (released) return;
      released = true;
      take();
    },
  };
}

/** Fills a pipe to the brim, then reads `room` bytes back out; returns how many filler bytes it holds. */
function fillPipe(fd: number, room: number): number {
  let filled = 0;
  const page = Buffer.alloc(4096, 0x2e);
  for (const size of [page.length, 1]) {
    for (;;) {
      try {
        filled += writeSync(fd, page, 0, size);
      } catch {
        break; // EAGAIN: full
      }
    }
  }
  if (room > 0) filled -= readSync(fd, Buffer.alloc(room), 0, room, null);
  return filled;
}
