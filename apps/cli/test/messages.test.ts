import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.js';
import { sparseImage } from './images.js';

// What a user reads when something is wrong: one line, in their own
// characters, naming what they can change; and tooling gets JSON either way.

let dir: string;
let bmap: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-msg-'));
  const img = join(dir, 'img.raw');
  sparseImage(img, 1 << 20, [1, 2]);
  bmap = join(dir, 'img.bmap');
  expect(run(['create', '-o', bmap, img]).status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('messages', () => {
  it('non-ASCII text from the bmap is shown as written, not double-encoded', () => {
    const bad = join(dir, 'wide.bmap');
    writeFileSync(bad, readFileSync(bmap, 'utf8').replace(/<ImageSize> \d+ <\/ImageSize>/, '<ImageSize> １２ </ImageSize>'));
    const r = run(['check', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`bmaptool: ERROR: bmap file '${bad}': line 26: <ImageSize> must be a decimal number, found '１２'\n`);
  });

  it('check --json on an invalid bmap still answers on stdout: valid false, the code and the message', () => {
    const bad = join(dir, 'edited.bmap');
    writeFileSync(bad, readFileSync(bmap, 'utf8').replace('<BlockSize> 4096 </BlockSize>', '<BlockSize> 8192 </BlockSize>'));
    const r = run(['check', '--json', bad]);
    expect(r.status).toBe(1);
    const answer = JSON.parse(r.stdout) as { bmap: string; valid: boolean; error: { code: string; message: string } };
    expect(answer).toMatchObject({ bmap: bad, valid: false, error: { code: 'BMAP_CHECKSUM' } });
    expect(answer.error.message).toMatch(/^checksum mismatch for bmap file/);
    expect(r.stderr).toMatch(/^bmaptool: ERROR: checksum mismatch for bmap file/);
    expect(JSON.parse(run(['check', '--json', bmap]).stdout)).toMatchObject({ valid: true, ranges: 1 });
  });

  it('verify --json answers with an error object when it cannot verify at all', () => {
    const r = run(['verify', '--json', '--bmap', join(dir, 'missing.bmap'), join(dir, 'img.raw')]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ event: 'verify', ok: false, error: { code: 'BMAP_OPEN' } });
  });
});
