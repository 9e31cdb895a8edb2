import { closeSync, constants, openSync, statSync, writeSync } from 'node:fs';
import type { Logger } from '../log.js';

/**
 * psplash progress: if PATH is a FIFO, each update opens it non-blocking,
 * writes "PROGRESS <pct>\n" and closes it; every error (no reader: ENXIO)
 * is ignored, as the reference does. Any other PATH gets one warning.
 */
export function psplashReporter(path: string | undefined, log: Logger): ((pct: number) => void) | undefined {
  if (path === undefined) return undefined;
  let fifo = false;
  try {
    fifo = statSync(path).isFIFO();
  } catch {
    fifo = false;
  }
  if (!fifo) {
    log.warning(`'${path}' is not a pipe, so psplash progress will not be updated`);
    return undefined;
  }
  return (pct) => {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      try {
        writeSync(fd, `PROGRESS ${pct}\n`);
      } finally {
        closeSync(fd);
      }
    } catch {
      // nobody is listening, or the pipe is full: psplash updates are best effort
    }
  };
}
