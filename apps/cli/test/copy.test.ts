import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBmap } from '@bmapkit/bmap-format';
import { fileExtents, unmappedRanges } from '@bmapkit/extent-source';
import { BIN, BLOCKMAP, TEST_IMAGE_SHA, VECTORS, run } from './run.js';
import { sha256, sparseImage, vectorA } from './images.js';
import { hasProgram as has, skipNote } from '../../../tools/test-needs.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-copy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(cmd: string, input?: Buffer): void {
  const r = spawnSync('sh', ['-c', cmd], { cwd: dir, input });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}
/** Runs the CLI with a shell (for stdin redirections and pipes). */
function shellRun(cmd: string) {
  return spawnSync('sh', ['-c', cmd.replaceAll('BMAPTOOL', `'${process.execPath}' '${BIN}'`)], { cwd: dir, encoding: 'utf8' });
}
/** The copy's holes must be exactly the bmap's unmapped blocks. */
async function expectSameHoles(path: string, bmapPath: string) {
  const bmap = await parseBmap(readFileSync(bmapPath));
  const map = await fileExtents(path);
  expect(map.blockSize).toBe(bmap.blockSize);
  expect(unmappedRanges(map.ranges, map.blocksCount)).toEqual(unmappedRanges(bmap.ranges, bmap.blocksCount));
}

/** Exactly one ERROR line, matching `re`, and no stack trace. */
function oneLine(r: { stderr: string }, re: RegExp) {
  const errors = r.stderr.split('\n').filter((l) => l.includes('ERROR'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe('copy: the reference vectors', () => {
  for (const v of ['1.2', '1.3', '1.4', '2.0']) {
    it(`test.image.gz with the ${v} bmap: byte-identical, holes exactly at unmapped blocks`, async () => {
      const out = join(dir, `v${v}.img`);
      const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v${v}`, `${VECTORS}test.image.gz`, out]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      expect(sha256(readFileSync(out))).toBe(TEST_IMAGE_SHA);
      await expectSameHoles(out, `${VECTORS}test.image.bmap.v${v}`);
    });
  }

  it('--no-verify copies the same bytes', () => {
    const out = join(dir, 'nv.img');
    expect(run(['copy', '--no-verify', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, out]).status).toBe(0);
    expect(sha256(readFileSync(out))).toBe(TEST_IMAGE_SHA);
  });

  it('discovers the bmap next to the image and prints the reference info lines', () => {
    copyFileSync(`${VECTORS}test.image.gz`, join(dir, 'disc.img.gz'));
    copyFileSync(`${VECTORS}test.image.bmap.v2.0`, join(dir, 'disc.img.bmap'));
    const r = spawnSync(process.execPath, [BIN, 'copy', 'disc.img.gz', 'disc.out'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      "bmaptool: info: discovered bmap file 'disc.img.bmap'",
      'bmaptool: info: block map format version 2.0',
      'bmaptool: info: 201 blocks of size 4096 (802.5 KiB), mapped 117 blocks (468.0 KiB or 58.2%)',
      "bmaptool: info: copying image 'disc.img.gz' to file 'disc.out' using bmap file 'disc.img.bmap'",
      "bmaptool: info: synchronizing 'disc.out'",
    ]);
    expect(lines[5]).toMatch(/^bmaptool: info: copying time: \d+\.\ds, copying speed [\d.]+ (bytes|KiB|MiB|GiB)\/sec$/);
    expect(lines[6]).toBe('');
  });

  it('from stdin: redirected from the file, and through a pipe (gzip detected by magic)', () => {
    for (const [cmd, out] of [
      [`BMAPTOOL -q copy --bmap '${VECTORS}test.image.bmap.v2.0' - stdin1.img < '${VECTORS}test.image.gz'`, 'stdin1.img'],
      [`cat '${VECTORS}test.image.gz' | BMAPTOOL -q copy --bmap '${VECTORS}test.image.bmap.v2.0' - stdin2.img`, 'stdin2.img'],
    ] as const) {
      const r = shellRun(cmd);
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, out)))).toBe(TEST_IMAGE_SHA);
    }
  });

  it('an uncompressed local image is read at the mapped ranges', async () => {
    sh(`gunzip -c '${VECTORS}test.image.gz' > raw.img`);
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v1.3`, join(dir, 'raw.img'), join(dir, 'raw.out')]);
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(join(dir, 'raw.out')))).toBe(TEST_IMAGE_SHA);
    await expectSameHoles(join(dir, 'raw.out'), `${VECTORS}test.image.bmap.v1.3`);
  });

  it('an uncompressed local image with a wrong range checksum: RANGE_CHECKSUM, and the DEST we created is removed', () => {
    sh(`gunzip -c '${VECTORS}test.image.gz' > raw2.img`);
    const bad = readFileSync(`${VECTORS}test.image.bmap.v1.2`, 'utf8').replace(/sha1="[0-9a-f]{40}"> 119-133/, `sha1="${'0'.repeat(40)}"> 119-133`);
    writeFileSync(join(dir, 'raw2.bmap'), bad);
    const r = run(['copy', '--bmap', join(dir, 'raw2.bmap'), join(dir, 'raw2.img'), join(dir, 'raw2.out')]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: checksum mismatch for blocks range 119-133: calculated [0-9a-f]{40}, should be 0{40} \(image file .*raw2\.img\)$/);
    expect(existsSync(join(dir, 'raw2.out'))).toBe(false);
    const j = run(['copy', '--json', '--bmap', `${VECTORS}test.image.bmap.v2.0`, join(dir, 'raw2.img'), join(dir, 'raw3.out')]);
    const events = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; bytes?: number; total?: number });
    expect(events.filter((e) => e.event === 'progress').at(-1)).toMatchObject({ bytes: 117 * 4096, total: 117 * 4096 }); // the last block (200) is a hole
  });

  it('writes the exact info lines of the reference for vector A', () => {
    vectorA(join(dir, 'a.raw'));
    expect(run(['create', '-o', join(dir, 'a.raw.bmap'), join(dir, 'a.raw')]).status).toBe(0);
    const r = spawnSync(process.execPath, [BIN, 'copy', 'a.raw', 'a.out'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr.split('\n').slice(0, 4)).toEqual([
      "bmaptool: info: discovered bmap file 'a.raw.bmap'",
      'bmaptool: info: block map format version 2.0',
      'bmaptool: info: 256 blocks of size 4096 (1.0 MiB), mapped 6 blocks (24.0 KiB or 2.3%)',
      "bmaptool: info: copying image 'a.raw' to file 'a.out' using bmap file 'a.raw.bmap'",
    ]);
    expect(statSync(join(dir, 'a.out')).blocks * 512).toBe(24 * 1024);
  });
});

