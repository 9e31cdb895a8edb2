/** Where sysfs and procfs are: injectable so that tests run on fake trees without root. */
export interface SystemRoots {
  /** Default `/sys`. */
  sys: string;
  /** Default `/proc`. */
  proc: string;
}

export const SYSTEM_ROOTS: SystemRoots = { sys: '/sys', proc: '/proc' };

export function systemRoots(partial?: Partial<SystemRoots>): SystemRoots {
  return { ...SYSTEM_ROOTS, ...partial };
}

/** "major:minor" of a device number as stat reports it (st_rdev). */
export function devnoOf(rdev: number): string {
  // glibc's gnu_dev_major/minor: the 64-bit encoding Linux uses
  const major = ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
  const minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
  return `${major}:${minor >>> 0}`;
}
