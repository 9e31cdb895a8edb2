import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { attachLoop, loopSupport, type LoopDevice } from '../../../tools/loop-device.js';
import { BIN, run } from './run.js';
import { sparseImage } from './images.js';
import { skipNote } from '../../../tools/test-needs.js';

// How a copy ends early: a signal (Ctrl-C, SIGTERM, a dropped SSH session),
// a second signal while it cleans up, a reader of its output that goes
// away. The image comes from a pipe the test writes to, so the copy is
// mid-way for as long as the test wants: nothing here races the copy.

let dir: string;
let gz: Buffer;
let bmap: string;
const BLOCKS = Array.from({ length: 2048 }, (_, i) => i * 2); // 8 MiB of data in 16 MiB
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-int-'));
  const img = join(dir, 'img.raw');
  sparseImage(img, 16 << 20, BLOCKS, (b, i) => (b * 131 + i * 17 + ((i * i) >> 3)) & 0xff);
  bmap = join(dir, 'img.bmap');
  expect(run(['create', '-o', bmap, img]).status).toBe(0);
  gz = gzipSync(readFileSync(img), { level: 1 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const until = async (what: string, ok: () => boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
/** Feeds the first part of the image, so that the copy starts writing and then waits for more. */
const feedPart = (child: ChildProcess) => child.stdin!.write(gz.subarray(0, gz.length >> 2));

/** A copy from a pipe the test writes to, its stderr collected; `feedPart` starts it writing. */
function copyFromPipe(dest: string, args: string[] = [], stdout: 'pipe' | 'ignore' = 'ignore') {
  const child = spawn(process.execPath, [BIN, 'copy', ...args, '--bmap', bmap, '-', dest], { stdio: ['pipe', stdout, 'pipe'] });
  const out = { stderr: '' };
  child.stderr!.on('data', (b: Buffer) => (out.stderr += b.toString()));
  child.stdin!.on('error', () => undefined); // the copy may end before reading all it was fed
  const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (code, sig) => r([code, sig])));
  const started = () => until('the copy to start writing', () => existsSync(dest) && /copying image/.test(out.stderr));
  return { child, out, exited, started };
}

describe('signals: the cleanup runs to its end, once', () => {
  for (const [signal, status] of [['SIGHUP', 129], ['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal} mid-copy removes the DEST it created and exits ${status}`, async () => {
      const dest = join(dir, `${signal}.img`);
      const c = copyFromPipe(dest);
      feedPart(c.child);
      await c.started();
      c.child.kill(signal);
      expect(await c.exited).toEqual([status, null]);
      expect(c.out.stderr).toMatch(/ERROR: interrupted, exiting\n$/);
      expect(existsSync(dest)).toBe(false);
    });
  }

  it('further signals while it cleans up are ignored: the cleanup finishes and the exit is the first signal\'s', async () => {
    // the hostile run: Ctrl-C 10-50 ms after the first signal (whenever they
    // come, once the first is handled the rest change nothing)
    for (const gap of [0, 10, 30, 50]) {
      const dest = join(dir, `twice-${gap}.img`);
      const c = copyFromPipe(dest);
      feedPart(c.child);
      await c.started();
      c.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, gap));
      c.child.kill('SIGINT');
      c.child.kill('SIGINT');
      expect(await c.exited, `second signal after ${gap} ms`).toEqual([129, null]);
      expect(c.out.stderr.match(/interrupted, exiting/g)).toHaveLength(1);
      expect(existsSync(dest)).toBe(false);
    }
  });
});