describe('copy: every compression format, made by the real tools, with and without a bmap', () => {
  const FORMATS: Array<[string, string, string, string]> = [
    ['gzip', 'gzip', 'gzip -c img > img.gz', 'img.gz'],
    ['pigz', 'pigz', 'pigz -c -p 2 -b 128 img > img.pigz.gz', 'img.pigz.gz'],
    ['bzip2', 'bzip2', 'bzip2 -c img > img.bz2', 'img.bz2'],
    ['pbzip2', 'pbzip2', 'pbzip2 -c -b1 -p2 img > img.p.bz2', 'img.p.bz2'],
    ['xz', 'xz', 'xz -c img > img.xz', 'img.xz'],
    ['xz -T2', 'xz', 'xz -c -T2 --block-size=1MiB img > img.mt.xz', 'img.mt.xz'],
    ['zstd', 'zstd', 'zstd -q -c img > img.zst', 'img.zst'],
    ['lz4', 'lz4', 'lz4 -q -c img > img.lz4', 'img.lz4'],
    ['lzop', 'lzop', 'lzop -c img > img.lzo', 'img.lzo'],
    ['tar.gz', 'gzip', 'tar -czf img.tar.gz img', 'img.tar.gz'],
    ['tar.bz2', 'bzip2', 'tar -cjf img.tar.bz2 img', 'img.tar.bz2'],
    ['tar.xz', 'xz', 'tar -cJf img.tar.xz img', 'img.tar.xz'],
    ['tar.zst', 'zstd', 'tar --zstd -cf img.tar.zst img', 'img.tar.zst'],
    ['tar.lz4', 'lz4', 'tar -I lz4 -cf img.tar.lz4 img', 'img.tar.lz4'],
    ['tar.lzo', 'lzop', 'tar --lzop -cf img.tar.lzo img', 'img.tar.lzo'],
    ['zip', 'zip', 'zip -q img.zip img', 'img.zip'],
  ];
  let content: Uint8Array;
  beforeAll(() => {
    const blocks = [...new Set(Array.from({ length: 400 }, (_, i) => (i * i * 7 + 3) % 1500))];
    content = sparseImage(join(dir, 'img'), 1500 * 4096 - 999, blocks);
    expect(run(['create', '-o', join(dir, 'img.bmap'), join(dir, 'img')]).status).toBe(0);
  });

  for (const [label, tool, cmd, file] of FORMATS) {
    it.skipIf(!has(tool))(`${label}: path, stdin and --nobmap give the image back`, async () => {
      sh(cmd);
      const bmap = join(dir, 'img.bmap');
      const out = join(dir, `${file}.out`);
      let r = run(['copy', '--bmap', bmap, join(dir, file), out]);
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(out))).toBe(sha256(content));
      await expectSameHoles(out, bmap);
      const viaStdin = shellRun(`cat ${file} | BMAPTOOL -q copy --bmap img.bmap - ${file}.stdin`);
      expect(viaStdin.status, viaStdin.stderr).toBe(0);
      expect(sha256(readFileSync(join(dir, `${file}.stdin`)))).toBe(sha256(content));
      r = run(['copy', '--nobmap', join(dir, file), `${out}.nobmap`]);
      expect(r.status, r.stderr).toBe(0);
      expect(sha256(readFileSync(`${out}.nobmap`))).toBe(sha256(content));
    });
    if (!has(tool)) skipNote(`${label} copy: ${tool} is not installed`);
  }

  it('--nobmap from a raw file, from stdin and from a pipe', () => {
    expect(run(['copy', '--nobmap', join(dir, 'img'), join(dir, 'nb1')]).status).toBe(0);
    expect(sha256(readFileSync(join(dir, 'nb1')))).toBe(sha256(content));
    for (const cmd of ['BMAPTOOL -q copy --nobmap - nb2 < img', 'cat img | BMAPTOOL -q copy --nobmap - nb3']) expect(shellRun(cmd).status).toBe(0);
    expect(sha256(readFileSync(join(dir, 'nb2')))).toBe(sha256(content));
    expect(sha256(readFileSync(join(dir, 'nb3')))).toBe(sha256(content));
  });
});

