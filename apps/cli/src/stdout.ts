import { BmapkitError, fsReason } from '@bmapkit/bmap-format';

/** Writes to stdout and waits until it is taken; a failure is an OUTPUT_WRITE error: "<what> 'standard output': <reason>". */
export function writeStdout(stdout: NodeJS.WritableStream, text: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    stdout.write(text, (e) =>
      e
        ? reject(new BmapkitError('OUTPUT_WRITE', `${what} 'standard output': ${fsReason(e)}`, { cause: e, details: { path: 'standard output', errno: (e as NodeJS.ErrnoException).code } }))
        : resolve(),
    ),
  );
}
