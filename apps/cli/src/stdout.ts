import { fsError } from '@bmapkit/bmap-format';

/** Writes to stdout and waits until it is taken; a failure is an OUTPUT_WRITE error: "<what> 'standard output': <reason>". */
export function writeStdout(stdout: NodeJS.WritableStream, text: string, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    stdout.write(text, (e) => (e ? reject(fsError('OUTPUT_WRITE', what, 'standard output', e)) : resolve())),
  );
}
