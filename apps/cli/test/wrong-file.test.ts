import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { attachLoop, loopSupport } from '../../../tools/loop-device.js';
import { gpgSupport, makeKey } from '../../../tools/gpg-fixture.js';
import { BIN, run } from './run.js';
import { sha256, sparseImage } from './images.js';
import { skipNote } from '../../../tools/test-needs.js';

// Never the wrong file: bmapkit writes, renames over or deletes only the
// destination the user named, or a file it created itself. Every refusal
// below is checked on content: the sha256 of each file involved, before
// and after.

const gpg = gpgSupport();
if (!gpg.ok) skipNote(`signature-file DEST test: ${gpg.reason}`);

let dir: string;
let img: string;
let bmap: string;
let gz: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-wrong-'));
  img = join(dir, 'img.raw');
  sparseImage(img, 1 << 20, [0, 1, 2, 100, 200]);
  bmap = join(dir, 'img.bmap');
  expect(run(['create', '-o', bmap, img]).status).toBe(0);
  gz = join(dir, 'img.gz');
  writeFileSync(gz, gzipSync(readFileSync(img)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const digest = (p: string) => sha256(readFileSync(p));
/** Runs the CLI and expects a refusal naming `re`, with every file in `unchanged` as it was. */
function refused(args: string[], re: RegExp, unchanged: string[], opts: { input?: string } = {}) {
  const before = unchanged.map(digest);
  const r = opts.input === undefined ? run(args) : spawnSync('sh', ['-c', `'${process.execPath}' '${BIN}' ${args.map((a) => `'${a}'`).join(' ')} < '${opts.input}'`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(1);
  const errors = r.stderr.split('\n').filter((l) => l.includes('ERROR'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(unchanged.map(digest)).toEqual(before);
  return r;
}

describe('create -o: only ever a file it writes whole, or a stream it writes through', () => {
  // Root makes its own /dev/null and /dev/stdout to test on (a regression
  // must not replace the machine's); anyone else cannot replace /dev's.
  const nullDevice = () => {
    if (process.getuid?.() !== 0) return '/dev/null';
    const node = join(dir, 'null');
    if (!existsSync(node)) execFileSync('mknod', ['-m', '666', node, 'c', '1', '3']);
    return node;
  };
  const stdoutLink = () => {
    if (process.getuid?.() !== 0) return '/dev/stdout';
    const link = join(dir, 'stdout');
    if (!existsSync(link)) symlinkSync('/proc/self/fd/1', link);
    return link;
  };

  it('a character device (/dev/null) stays the device: written through, not replaced', () => {
    const node = nullDevice();
    const before = statSync(node);
    expect(run(['create', '-o', node, img])).toMatchObject({ status: 0, stderr: '' });
    const after = lstatSync(node);
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
  });

  it('/dev/stdout stays a symlink and the bmap comes out on stdout (a socket, a pipe, a file redirect)', () => {
    const link = stdoutLink();
    const r = run(['create', '-o', link, img]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(run(['create', img]).stdout);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const out = join(dir, 'redirected.bmap');
    const sh = spawnSync('sh', ['-c', `'${process.execPath}' '${BIN}' create -o '${link}' '${img}' > '${out}'`], { encoding: 'utf8' });
    expect(sh.status, sh.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
    const piped = spawnSync('sh', ['-c', `'${process.execPath}' '${BIN}' create -o '${link}' '${img}' | cat`], { encoding: 'utf8' });
    expect(piped.stdout).toBe(r.stdout);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('a FIFO is written as a stream', async () => {
    const fifo = join(dir, 'out.fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let got = '';
    reader.stdout.on('data', (b: Buffer) => (got += b.toString()));
    const closed = new Promise((r) => reader.on('close', r));
    expect(run(['create', '-o', fifo, img]).status).toBe(0);
    await closed;
    expect(got).toBe(run(['create', img]).stdout);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it.skipIf(process.getuid?.() !== 0)('a block device node is refused and stays a node', () => {
    const node = join(dir, 'blocknode');
    execFileSync('mknod', [node, 'b', '7', '250']);
    const r = run(['create', '-o', node, img]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`bmaptool: ERROR: refusing to write the bmap to '${node}': it is a block device; give a file name (or leave out -o for stdout)\n`);
    expect(lstatSync(node).isBlockDevice()).toBe(true);
  });

  it('the image itself, a hard link to it or a symlink to it is refused, the image untouched', () => {
    const hard = join(dir, 'hard.raw');
    linkSync(img, hard);
    const soft = join(dir, 'soft.raw');
    symlinkSync(img, soft);
    for (const out of [img, hard, soft]) {
      refused(['create', '-o', out, img], new RegExp(`^bmaptool: ERROR: refusing to write the bmap to '${out}': it is the image '${img}' \\(the same file\\); give another output file$`), [img]);
    }
    expect(lstatSync(soft).isSymbolicLink()).toBe(true);
  });

  it('through a symlink: the target is replaced atomically, the link stays; a dangling link gets its target created', () => {
    const target = join(dir, 'target.bmap');
    writeFileSync(target, 'old');
    const link = join(dir, 'link.bmap');
    symlinkSync('target.bmap', link);
    expect(run(['create', '-o', link, img]).status).toBe(0);
    expect(readlinkSync(link)).toBe('target.bmap');
    expect(readFileSync(target, 'utf8')).toBe(readFileSync(bmap, 'utf8'));
    const dangling = join(dir, 'dangling.bmap');
    symlinkSync('made.bmap', dangling);
    expect(run(['create', '-o', dangling, img]).status).toBe(0);
    expect(readlinkSync(dangling)).toBe('made.bmap');
    expect(readFileSync(join(dir, 'made.bmap'), 'utf8')).toBe(readFileSync(bmap, 'utf8'));
  });
});

describe('copy: DEST is never one of the inputs', () => {
  it('the image itself (same path, hard link, symlink) is refused, the image untouched', () => {
    const hard = join(dir, 'img-hard.raw');
    linkSync(img, hard);
    const soft = join(dir, 'img-soft.raw');
    symlinkSync(img, soft);
    for (const dest of [img, hard, soft]) {
      refused(['copy', '--bmap', bmap, img, dest], new RegExp(`refusing to write to '${dest}': it is the image '${img}' \\(the same file\\); give a different destination$`), [img, bmap]);
    }
  });

  it('the compressed image is not replaced by its own content', () => {
    refused(['copy', '--bmap', bmap, gz, gz], /refusing to write to '.*img\.gz': it is the image '.*img\.gz' \(the same file\)/, [gz, bmap]);
  });

  it('the bmap is refused', () => {
    refused(['copy', '--bmap', bmap, gz, bmap], /refusing to write to '.*img\.bmap': it is the bmap file '.*img\.bmap' \(the same file\)/, [gz, bmap]);
  });

  it.skipIf(!gpg.ok)('the signature file and the keyring are refused', () => {
    const key = makeKey(join(dir, 'gpg'), 'Signer', 'signer@example.com');
    try {
      const signed = join(dir, 'signed.bmap');
      writeFileSync(signed, readFileSync(bmap));
      const sig = join(dir, 'signed.bmap.sig');
      key.detachSign(signed, sig);
      const args = ['copy', '--keyring', key.keyring, '--bmap-sig', sig, '--bmap', signed, gz];
      refused([...args, sig], /it is the bmap signature file '.*signed\.bmap\.sig' \(the same file\)/, [gz, signed, sig]);
      refused([...args, key.keyring], /it is the keyring '.*' \(the same file\)/, [gz, signed, sig, key.keyring]);
    } finally {
      key.stop();
    }
  });

  it('standard input redirected from DEST is refused', () => {
    const copyOf = join(dir, 'stdin-dest.gz');
    writeFileSync(copyOf, readFileSync(gz));
    refused(['copy', '--bmap', bmap, '-', copyOf], /it is the image 'standard input' \(the same file\)/, [copyOf], { input: copyOf });
  });

  it('a dangling-symlink DEST: a failed copy removes the file it created at the target and keeps the link', () => {
    const other = join(dir, 'other.raw');
    sparseImage(other, 1 << 20, [0, 1, 2, 100, 200], (b, i) => (b + i) % 7); // same layout, other bytes
    const otherGz = join(dir, 'other.gz');
    writeFileSync(otherGz, gzipSync(readFileSync(other)));
    const link = join(dir, 'dest-link');
    symlinkSync('dest-target.img', link);
    const r = run(['copy', '--bmap', bmap, otherGz, link]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ERROR: checksum mismatch for blocks range 0-2/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('dest-target.img');
    expect(existsSync(join(dir, 'dest-target.img'))).toBe(false);
    // and a copy that succeeds writes the target, the link kept
    expect(run(['copy', '--bmap', bmap, gz, link]).status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(digest(join(dir, 'dest-target.img'))).toBe(digest(img));
  });
});

const support = loopSupport();
if (!support.ok) skipNote(`block-device DEST-is-an-input tests: ${support.reason}`);

describe.skipIf(!support.ok)('copy: a block DEST that holds an input', () => {
  it('a loop device backed by the image is refused, the image untouched', () => {
    const backing = join(dir, 'backed.raw');
    writeFileSync(backing, readFileSync(img));
    const backingBmap = join(dir, 'backed.bmap');
    expect(run(['create', '-o', backingBmap, backing]).status).toBe(0);
    const loop = attachLoop(backing);
    try {
      refused(['copy', '--bmap', backingBmap, backing, loop.dev], new RegExp(`refusing to write to '${loop.dev}': it is a loop device backed by the image '${backing}'`), [backing, backingBmap]);
      refused(['copy', '--bmap', backingBmap, loop.dev, loop.dev], new RegExp(`refusing to write to '${loop.dev}': it is the image '${loop.dev}' \\(the same (file|device)\\)`), [backing]);
    } finally {
      loop.detach();
    }
  });

  it.skipIf(spawnSync('mkfs.ext4', ['-V']).error !== undefined)('a device whose filesystem holds the image is refused before it is found mounted', () => {
    const fsImage = join(dir, 'fs.img');
    writeFileSync(fsImage, Buffer.alloc(16 << 20));
    execFileSync('mkfs.ext4', ['-q', '-F', fsImage]);
    const loop = attachLoop(fsImage);
    const mnt = join(dir, 'mnt');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', [loop.dev, mnt]);
    try {
      const inside = join(mnt, 'img.raw');
      writeFileSync(inside, readFileSync(img));
      execFileSync('sync');
      refused(['copy', '--bmap', bmap, inside, loop.dev], new RegExp(`refusing to write to '${loop.dev}': the image '${inside}' is stored on it`), [inside, bmap]);
    } finally {
      execFileSync('umount', [mnt]);
      loop.detach();
    }
  });
});