describe('copy: a 1 TiB sparse image with 1 MiB of data', () => {
  it('reads and writes only the mapped MiB; the copy is as sparse as the image', async () => {
    const img = join(dir, 'tera.img');
    sh(`truncate -s 1T tera.img && head -c 1048576 /dev/urandom > mib && dd if=mib of=tera.img bs=4096 seek=123456789 conv=notrunc status=none`);
    expect(run(['create', '-o', `${img}.bmap`, img]).status).toBe(0);
    const out = join(dir, 'tera.out');
    const r = run(['copy', img, out]);
    expect(r.status, r.stderr).toBe(0);
    expect(statSync(out).size).toBe(2 ** 40);
    expect(statSync(out).blocks * 512).toBeLessThanOrEqual(2 << 20);
    const fd = await import('node:fs/promises').then((m) => m.open(out));
    const back = Buffer.alloc(1 << 20);
    await fd.read(back, 0, back.length, 123456789 * 4096);
    await fd.close();
    expect(back.equals(readFileSync(join(dir, 'mib')))).toBe(true);
    await expectSameHoles(out, `${img}.bmap`);
    rmSync(out);
    rmSync(img);
  });
});

describe('copy: bad input is refused clearly, and DEST is untouched when it can be told in advance', () => {
  const OLD = 'old destination content\n';
  const dest = (name: string) => {
    const p = join(dir, name);
    writeFileSync(p, OLD);
    return p;
  };
  const untouched = (p: string) => expect(readFileSync(p, 'utf8')).toBe(OLD);

  it('a corrupt bmap checksum', () => {
    const d = dest('d1');
    const r = run(['copy', '--bmap', `${BLOCKMAP}invalid/file-checksum/version-2.0.bmap`, `${VECTORS}test.image.gz`, d]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: checksum mismatch for bmap file '.*version-2.0.bmap'/);
    untouched(d);
  });

  it('corrupt range data: RANGE_CHECKSUM names the range; a DEST we created is removed', () => {
    // a 1.2 bmap (no file checksum) with one wrong but well-formed sha1: the reference copies it silently
    const bad = readFileSync(`${VECTORS}test.image.bmap.v1.2`, 'utf8').replace(/sha1="[0-9a-f]{40}"> 119-133/, `sha1="${'0'.repeat(40)}"> 119-133`);
    expect(bad).toContain('0'.repeat(40));
    writeFileSync(join(dir, 'bad.bmap'), bad);
    const out = join(dir, 'never.img');
    const r = run(['copy', '--bmap', join(dir, 'bad.bmap'), `${VECTORS}test.image.gz`, out]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: checksum mismatch for blocks range 119-133: calculated [0-9a-f]{40}, should be 0{40} \(image file .*test.image.gz\)$/);
    expect(existsSync(out)).toBe(false);
    const d = dest('d2');
    const r2 = run(['copy', '--bmap', join(dir, 'bad.bmap'), `${VECTORS}test.image.gz`, d]);
    expect(r2.stderr).toMatch(/ERROR: checksum mismatch for blocks range 119-133: .*; '.*d2' was partly overwritten and does not hold a complete image\n$/);
  });

  it('where SHA-256 is slow (SHA extensions hidden), hashing moves off the main thread and still catches a bad range', () => {
    // OPENSSL_ia32cap hides the SHA extensions: the calibration then picks off-thread hashing (the addon's pool)
    const env = { OPENSSL_ia32cap: ':~0x20000000' };
    const good = join(dir, 'slow-sha.img');
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, good], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(sha256(readFileSync(good))).toBe(TEST_IMAGE_SHA);
    const bad = readFileSync(`${VECTORS}test.image.bmap.v1.2`, 'utf8').replace(/sha1="[0-9a-f]{40}"> 119-133/, `sha1="${'0'.repeat(40)}"> 119-133`);
    writeFileSync(join(dir, 'slow-bad.bmap'), bad);
    const out = join(dir, 'slow-sha-bad.img');
    const r2 = run(['copy', '--bmap', join(dir, 'slow-bad.bmap'), `${VECTORS}test.image.gz`, out], { env });
    expect(r2.status).toBe(1);
    oneLine(r2, /ERROR: checksum mismatch for blocks range 119-133: calculated [0-9a-f]{40}, should be 0{40}/);
  });

  it('the bmap of another image (a raw image of another size)', () => {
    writeFileSync(join(dir, 'other.img'), Buffer.alloc(100000, 7));
    const d = dest('d3');
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, join(dir, 'other.img'), d]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: cannot set image size to 100000 bytes, it is known to be 821752 bytes \(802.5 KiB\)/);
    untouched(d);
  });

  it('the bmap of another image (compressed: found by the checksums)', () => {
    sh('head -c 821752 /dev/zero | gzip -c > zeros.gz');
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, join(dir, 'zeros.gz'), join(dir, 'z.out')]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: checksum mismatch for blocks range/);
    expect(existsSync(join(dir, 'z.out'))).toBe(false);
  });

  for (const [fmt, tool, make] of [
    ['gz', 'gzip', 'gzip -c'],
    ['xz', 'xz', 'xz -c'],
    ['zst', 'zstd', 'zstd -q -c'],
  ] as const) {
    it.skipIf(!has(tool))(`a truncated .${fmt}`, () => {
      sh(`gunzip -c '${VECTORS}test.image.gz' | ${make} > full.${fmt} && head -c $(( $(stat -c %s full.${fmt}) / 2 )) full.${fmt} > cut.${fmt}`);
      const out = join(dir, `cut-${fmt}.out`);
      const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, join(dir, `cut.${fmt}`), out]);
      expect(r.status).toBe(1);
      oneLine(r, /ERROR: .*(is truncated|ends at byte \d+, inside blocks|cannot decompress)/);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('garbage named .gz (the reference writes nothing and exits 0)', () => {
    writeFileSync(join(dir, 'junk.gz'), 'foobar\n');
    const d = dest('d4');
    const r = run(['copy', '--nobmap', join(dir, 'junk.gz'), d]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: image '.*junk.gz' is named like a gzip file but its content is not gzip data/);
    untouched(d);
  });

  it('no bmap found and no --nobmap', () => {
    writeFileSync(join(dir, 'lonely.img'), Buffer.alloc(8192, 1));
    const d = dest('d5');
    const r = run(['copy', join(dir, 'lonely.img'), d]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: bmap file not found, please, use --nobmap option to flash without bmap$/);
    untouched(d);
    const fresh = join(dir, 'fresh.img');
    run(['copy', join(dir, 'lonely.img'), fresh]);
    expect(existsSync(fresh)).toBe(false);
  });

  it('an error while a compressed image is still being decoded: one line, exit 1, no crash at exit', () => {
    // 4 GiB of zeros in ~130 KB of zstd: the decoding thread is deep in it
    // when the missing bmap ends the run (freeing it under the thread at
    // exit was a SIGSEGV, exit 139)
    // (without zstd: 64 gzip members of 64 MiB of zeros each, named .zst and found by content)
    sh(has('zstd') ? 'truncate -s 4G zeros.img && zstd -q -f zeros.img -o zeros.img.zst && rm zeros.img' : 'head -c 64M /dev/zero | gzip -1 > z.gz && for i in $(seq 64); do cat z.gz; done > zeros.img.zst && rm z.gz');
    const d = dest('d5z');
    for (let i = 0; i < 3; i++) {
      const r = run(['copy', '--bmap', join(dir, 'none.bmap'), join(dir, 'zeros.img.zst'), d]);
      expect(r.status).toBe(1);
      oneLine(r, /ERROR: cannot open bmap file '.*none\.bmap': no such file or directory$/);
    }
    untouched(d);
  });

  it('the bmap given as the image (swapped arguments)', () => {
    const d = dest('d6');
    const r = run(['copy', `${VECTORS}test.image.bmap.v2.0`, d]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: image '.*test.image.bmap.v2.0' is a bmap file, not an image/);
    untouched(d);
    copyFileSync(`${VECTORS}test.image.bmap.v2.0`, join(dir, 'same.bmap'));
    const same = run(['copy', '--bmap', join(dir, 'same.bmap'), join(dir, 'same.bmap'), d]);
    oneLine(same, /ERROR: (Make sure you are writing your image and not the bmap file|image .* is a bmap file)/);
  });

  it('an unsupported bmap version', () => {
    writeFileSync(join(dir, 'v3.bmap'), readFileSync(`${VECTORS}test.image.bmap.v1.2`, 'utf8').replace('version="1.2"', 'version="3.0"'));
    const d = dest('d7');
    const r = run(['copy', '--bmap', join(dir, 'v3.bmap'), `${VECTORS}test.image.gz`, d]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: bmap file '.*v3.bmap': bmap format version 3.0 is not supported/);
    untouched(d);
  });

  it('option pairs the reference refuses', () => {
    for (const [args, msg] of [
      [['--nobmap', '--bmap', 'x'], '--nobmap and --bmap cannot be used together'],
      [['--bmap-sig', 's', '--no-sig-verify'], '--bmap-sig and --no-sig-verify cannot be used together'],
      [['--no-sig-verify', '--keyring', 'k'], '--no-sig-verify and --keyring cannot be used together'],
      [['--no-sig-verify', '--fingerprint', 'f'], '--no-sig-verify and --fingerprint cannot be used together'],
    ] as const) {
      const r = run(['copy', ...args, `${VECTORS}test.image.gz`, join(dir, 'never2')]);
      expect(r).toMatchObject({ status: 1, stderr: `bmaptool: ERROR: ${msg}\n` });
    }
    expect(existsSync(join(dir, 'never2'))).toBe(false);
  });

  it('a destination that fills up mid-copy: one DEST_FULL line, whatever the decoder (no stray stream errors)', () => {
    sh(`gunzip -c '${VECTORS}test.image.gz' > full-src.img && tar -czf full-src.tar.gz full-src.img`);
    const sources = [`${VECTORS}test.image.gz`, 'full-src.tar.gz', 'full-src.img'];
    for (const [tool, cmd, file] of [['xz', 'xz -c full-src.img > full-src.img.xz', 'full-src.img.xz'], ['zip', 'zip -q -j full-src.zip full-src.img', 'full-src.zip']] as const) {
      if (!has(tool)) continue; // the others still fill /dev/full
      sh(cmd);
      sources.push(file);
    }
    for (const src of sources) {
      const r = spawnSync(process.execPath, [BIN, 'copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, src, '/dev/full'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, `${src}: ${r.stderr}`).toBe(1);
      oneLine(r, /ERROR: error while writing blocks 0-1 of '\/dev\/full': no space left on device \(the image does not fit\)$/);
    }
  });

  it('an empty image, as a file or on stdin, is refused before DEST exists', () => {
    writeFileSync(join(dir, 'empty.img'), '');
    const r = run(['copy', '--nobmap', join(dir, 'empty.img'), join(dir, 'e1.out')]);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: image '.*empty.img' is empty \(0 bytes\): nothing to copy/);
    const s2 = shellRun('BMAPTOOL copy --nobmap - e2.out < /dev/null');
    expect(s2.status).toBe(1);
    expect(existsSync(join(dir, 'e1.out')) || existsSync(join(dir, 'e2.out'))).toBe(false);
  });

  it('Ctrl-C mid-copy: "interrupted, exiting", status 130, and a DEST it created is removed', async () => {
    const out = join(dir, 'interrupted.out');
    const child = spawn(process.execPath, [BIN, '-q', 'copy', '--nobmap', '-', out], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.stdin.write(Buffer.alloc(100_000, 1)); // then nothing: the copy waits for more
    const deadline = Date.now() + 20_000;
    while (!existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(out)).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toBe('bmaptool: ERROR: interrupted, exiting\n');
    expect(existsSync(out)).toBe(false);
  });

  it('a /dev path that does not exist is refused, not created', () => {
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, '/dev/bmapkit-no-such-disk']);
    expect(r.status).toBe(1);
    oneLine(r, /ERROR: "\/dev\/bmapkit-no-such-disk" does not exist; refusing to create a regular file under "\/dev"/);
    expect(existsSync('/dev/bmapkit-no-such-disk')).toBe(false);
  });

  it('a signature next to the bmap that is not a signature fails the copy; --no-sig-verify skips it', () => {
    copyFileSync(`${VECTORS}test.image.bmap.v2.0`, join(dir, 'signed.bmap'));
    writeFileSync(join(dir, 'signed.bmap.asc'), '-----BEGIN PGP SIGNATURE-----\n');
    const r = run(['copy', '--bmap', join(dir, 'signed.bmap'), `${VECTORS}test.image.gz`, join(dir, 'sig.out')]);
    expect(r.status).toBe(1);
    oneLine(
      r,
      has('gpg')
        ? /ERROR: the ".*signed.bmap.asc" signature file does not actually contain any valid signatures/
        : /ERROR: Cannot verify GPG signature without GPG: 'gpg' is not installed \(install gnupg, or pass --no-sig-verify to use the bmap unverified\)$/,
    );
    expect(existsSync(join(dir, 'sig.out'))).toBe(false);
    expect(run(['copy', '--no-sig-verify', '--bmap', join(dir, 'signed.bmap'), `${VECTORS}test.image.gz`, join(dir, 'sig.out')]).status).toBe(0);
  });
});

