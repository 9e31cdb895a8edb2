import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { ownBmap, ownImage } from '../../../tools/own-vectors.js';

// Build tooling bundles its dependencies: the package must survive esbuild
// (saxes included, no runtime require by path) and run from a directory with
// no node_modules at all.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-bundle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('@bmapkit/bmap-format bundled by esbuild', () => {
  it('parses and writes bmaps from a single file in another directory', async () => {
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      `import { readFileSync } from 'node:fs';
       import { parseBmap, serializeBmap } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};
       const bmap = await parseBmap(readFileSync(process.argv[2]));
       const again = await parseBmap(new TextEncoder().encode(serializeBmap(bmap)));
       console.log(JSON.stringify({ version: bmap.version, ranges: bmap.ranges.length, mapped: bmap.mappedBlocksCount, same: again.ranges.length === bmap.ranges.length }));`,
    );
    const out = join(dir, 'out', 'bmap-tool.mjs');
    const result = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    expect(readdirSync(join(dir, 'out'))).toEqual(['bmap-tool.mjs']);
    writeFileSync(join(dir, 'out', 'image.bmap'), ownBmap(ownImage(), '1.3'));
    const r = spawnSync(process.execPath, ['bmap-tool.mjs', 'image.bmap'], { cwd: join(dir, 'out'), encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ version: '1.3', ranges: 48, mapped: 117, same: true });
  });
});
