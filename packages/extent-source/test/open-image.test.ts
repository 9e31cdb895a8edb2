import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUrl, openImage } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-open-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openImage', () => {
  it('a local file: known size, its bytes, and positioned reads', async () => {
    const p = join(dir, 'a.img');
    writeFileSync(p, Buffer.from('0123456789'));
    const img = await openImage(p);
    expect(img).toMatchObject({ kind: 'file', size: 10, uri: p });
    const chunks: Uint8Array[] = [];
    for await (const c of img.stream() as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(Buffer.concat(chunks).toString()).toBe('0123456789');
    const ra = await img.randomAccess()!;
    const buf = new Uint8Array(3);
    expect(await ra.read(buf, 4)).toBe(3);
    expect(Buffer.from(buf).toString()).toBe('456');
    expect(await ra.read(new Uint8Array(5), 8)).toBe(2); // short at the end
    await ra.close();
  });

  it('a missing file says "no such file", not "unknown url type" as the reference does', async () => {
    await expect(openImage(join(dir, 'nope.img'))).rejects.toMatchObject({
      code: 'IMAGE_OPEN',
      message: `cannot open image '${join(dir, 'nope.img')}': no such file or directory`,
    });
  });

  it('a directory is refused', async () => {
    await expect(openImage(dir)).rejects.toMatchObject({ message: `cannot open image '${dir}': is a directory` });
  });

  it('URLs are recognised by their scheme; unknown schemes and unknown hosts are clear errors', async () => {
    expect(isUrl('https://example.invalid/a.img.xz?sig=1')).toBe(true);
    expect(isUrl('file:///tmp/a.img')).toBe(true);
    expect(isUrl('ssh://host/abs/path')).toBe(true);
    expect(isUrl('disk.img')).toBe(false);
    expect(isUrl('./weird:name.img')).toBe(false);
    await expect(openImage('gopher://example.invalid/a.img')).rejects.toMatchObject({
      code: 'IMAGE_URL',
      message: "cannot open image 'gopher://example.invalid/a.img': 'gopher' URLs are not supported (http, https, ftp, file and ssh are)",
    });
    await expect(openImage('https://user:pw@host.invalid/a.img')).rejects.toMatchObject({
      code: 'IMAGE_OPEN',
      message: expect.stringMatching(/^cannot open image 'https:\/\/user:\*\*\*@host\.invalid\/a\.img': host not found/),
    });
    const local = join(dir, 'via-url.img');
    writeFileSync(local, Buffer.alloc(8192, 3));
    await expect(openImage(`file://${local}`)).resolves.toMatchObject({ kind: 'file', path: local, size: 8192 });
  });

  it('stdin: the size is known when redirected from a file, unknown from a pipe', () => {
    const p = join(dir, 'in.img');
    writeFileSync(p, Buffer.alloc(12345, 1));
    const script = `import('${fileURLToPath(new URL('../dist/index.js', import.meta.url))}').then(async (m) => { const i = await m.openImage('-'); let n = 0; for await (const c of i.stream()) n += c.length; console.log(JSON.stringify({ kind: i.kind, size: i.size ?? null, n })); })`;
    const fromFile = spawnSync('sh', ['-c', `'${process.execPath}' -e "${script}" < '${p}'`], { encoding: 'utf8' });
    expect(JSON.parse(fromFile.stdout)).toEqual({ kind: 'stdin', size: 12345, n: 12345 });
    const fromPipe = spawnSync('sh', ['-c', `cat '${p}' | '${process.execPath}' -e "${script}"`], { encoding: 'utf8' });
    expect(JSON.parse(fromPipe.stdout)).toEqual({ kind: 'stdin', size: null, n: 12345 });
  });
});
