import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
// @ts-expect-error a repo script without types
import { fuzzUnavailable } from '../../../tools/fuzz.mjs';
import { skipNote } from '../../../tools/test-needs.js';

// A short, fixed-seed libFuzzer run of the decoders and the FIEMAP code
// under AddressSanitizer and UBSan: the same inputs every time, so a
// failure is reproducible. The long run is `pnpm bench fuzz`.

const FUZZ = fileURLToPath(new URL('../../../tools/fuzz.mjs', import.meta.url));
const why = (fuzzUnavailable as () => string | undefined)();
if (why !== undefined) skipNote(`fuzz run: ${why}`);

describe.skipIf(why !== undefined)('fuzzing the C code (AddressSanitizer, fixed seed)', () => {
  for (const [target, runs] of [['decode', 8000], ['fiemap', 1000]] as const) {
    it(`${target}: ${runs} inputs, no crash, leak or undefined behaviour`, () => {
      const r = spawnSync(process.execPath, [FUZZ, '--target', target, '--runs', String(runs), '--seed', '1'], { encoding: 'utf8', timeout: 240_000 });
      expect(r.stderr).not.toMatch(/ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:/);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^fuzz ${target}: ${runs} executions, 0 crashes`));
    }, 300_000);
  }
});
