import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { missingProgram, skipNote } from '../../../tools/test-needs.js';

// native/lzma-api.h declares liblzma's structs and values itself, so that
// the addon has xz without lzma.h; where the real header is installed, the
// compiler checks every size, offset and value against it.

const why = missingProgram('cc') ?? (existsSync('/usr/include/lzma.h') ? undefined : 'lzma.h is not installed (apt-get install liblzma-dev)');
skipNote(why === undefined ? undefined : `the lzma-api.h layout check: ${why}`);

describe.skipIf(why !== undefined)('lzma-api.h', () => {
  it('lays out lzma_stream and lzma_mt, and numbers the return codes, exactly as lzma.h does', () => {
    const check = fileURLToPath(new URL('../native/lzma-api-check.c', import.meta.url));
    const r = spawnSync('cc', ['-std=gnu11', '-fsyntax-only', '-Wall', '-Werror', check], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
