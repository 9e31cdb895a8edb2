import { spawn, spawnSync } from 'node:child_process';
import { BmapkitError } from '@bmapkit/bmap-format';
import type { DecoderPair } from './codec.js';
import { decompressError, truncatedError } from './errors.js';
import { webReadable } from './node-stream-pair.js';

const found = new Map<string, boolean>();

/** True if `program` can be run (looked up once per process). */
export function hasProgram(program: string): boolean {
  let ok = found.get(program);
  if (ok === undefined) {
    ok = spawnSync(program, ['--help'], { stdio: 'ignore' }).error === undefined;
    found.set(program, ok);
  }
  return ok;
}

export interface ExternalDecoderSpec {
  format: string;
  /** Programs to try in order, with their arguments ("decompress stdin to stdout"). */
  programs: Array<{ program: string; args: string[] }>;
  /** Recognises the program's complaint about a cut-off stream. */
  truncated: RegExp;
  /** The Debian package that provides the programs, for the error message. */
  aptPackage: string;
}

/**
 * A decoder that runs a decompression program (stdin to stdout). Its exit
 * status and stderr are checked: any failure is a typed error (the
 * reference ignores them and writes a short image).
 */
export function externalDecoder(spec: ExternalDecoderSpec, source: string): DecoderPair {
  const choice = spec.programs.find((p) => hasProgram(p.program));
  if (choice === undefined) {
    throw new BmapkitError(
      'DECOMPRESSOR_MISSING',
      `the "${spec.programs.map((p) => p.program).join('" or "')}" program is not available but it is required decompressing "${source}"; install it (apt-get install ${spec.aptPackage})`,
      { details: { format: spec.format, source } },
    );
  }
  const child = spawn(choice.program, choice.args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (e) => resolve(e.message));
    child.on('close', (code, signal) => resolve(code ?? `killed by ${signal}`));
  });
  const failure = (status: number | string): Error => {
    const reason = stderr.trim().split('\n').pop() ?? '';
    if (spec.truncated.test(stderr)) return truncatedError(spec.format, source);
    return decompressError(spec.format, source, `${choice.program} failed (${status})${reason ? `: ${reason.replace(/^[^:]*: /, '')}` : ''}`);
  };
  let inputError: unknown;
  let wakeWriter: (() => void) | undefined;
  child.stdin.on('error', (e) => {
    inputError = e; // EPIPE: the program quit early; its exit status tells why
    wakeWriter?.();
  });
  child.stdin.on('drain', () => wakeWriter?.());
  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      // Node may hold the chunk in the pipe's queue after returning: it gets
      // a copy, so that the caller may reuse its buffer once write() resolves
      if (inputError !== undefined || child.stdin.write(Buffer.from(chunk))) return;
      return new Promise<void>((resolve) => {
        wakeWriter = () => {
          wakeWriter = undefined;
          resolve();
        };
      });
    },
    close() {
      child.stdin.end();
    },
    abort() {
      child.kill();
    },
  });
  const out = child.stdout;
  const readable = webReadable(out, {
    finish: async () => {
      const status = await exited;
      return status === 0 ? undefined : failure(status);
    },
    cancel: () => {
      out.destroy();
      child.kill();
    },
  });
  return { readable, writable };
}
