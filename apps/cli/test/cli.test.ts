import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, BLOCKMAP, VECTORS, declaredChecksum, run, runInPty } from './run.js';
import { skipNote } from '../../../tools/test-needs.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at /m);

describe('global options', () => {
  it('--version prints "bmaptool <version>" on stdout', () => {
    const r = run(['--version']);
    expect(r).toMatchObject({ status: 0, stdout: `bmaptool ${version}\n`, stderr: '' });
  });

  it('answers to the name bmapkit too', () => {
    const link = join(dir, 'bmapkit');
    symlinkSync(BIN, link);
    expect(run(['--version'], { bin: link }).stdout).toBe(`bmapkit ${version}\n`);
  });

  it('-h prints help on stdout', () => {
    const r = run(['-h']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: bmaptool /);
  });

  it('an unknown command is a usage error (exit 2)', () => {
    const r = run(['frobnicate', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("usage: bmaptool [-h] [--version] [-q] [-d] COMMAND ...\nbmaptool: error: unknown command 'frobnicate'\n");
  });

  it('no command is a usage error (exit 2)', () => {
    const r = run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bmaptool: error: a command is required\n$/);
  });

  it('an unknown option is a usage error (exit 2)', () => {
    const r = run(['check', '--frob', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bmaptool: error: unknown option '--frob'/);
  });

  it('-q with -d is refused (exit 1)', () => {
    const r = run(['-q', '-d', 'check', `${VECTORS}test.image.bmap.v2.0`]);
    expect(r).toMatchObject({ status: 1, stderr: 'bmaptool: ERROR: --quiet and --debug cannot be used together\n' });
  });
});

describe('check', () => {
  it('summarises a valid bmap on stderr and prints nothing on stdout', () => {
    const path = `${VECTORS}test.image.bmap.v2.0`;
    const r = run(['check', path]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'bmaptool: info: block map format version 2.0',
        'bmaptool: info: 201 blocks of size 4096 (802.5 KiB), mapped 117 blocks (468.0 KiB or 58.2%)',
        'bmaptool: info: 48 ranges, 48 with sha256 checksums',
        `bmaptool: info: bmap file checksum verified (sha256 ${declaredChecksum('test.image.bmap.v2.0')})`,
        `bmaptool: info: bmap file '${path}' is valid`,
        '',
      ].join('\n'),
    );
  });

  it('accepts every version of the reference vectors', () => {
    for (const v of ['1.2', '1.3', '1.4', '2.0']) expect(run(['check', `${VECTORS}test.image.bmap.v${v}`]).status).toBe(0);
  });

  it('is silent with -q', () => {
    expect(run(['-q', 'check', `${VECTORS}test.image.bmap.v1.2`])).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });

  it('--json prints one JSON object for tooling', () => {
    const r = run(['check', '--json', `${VECTORS}test.image.bmap.v1.3`]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      version: '1.3',
      imageSize: 821752,
      blocksCount: 201,
      mappedBlocksCount: 117,
      ranges: 48,
      checksumType: 'sha1',
      fileChecksum: { algorithm: 'sha1', value: declaredChecksum('test.image.bmap.v1.3'), verified: true },
      clearsigned: false,
    });
  });

  it('a corrupt bmap: one ERROR line, exit 1, no stack trace', () => {
    const path = `${BLOCKMAP}invalid/file-checksum/version-2.0.bmap`;
    const r = run(['check', path]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^bmaptool: ERROR: checksum mismatch for bmap file '${path}': calculated '[0-9a-f]{64}', should be '[0-9a-f]{64}'; .*\\n$`));
    noStack(r.stderr);
  });

  it('--debug adds the stack trace', () => {
    const r = run(['--debug', 'check', `${BLOCKMAP}invalid/file-checksum/version-2.0.bmap`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it('unsupported version: a readable message naming the file and version', () => {
    const p = join(dir, 'v3.bmap');
    writeFileSync(p, readFileSync(`${VECTORS}test.image.bmap.v2.0`, 'utf8').replace('version="2.0"', 'version="3.0"'));
    const r = run(['check', p]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `bmaptool: ERROR: bmap file '${p}': bmap format version 3.0 is not supported (a newer major version than this tool knows); bmapkit reads format versions 1.0 to 1.4 and 2.x\n`,
    );
  });

  it('names the file and the reason when it cannot be read', () => {
    expect(run(['check', join(dir, 'missing.bmap')]).stderr).toBe(`bmaptool: ERROR: cannot open bmap file '${join(dir, 'missing.bmap')}': no such file or directory\n`);
    expect(run(['check', dir]).stderr).toBe(`bmaptool: ERROR: cannot read bmap file '${dir}': is a directory\n`);
    if (process.getuid?.() !== 0) {
      const p = join(dir, 'secret.bmap');
      writeFileSync(p, 'x');
      chmodSync(p, 0);
      expect(run(['check', p]).stderr).toBe(`bmaptool: ERROR: cannot open bmap file '${p}': permission denied\n`);
    }
  });

  it('recognises an image given where the bmap belongs', () => {
    const p = join(dir, 'disk.img');
    writeFileSync(p, new Uint8Array(8192));
    const r = run(['check', p]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/contains binary data, so it is not a bmap file; is it the image\?/);
  });
});

describe('colour', () => {
  const bad = `${BLOCKMAP}invalid/file-checksum/version-2.0.bmap`;
  it('never colours when stderr is not a terminal', () => {
    expect(run(['check', bad]).stderr).not.toContain('\x1b[');
  });

  const tty = runInPty(['check', bad]);
  it.skipIf(tty === undefined)('colours ERROR on a terminal, unless NO_COLOR is set', () => {
    expect(tty!.stdout).toContain('bmaptool: \x1b[91mERROR\x1b[0m: checksum mismatch');
    const plain = runInPty(['check', bad], { NO_COLOR: '1' })!;
    expect(plain.stdout).toContain('bmaptool: ERROR: checksum mismatch');
    expect(plain.stdout).not.toContain('\x1b[');
  });
  if (tty === undefined) skipNote('terminal colour test: util-linux script is not installed');
});
