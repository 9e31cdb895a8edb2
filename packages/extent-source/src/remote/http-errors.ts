import { BmapkitError, type BmapkitErrorCode } from '@bmapkit/bmap-format';
import { redactUrl } from './redact.js';

/** A failed HTTP request as a typed, one-line error naming the URL (password hidden). */
export function httpError(code: BmapkitErrorCode, url: URL | string, what: string, cause?: unknown): BmapkitError {
  const err = cause as NodeJS.ErrnoException | undefined;
  const why =
    err === undefined
      ? ''
      : err.code === 'ETIMEDOUT'
        ? `: ${err.message} (a slow or stalled server; BMAPKIT_HTTP_TIMEOUT sets the limit in seconds)`
        : err.code === 'ECONNREFUSED'
          ? ': connection refused (is the server running?)'
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? ': host not found (check the URL, or the network and DNS)'
            : `: ${err.message}`;
  return new BmapkitError(code, `${what} '${redactUrl(String(url))}'${why}`, cause === undefined ? undefined : { cause });
}

/** The status line's meaning for an unexpected HTTP status. */
export function statusText(status: number): string {
  const known: Record<number, string> = { 401: 'Unauthorized (give credentials in the URL or ~/.netrc)', 403: 'Forbidden', 404: 'Not Found', 410: 'Gone', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
  return `HTTP ${status}${known[status] ? ` ${known[status]}` : ''}`;
}
