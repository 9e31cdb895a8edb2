import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sample {
  /** Wall-clock seconds. */
  wall: number;
  /** Peak resident set size in MB (10^6 bytes), when /usr/bin/time is there to tell. */
  rssMB: number | undefined;
}

const TIME = '/usr/bin/time';

/** Runs a command once; wall time from the clock, peak RSS from GNU time(1). Throws if it fails. */
export function measure(argv: string[], env: NodeJS.ProcessEnv = process.env): Sample {
  const useTime = existsSync(TIME);
  const dir = mkdtempSync(join(tmpdir(), 'bmapkit-bench-m-'));
  const out = join(dir, 'rss');
  try {
    const cmd = useTime ? [TIME, '-f', '%M', '-o', out, ...argv] : argv;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd[0]!, cmd.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 24 });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`'${argv.join(' ')}' failed (${r.status ?? r.signal}): ${r.stderr?.toString().trim()}`);
    const rssMB = useTime ? (Number(readFileSync(out, 'utf8').trim().split('\n').pop()) * 1024) / 1e6 : undefined;
    return { wall, rssMB };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