describe('copy: psplash progress', () => {
  it('writes PROGRESS lines to a FIFO, ending at 100', async () => {
    const fifo = join(dir, 'psplash_fifo');
    sh(`mkfifo ${fifo}`);
    // the reader keeps the FIFO open read-write, as psplash does, so it never sees end-of-file between updates
    const script = `timeout 20 cat <> ${fifo} > ${fifo}.log & pid=$!; sleep 0.2; '${process.execPath}' '${BIN}' -q copy --psplash-pipe ${fifo} --bmap '${VECTORS}test.image.bmap.v2.0' '${VECTORS}test.image.gz' ps.out; status=$?; sleep 0.3; kill $pid; exit $status`;
    const reader = spawnSync('sh', ['-c', script], { cwd: dir, encoding: 'utf8' });
    expect(reader.status, reader.stderr).toBe(0);
    const lines = readFileSync(`${fifo}.log`, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^PROGRESS \d{1,3}$/);
    expect(lines[lines.length - 1]).toBe('PROGRESS 100');
  });

  it('warns when the path is not a pipe, and copies anyway', () => {
    writeFileSync(join(dir, 'not-a-pipe'), '');
    const r = run(['copy', '--psplash-pipe', join(dir, 'not-a-pipe'), '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, join(dir, 'ps2.out')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`bmaptool: WARNING: '${join(dir, 'not-a-pipe')}' is not a pipe, so psplash progress will not be updated`);
    expect(sha256(readFileSync(join(dir, 'ps2.out')))).toBe(TEST_IMAGE_SHA);
  });
});

describe('copy: progress and events', () => {
  it('--json: start, bmap, progress, done as JSON lines on stdout', () => {
    const r = run(['copy', '--json', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, join(dir, 'json.out')]);
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toEqual({ event: 'start', image: `${VECTORS}test.image.gz`, dest: join(dir, 'json.out') });
    expect(events[1]).toMatchObject({ event: 'bmap', version: '2.0', imageSize: 821752, blockSize: 4096, mappedBlocksCount: 117, ranges: 48, checksumType: 'sha256', format: 'gzip', discovered: false });
    const progress = events.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toMatchObject({ bytes: 117 * 4096, total: 117 * 4096, percent: 100 });
    expect(events[events.length - 1]).toMatchObject({ event: 'done', bytesWritten: 117 * 4096, imageSize: 821752 });
  });

  it('--json: an error event with the code, and still the one ERROR line on stderr', () => {
    const r = run(['copy', '--json', '--bmap', `${BLOCKMAP}invalid/file-checksum/version-2.0.bmap`, `${VECTORS}test.image.gz`, join(dir, 'json2.out')]);
    expect(r.status).toBe(1);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[events.length - 1]).toMatchObject({ event: 'error', code: 'BMAP_CHECKSUM', message: expect.stringContaining('checksum mismatch for bmap file') });
    expect(r.stderr).toMatch(/^bmaptool: ERROR: checksum mismatch/m);
  });

  it('no progress line when stderr is not a terminal', () => {
    const r = run(['copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, join(dir, 'np.out')]);
    expect(r.stderr).not.toContain('% copied');
    expect(r.stderr).not.toContain('\x1b[');
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('on a terminal: a progress line with bar, bytes, speed and ETA, rewritten in place, ending at 100%', () => {
    const out = join(dir, 'tty.out');
    const cmd = [process.execPath, BIN, 'copy', '--bmap', `${VECTORS}test.image.bmap.v2.0`, `${VECTORS}test.image.gz`, out].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const text = r.stdout.replace(/\r\n/g, '\n');
    expect(text).toMatch(/\rbmaptool: info: \d+% copied \[[#.]{24}\] [\d.]+ (bytes|KiB) of 468\.0 KiB, [\d.]+ (bytes|KiB|MiB)\/s, ETA \d+:\d\d\x1b\[K\n/);
    expect(text).toMatch(/\x1b\[1A\rbmaptool: info: 100% copied \[#{24}\] 468\.0 KiB of 468\.0 KiB/);
    expect(text.indexOf('100% copied')).toBeLessThan(text.indexOf("synchronizing '"));
    expect(sha256(readFileSync(out))).toBe(TEST_IMAGE_SHA);
  });
  if (!hasScript) skipNote('terminal progress test: util-linux script is not installed');
});
