import { BmapkitError } from '@bmapkit/bmap-format';
import { settlesWithin } from '@bmapkit/pipeline';

/**
 * How the process ends early: on SIGINT (Ctrl-C), SIGTERM, SIGHUP (a
 * terminal or SSH session that went away), or when a reader of stdout or
 * stderr goes away (EPIPE, reported as SIGPIPE), or when writing to them
 * fails otherwise (OUTPUT: a full disk). The first of them runs every
 * registered cleanup, newest first, each to its end, then exits 128 + the
 * signal's number (1 for OUTPUT); signals that arrive meanwhile are
 * ignored, so a second Ctrl-C cannot cut a cleanup short.
 */

export type EndSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'SIGPIPE' | 'OUTPUT';

const STATUS: Record<EndSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGPIPE: 141, OUTPUT: 1 };

type Cleanup = (signal: EndSignal) => Promise<void> | void;

const cleanups: Cleanup[] = [];
let ending: EndSignal | undefined;
let installed = false;
let announce: (signal: EndSignal) => void = () => undefined;

/** Installs the signal handlers once; `onEnd` is told first (to print "interrupted, exiting"). */
export function handleInterrupts(onEnd: (signal: EndSignal) => void): void {
  announce = onEnd;
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void endProcess(signal));
}

/** Registers work to undo if the process is interrupted; call the returned function once it is no longer needed. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.lastIndexOf(cleanup);
    if (i !== -1) cleanups.splice(i, 1);
  };
}

/** The signal the process is ending on, once one has come. */
export function endingOn(): EndSignal | undefined {
  return ending;
}

/**
 * Runs the cleanups and exits with 128 + the signal's number. Only the
 * first call does anything; later ones (further signals) wait with it.
 */
export function endProcess(signal: EndSignal): Promise<never> {
  if (ending === undefined) {
    ending = signal;
    void (async () => {
      try {
        announce(signal);
      } catch {
        // stderr may be the stream that went away
      }
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup(signal);
        } catch {
          // each cleanup reports its own failures; the others still run
        }
      }
      await flushOutput(1000);
      process.exit(STATUS[signal]);
    })();
  }
  return new Promise<never>(() => undefined);
}

/**
 * Waits until what was written to stdout and stderr has left the process
 * (Node writes to a pipe whose reader is slow asynchronously, and exiting
 * drops it): at most `ms` when given (an interrupt: the reader may be gone),
 * else for as long as it takes (a slow reader of JSON events is no error).
 */
export async function flushOutput(ms?: number): Promise<void> {
  const flushed = (stream: NodeJS.WritableStream & { writableLength?: number; destroyed?: boolean }) =>
    stream.destroyed === true || (stream.writableLength ?? 0) === 0 ? Promise.resolve() : new Promise<void>((resolve) => stream.write('', () => resolve()));
  const both = Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  if (ms === undefined) return void (await both);
  await settlesWithin(both, ms);
}

/**
 * Runs one command's work with an AbortSignal that an interrupt aborts: the
 * interrupt then waits (at most `waitMs`) for the work to settle, that is
 * for the library to undo what it set up (a DEST it created removed, device
 * tuning restored), before the process exits.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>, waitMs = 2000): Promise<T> {
  const controller = new AbortController();
  let running: Promise<T> | undefined;
  const unregister = onInterrupt(async () => {
    controller.abort(new BmapkitError('INTERRUPTED', 'interrupted'));
    await settlesWithin(running, waitMs);
  });
  try {
    running = work(controller.signal);
    return await running;
  } finally {
    unregister();
  }
}
