import { describe, expect, it } from 'vitest';
import { openSync } from 'node:fs';
import { BmapkitError, fsError, fsReason } from '../src/index.js';

/** The error Node throws for opening a path that does not exist. */
function enoent(): unknown {
  try {
    openSync('/nonexistent/bmapkit/file', 'r');
  } catch (e) {
    return e;
  }
  throw new Error('opening a missing file did not fail');
}

describe('fsError', () => {
  it('is one line: what, the quoted path, and a short reason; the path and errno in its details', () => {
    const cause = enoent();
    const e = fsError('IMAGE_OPEN', 'cannot open image file', '/nonexistent/bmapkit/file', cause);
    expect(e).toBeInstanceOf(BmapkitError);
    expect(e.code).toBe('IMAGE_OPEN');
    expect(e.message).toBe("cannot open image file '/nonexistent/bmapkit/file': no such file or directory");
    expect(e.details).toEqual({ path: '/nonexistent/bmapkit/file', errno: 'ENOENT' });
    expect(e.cause).toBe(cause);
  });

  it('an error without an errno keeps its own message as the reason', () => {
    expect(fsReason(new Error('odd failure'))).toBe('odd failure');
    expect(fsError('OUTPUT_WRITE', 'cannot write', 'standard output', new Error('odd failure')).message).toBe("cannot write 'standard output': odd failure");
  });
});
