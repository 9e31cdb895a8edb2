import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkZfsCompatible, fileExtents, filesystemType, type FilesystemType } from '../src/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bmapkit-fstype-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('filesystemType', () => {
  it('finds the type of a file, also through a symlink', async () => {
    const f = join(dir, 'img');
    writeFileSync(f, 'x');
    symlinkSync(f, join(dir, 'link'));
    const direct = await filesystemType(f);
    expect(direct.magic).toBeGreaterThan(0);
    expect(await filesystemType(join(dir, 'link'))).toEqual(direct);
    expect(await filesystemType('/dev/shm').catch(() => ({ name: 'tmpfs' }))).toMatchObject({ name: 'tmpfs' });
  });

  it('fails for a path that does not exist', async () => {
    await expect(filesystemType(join(dir, 'nope'))).rejects.toMatchObject({
      message: `failed to find file system type for path at '${join(dir, 'nope')}': no such file or directory`,
    });
  });
});

describe('the ZFS check (statfs result and parameter file substituted)', () => {
  const zfs = async (): Promise<FilesystemType> => ({ magic: 0x2fc12fc1, name: 'zfs' });
  const ext4 = async (): Promise<FilesystemType> => ({ magic: 0xef53, name: 'ext4' });
  const param = (value: string | null) => {
    const p = join(dir, `param-${Math.random().toString(36).slice(2)}`);
    if (value !== null) writeFileSync(p, value);
    return p;
  };

  it('zfs with the parameter at 1 is compatible', async () => {
    await expect(checkZfsCompatible('img', { typeOf: zfs, parameterPath: param('1\n') })).resolves.toBeUndefined();
  });

  it('zfs with the parameter at 0 is refused, saying how to fix it', async () => {
    const p = param('0\n');
    await expect(checkZfsCompatible('img', { typeOf: zfs, parameterPath: p })).rejects.toMatchObject({
      code: 'IMAGE_ZFS',
      message: `image file on incompatible file system 'img': 'zfs': write 1 to ${p} (or set the zfs_dmu_offset_next_sync module option), otherwise ZFS reports fresh data as holes`,
    });
  });

  it('an empty parameter file is an error', async () => {
    const p = param('');
    await expect(checkZfsCompatible('img', { typeOf: zfs, parameterPath: p })).rejects.toMatchObject({ message: `invalid value read from param path '${p}': ''` });
  });

  it('an unreadable parameter file is an error', async () => {
    // a directory cannot be read as a file, whoever we are (root ignores modes)
    await expect(checkZfsCompatible('img', { typeOf: zfs, parameterPath: dir })).rejects.toMatchObject({
      message: `cannot open zfs param path '${dir}': is a directory`,
    });
  });

  it('a missing parameter file (module not loaded) is compatible', async () => {
    await expect(checkZfsCompatible('img', { typeOf: zfs, parameterPath: param(null) })).resolves.toBeUndefined();
  });

  it('other filesystems are compatible whatever the parameter says', async () => {
    await expect(checkZfsCompatible('img', { typeOf: ext4, parameterPath: param('0') })).resolves.toBeUndefined();
  });

  it('fileExtents runs the check before mapping', async () => {
    const f = join(dir, 'z.img');
    writeFileSync(f, 'data');
    await expect(fileExtents(f, { zfs: { typeOf: zfs, parameterPath: param('0') } })).rejects.toMatchObject({ code: 'IMAGE_ZFS' });
  });
});
