import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseBmap } from '@bmapkit/bmap-format';

// The README's library examples, run as written: from a directory inside
// this package (so that the @bmapkit packages resolve as they would for a
// user who installed them), holding a copy of the bundled sample.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const work = fileURLToPath(new URL(`../.readme-examples-${process.pid}/`, import.meta.url));
mkdirSync(work, { recursive: true });
cpSync(join(ROOT, 'samples'), join(work, 'samples'), { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The code block after each `<!-- example: NAME -->` in the README, by name. */
function examples(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- example: ([a-z-]+) -->\s*```ts\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!);
  return out;
}

function runExample(name: string, code: string) {
  writeFileSync(join(work, `${name}.mjs`), code);
  const r = spawnSync(process.execPath, [`${name}.mjs`], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr.split('\n').filter((l) => /Error|at /.test(l)), `${name}: ${r.stderr}`).toEqual([]);
  expect(r.status, `${name}: ${r.stderr}`).toBe(0);
  return r;
}

const sample = gunzipSync(readFileSync(join(ROOT, 'samples/sample.img.gz')));

describe("the README's library examples, as written", () => {
  const all = examples();

  it('has the three examples', () => {
    expect([...all.keys()]).toEqual(['copy-from-stages', 'create-from-stages', 'copy-image-with-a-stage']);
  });

  it('a copy composed from the stages writes the sample byte for byte', () => {
    runExample('copy-from-stages', all.get('copy-from-stages')!);
    expect(readFileSync(join(work, 'copy.img')).equals(sample)).toBe(true);
  });

  it('a create composed from the stages makes the bmap the sample came with (same ranges, same checksums)', async () => {
    runExample('create-from-stages', all.get('create-from-stages')!);
    const made = await parseBmap(readFileSync(join(work, 'copy.img.bmap')));
    const shipped = await parseBmap(readFileSync(join(ROOT, 'samples/sample.img.bmap')));
    expect([...made.ranges]).toEqual([...shipped.ranges]);
    expect(made.imageSize).toBe(shipped.imageSize);
  });

  it('copyImage with an extra stage: the copy is exact and the stage saw every byte written', async () => {
    const r = runExample('copy-image-with-a-stage', all.get('copy-image-with-a-stage')!);
    expect(readFileSync(join(work, 'staged.img')).equals(sample)).toBe(true);
    const shipped = await parseBmap(readFileSync(join(ROOT, 'samples/sample.img.bmap')));
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256');
    for (const range of shipped.ranges) sha.update(sample.subarray(range.first * shipped.blockSize, Math.min((range.last + 1) * shipped.blockSize, shipped.imageSize)));
    expect(r.stdout).toContain(`their sha256 is ${sha.digest('hex')}`);
    expect(r.stderr).toContain('synchronizing');
  });
});
