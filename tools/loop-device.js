// Real loop devices for tests (root only). Every test that uses them calls
// loopSupport() first and skips, printing the reason, when it says no.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let support;

/** { ok: true } when loop devices can be attached here, else { ok: false, reason }. */
export function loopSupport() {
  if (support !== undefined) return support;
  if (process.platform !== 'linux') return (support = { ok: false, reason: 'loop devices need Linux' });
  if (process.getuid?.() !== 0) return (support = { ok: false, reason: 'loop devices need root (losetup)' });
  const dir = mkdtempSync(join(tmpdir(), 'bmapkit-loop-probe-'));
  const file = join(dir, 'probe.img');
  try {
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 1 << 20);
    closeSync(fd);
    const dev = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    execFileSync('losetup', ['-d', dev]);
    support = { ok: true };
  } catch (e) {
    support = { ok: false, reason: `losetup is not permitted here (${String(e.stderr ?? e.message).trim().split('\n')[0]})` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return support;
}

/** Attaches FILE to a free loop device; with partitions, waits for their nodes (partx where udev is missing). */
export function attachLoop(file, { partitions = false } = {}) {
  const args = partitions ? ['-P', '-f', '--show', file] : ['-f', '--show', file];
  const dev = execFileSync('losetup', args, { encoding: 'utf8' }).trim();
  if (partitions && !existsSync(`${dev}p1`)) {
    try {
      execFileSync('partx', ['-a', dev], { stdio: 'ignore' });
    } catch {
      // partitions already known to the kernel: partx -a says so
    }
  }
  return {
    dev,
    detach() {
      if (partitions) {
        try {
          execFileSync('partx', ['-d', dev], { stdio: 'ignore' });
        } catch {
          // nothing to remove
        }
      }
      execFileSync('losetup', ['-d', dev]);
    },
  };
}

/** Writes an MBR with one Linux partition from `startSector` for `sectors` sectors. */
export function writeMbr(file, startSector, sectors) {
  const mbr = Buffer.alloc(512);
  mbr[446 + 4] = 0x83;
  mbr.writeUInt32LE(startSector, 446 + 8);
  mbr.writeUInt32LE(sectors, 446 + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const fd = openSync(file, 'r+');
  writeSync(fd, mbr, 0, 512, 0);
  closeSync(fd);
}

/**
 * Mounts DEV read-only on a new directory under DIR; returns the mount point
 * and how to unmount it. Read-only: a mounted ext4 writes to its device in
 * the background (lazy inode-table init, superblock), which would make
 * "the device is unchanged" checks fail for reasons of its own.
 */
export function mountUnder(dir, dev) {
  const at = join(dir, `mnt-${dev.split('/').pop()}`);
  mkdirSync(at, { recursive: true });
  execFileSync('mount', ['-o', 'ro', dev, at]);
  return { at, unmount: () => execFileSync('umount', [at]) };
}
