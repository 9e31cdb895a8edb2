import { humanSize } from '@bmapkit/bmap-format';

/** Receives (bytes copied, total bytes or undefined) as the copy goes, and the end. */
export interface ProgressSink {
  update(done: number, total: number | undefined): void;
  finish(done: number, total: number | undefined): void;
}

/** The copy's side of progress: updates as bytes pass, and the end. */
export interface ProgressFeed {
  update(done: number, total: number | undefined): void;
  finish(): void;
}

/** Fans one stream of updates out to several sinks; finish() repeats the last update to them as final. */
export function combine(sinks: Array<ProgressSink | undefined>): ProgressFeed | undefined {
  const live = sinks.filter((s): s is ProgressSink => s !== undefined);
  if (live.length === 0) return undefined;
  let done = 0;
  let total: number | undefined;
  return {
    update: (d, t) => {
      done = d;
      total = t;
      live.forEach((s) => s.update(d, t));
    },
    finish: () => live.forEach((s) => s.finish(done, total)),
  };
}

const pct = (done: number, total: number) => (total === 0 ? 100 : Math.trunc((done / total) * 100));

/** psplash: the whole percentage each time it changes (known totals only). */
export function psplashSink(send: ((pct: number) => void) | undefined): ProgressSink | undefined {
  if (send === undefined) return undefined;
  let last = -1;
  const update = (done: number, total: number | undefined) => {
    if (total === undefined) return;
    const p = pct(done, total);
    if (p !== last) {
      last = p;
      send(p);
    }
  };
  return { update, finish: update };
}

const BAR = 24;
const SPINNER = ['-', '\\', '|', '/'];

/**
 * The terminal progress line on stderr: "N% copied", a bar, bytes, speed
 * and ETA, rewritten in place at most 10 times a second. Like the
 * reference, each update ends with a newline and the next one moves up a
 * line first (ESC[1A), so an error message always starts on a fresh line.
 * An unknown total gets a spinner instead of the bar.
 */
export function terminalSink(prog: string, write: (s: string) => void, now: () => number = () => performance.now()): ProgressSink {
  const start = now();
  let shown = false;
  let lastDraw = -Infinity;
  let spin = 0;
  const draw = (done: number, total: number | undefined, force: boolean) => {
    const t = now();
    if (!force && t - lastDraw < (total === undefined ? 250 : 100)) return;
    lastDraw = t;
    const seconds = Math.max((t - start) / 1000, 1e-3);
    const speed = done / seconds;
    let text: string;
    if (total === undefined) {
      text = `${prog}: info: ${SPINNER[spin++ % 4]} ${humanSize(done)} copied, ${humanSize(Math.floor(speed))}/s`;
    } else {
      const p = pct(done, total);
      const filled = Math.round((p / 100) * BAR);
      const eta = speed > 0 ? Math.max(0, (total - done) / speed) : 0;
      text =
        `${prog}: info: ${p}% copied [${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ` +
        `${humanSize(done)} of ${humanSize(total)}, ${humanSize(Math.floor(speed))}/s, ETA ${clock(eta)}`;
    }
    write(`${shown ? '\x1b[1A' : ''}\r${text}\x1b[K\n`);
    shown = true;
  };
  return { update: (d, t) => draw(d, t, false), finish: (d, t) => draw(d, t, true) };
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** JSON-lines progress events for build tooling, at most 4 a second, and always the last one. */
export function jsonProgressSink(emit: (event: Record<string, unknown>) => void, now: () => number = () => performance.now()): ProgressSink {
  const start = now();
  let last = -Infinity;
  const send = (done: number, total: number | undefined, force: boolean) => {
    const t = now();
    if (!force && t - last < 250) return;
    last = t;
    emit({ event: 'progress', bytes: done, total: total ?? null, percent: total === undefined ? null : pct(done, total), seconds: (t - start) / 1000 });
  };
  return { update: (d, t) => send(d, t, false), finish: (d, t) => send(d, t, true) };
}
