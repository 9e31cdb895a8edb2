import { isBmapkitError } from '@bmapkit/bmap-format';

/** An error as --json output carries it: its stable code and its one-line message. */
export function errorObject(e: unknown): { code: string; message: string } {
  return isBmapkitError(e) ? { code: e.code, message: e.message } : { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) };
}