describe('closed pipes and full disks: a clean end, no stack trace', () => {
  it('a --json reader that goes away (EPIPE) ends the copy: DEST removed, exit 141', async () => {
    const dest = join(dir, 'epipe.img');
    const { child, out, exited } = copyFromPipe(dest, ['--json'], 'pipe');
    let events = '';
    child.stdout!.on('data', (b: Buffer) => (events += b.toString()));
    feedPart(child);
    await until('the first progress event', () => /"event":"progress"/.test(events));
    child.stdout!.destroy(); // the reader goes away (| head -c 10)
    // go on feeding, a little at a time: the next progress event meets the closed pipe
    let at = gz.length >> 2;
    const feeder = setInterval(() => {
      const next = Math.min(at + 4096, gz.length - 1); // never all of it: the copy cannot finish
      if (next > at) child.stdin!.write(gz.subarray(at, next), () => undefined);
      at = next;
    }, 20);
    const [status] = await exited;
    clearInterval(feeder);
    expect(status).toBe(141);
    expect(out.stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(existsSync(dest)).toBe(false);
  });

  it('a stderr reader that goes away ends the copy at its next message (exit 141), DEST removed', async () => {
    const dest = join(dir, 'epipe2.img');
    const { child, exited, started } = copyFromPipe(dest);
    feedPart(child);
    await started();
    child.stderr!.destroy();
    child.stdin!.end(gz.subarray(gz.length >> 2)); // the rest: the next message ("synchronizing") meets the closed pipe
    expect((await exited)[0]).toBe(141);
    expect(existsSync(dest)).toBe(false);
  });

  it('an error reported on a stderr whose reader went away: still one clean end (exit 1), DEST removed', async () => {
    const dest = join(dir, 'epipe3.img');
    const { child, exited, started } = copyFromPipe(dest);
    feedPart(child);
    await started();
    child.stderr!.destroy();
    child.stdin!.end(Buffer.from('this is not the rest of the gzip stream'));
    expect((await exited)[0]).toBe(1);
    expect(existsSync(dest)).toBe(false);
  });

  it('a slow reader of stderr loses nothing: the CLI waits for its output to leave before it exits', async () => {
    const fifo = join(dir, 'stderr.fifo');
    execFileSync('mkfifo', [fifo]);
    const ours = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    let filler = 0;
    for (const size of [4096, 1]) {
      for (;;) {
        try {
          filler += writeSync(ours, Buffer.alloc(size, 0x2e));
        } catch {
          break; // the pipe is full
        }
      }
    }
    const theirs = openSync(fifo, constants.O_WRONLY);
    const child = spawn(process.execPath, [BIN, 'check', bmap], { stdio: ['ignore', 'ignore', theirs] });
    closeSync(theirs);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBe(null); // still waiting for its lines to be read
    let got = Buffer.alloc(0);
    const reader = setInterval(() => {
      try {
        const b = Buffer.alloc(1 << 16);
        const n = readSync(ours, b, 0, b.length, null);
        got = Buffer.concat([got, b.subarray(0, n)]);
      } catch {
        // EAGAIN: nothing yet
      }
    }, 5);
    expect(await exited).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(reader);
    closeSync(ours);
    expect(got.subarray(filler).toString()).toMatch(/^bmaptool: info: block map format version 2\.0\n(.*\n){3}bmaptool: info: bmap file '.*' is valid\n$/);
  });

  it('create: stdout on a full disk (/dev/full) is one error line and exit 1', () => {
    const img = join(dir, 'small.raw');
    sparseImage(img, 1 << 20, [1, 2, 3]);
    for (const cmd of [`'${process.execPath}' '${BIN}' create '${img}' > /dev/full`, `'${process.execPath}' '${BIN}' create -o /dev/full '${img}'`]) {
      const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      expect(r.status, cmd).toBe(1);
      expect(r.stderr).toMatch(/^bmaptool: ERROR: cannot write (to standard output|the output file '\/dev\/full'): no space left on device\n$/);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('create -o onto a full filesystem: one error line, and no file left behind (temporary or final)', () => {
    const img = join(dir, 'full-fs.raw');
    sparseImage(img, 1 << 20, [1, 2, 3]);
    const mnt = join(dir, 'tiny');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
    try {
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(16 << 10, 1)); // the filesystem is now full
      const r = spawnSync(process.execPath, [BIN, 'create', '-o', join(mnt, 'out.bmap'), img], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^bmaptool: ERROR: cannot (write|open) the output file '.*out\.bmap': no space left on device\n$/);
      expect(readdirSync(mnt)).toEqual(['filler']);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('create: a reader of stdout that goes away ends it with exit 141 and no stack trace', () => {
    const img = join(dir, 'many.raw');
    sparseImage(img, 64 << 20, Array.from({ length: 8192 }, (_, i) => i * 2)); // 8192 ranges: a bmap of ~900 KiB
    const bash = spawnSync('bash', ['-c', `'${process.execPath}' '${BIN}' create '${img}' | head -c 10 > /dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(bash.stdout.trim()).toBe('141');
    expect(bash.stderr).toBe('');
  });
});

const support = loopSupport();
if (!support.ok) skipNote(`device-tuning interrupt tests: ${support.reason}`);

describe.skipIf(!support.ok)('signals on a block device: tuning restored', () => {
  let loop: LoopDevice | undefined;
  afterAll(() => loop?.detach());
  const sysfs = (dev: string, file: string) => `/sys/block/${basename(dev)}/${file}`;

  it('SIGHUP, then a second signal while it restores: scheduler and max_ratio are back, exit 129', async () => {
    const backing = join(dir, 'loop.img');
    writeFileSync(backing, Buffer.alloc(16 << 20, 0xaa));
    loop = attachLoop(backing);
    writeFileSync(sysfs(loop.dev, 'queue/scheduler'), 'mq-deadline');
    writeFileSync(sysfs(loop.dev, 'bdi/max_ratio'), '100');
    const { child, out, exited } = copyFromPipe(loop.dev);
    feedPart(child);
    await until('the tuning', () => readFileSync(sysfs(loop!.dev, 'bdi/max_ratio'), 'utf8').trim() === '1');
    await until('the first block written', () => readFileSync(loop!.dev).subarray(0, 4096).some((b) => b !== 0xaa));
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 15));
    child.kill('SIGINT');
    expect((await exited)[0]).toBe(129);
    expect(out.stderr).toMatch(/\nbmaptool: ERROR: interrupted, exiting\nbmaptool: ERROR: '.*' was partly overwritten and does not hold a complete image\n$/);
    expect(readFileSync(sysfs(loop.dev, 'queue/scheduler'), 'utf8')).toMatch(/\[mq-deadline\]/);
    expect(readFileSync(sysfs(loop.dev, 'bdi/max_ratio'), 'utf8').trim()).toBe('100');
  });
});
