import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BmapkitError, ERROR_CODES, exitStatus } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every .ts file under the src/ of each package and app. */
function sources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.push(p);
    }
  };
  for (const top of ['packages', 'apps']) for (const project of readdirSync(join(ROOT, top))) {
    const src = join(ROOT, top, project, 'src');
    if (statSync(join(ROOT, top, project)).isDirectory() && readdirSync(join(ROOT, top, project)).includes('src')) walk(src);
  }
  return out;
}

/**
 * The codes thrown: the first argument of `new BmapkitError(...)`, and the
 * code argument of the helpers that build one (fsError, httpError,
 * fetchToTemp, localCopy).
 */
function thrownCodes(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const patterns = [/new BmapkitError\(\s*'([A-Z_]+)'/g, /\b(?:fsError|httpError)\(\s*'([A-Z_]+)'/g, /\b(?:fetchToTemp|localCopy)\([^)]*?'([A-Z_]+)'/g];
  for (const file of sources()) {
    const text = readFileSync(file, 'utf8');
    for (const re of patterns) for (const m of text.matchAll(re)) found.set(m[1]!, [...(found.get(m[1]!) ?? []), file.slice(ROOT.length)]);
  }
  return found;
}

describe('error codes: one closed table, with exit statuses', () => {
  const thrown = thrownCodes();

  it('every code the packages and apps throw is in the table', () => {
    const unknown = [...thrown.keys()].filter((c) => !(c in ERROR_CODES));
    expect(unknown).toEqual([]);
    expect(thrown.size).toBeGreaterThan(40); // the scan finds them (it is not looking at nothing)
  });

  it('every code in the table is thrown somewhere', () => {
    expect(Object.keys(ERROR_CODES).filter((c) => !thrown.has(c))).toEqual([]);
  });

  it('each code has an exit status and a meaning; errors map to their status', () => {
    for (const [code, { exit, meaning }] of Object.entries(ERROR_CODES)) {
      expect(Number.isInteger(exit) && exit > 0 && exit < 256, code).toBe(true);
      expect(meaning.length, code).toBeGreaterThan(10);
    }
    expect(exitStatus(new BmapkitError('RANGE_CHECKSUM', 'x'))).toBe(1);
    expect(exitStatus(new BmapkitError('INTERRUPTED', 'x'))).toBe(130);
    expect(exitStatus(new Error('a bug'))).toBe(1);
  });
});
