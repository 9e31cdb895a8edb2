import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serializeBmap } from '@bmapkit/bmap-format';
import { createBmap } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bmapkit-no-addon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('without the native addon: the stages are the fallback', () => {
  it('a raw copy and a verify still run (readExtents, node:crypto, rangeWriter), byte-exact', async () => {
    const image = join(dir, 'disk.img');
    const size = 5 * (1 << 20) + 300;
    const content = Buffer.alloc(size);
    const fd = openSync(image, 'w');
    ftruncateSync(fd, size);
    for (const [start, length] of [[0, 70_000], [2 << 20, 1 << 20], [size - 300, 300]] as const) {
      for (let i = start; i < start + length; i++) content[i] = (i * 13) % 251;
      writeSync(fd, content, start, length, start);
    }
    closeSync(fd);
    writeFileSync(`${image}.bmap`, serializeBmap(await createBmap({ image })));
    const dest = join(dir, 'out.img');
    const script = `
      import { copyImage, verifyImage } from ${JSON.stringify(DIST)};
      import { nativeAvailable } from '@bmapkit/native';
      const copied = await copyImage({ image: ${JSON.stringify(image)}, dest: ${JSON.stringify(dest)} });
      const checked = await verifyImage({ target: ${JSON.stringify(dest)}, bmap: ${JSON.stringify(`${image}.bmap`)} });
      console.log(JSON.stringify({ native: nativeAvailable(), bytes: copied.bytesWritten, ok: checked.ok, ranges: checked.ranges }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      env: { ...process.env, BMAPKIT_NATIVE_ADDON: join(dir, 'missing', 'addon.node') },
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ native: false, bytes: expect.any(Number), ok: true, ranges: 3 });
    expect(readFileSync(dest).equals(content)).toBe(true);
  });
});
