import type { Bmap } from '@bmapkit/bmap-format';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** A message for a person, at the level bmaptool would print it. */
export interface LogEvent {
  type: 'log';
  level: LogLevel;
  message: string;
}

/** Bytes done so far and the total (undefined when not known: --nobmap from a stream). */
export interface ProgressEvent {
  type: 'progress';
  bytes: number;
  total: number | undefined;
}

/** A range's checksum matched. */
export interface RangeVerifiedEvent {
  type: 'range-verified';
  range: number;
}

/** What `copyImage` reports as it goes. */
export type CopyEvent =
  | LogEvent
  | ProgressEvent
  | RangeVerifiedEvent
  /** The bmap in use: `path` as given or discovered (undefined for a Bmap object); `format`: the image's compression ("raw" for none). */
  | { type: 'bmap'; bmap: Bmap; path: string | undefined; discovered: boolean; format: string }
  /** All data is written; the final fsync starts. */
  | { type: 'sync' }
  /** Read-back found blocks first-last wrong and rewrites them. */
  | { type: 'rewrite'; first: number; last: number; attempt: number };

/** What `verifyImage` reports as it goes. */
export type VerifyEvent = LogEvent | RangeVerifiedEvent | { type: 'bmap'; bmap: Bmap; path: string | undefined; discovered: boolean; format: string };
