import { serializeBmap } from '@bmapkit/bmap-format';
import { createBmap, openOutput } from '@bmapkit/pipeline';
import type { Logger } from '../log.js';
import { interruptible } from '../interrupt.js';
import { writeStdout } from '../stdout.js';

export interface CreateOptions {
  output?: string;
  checksum: boolean;
}

/**
 * `create [-o OUTPUT] [--no-checksum] IMAGE`: the image's bmap, to stdout or
 * to OUTPUT (which appears whole or not at all).
 */
export async function create(image: string, options: CreateOptions, log: Logger, stdout: NodeJS.WritableStream): Promise<void> {
  await interruptible(async (signal) => {
    const output = options.output === undefined ? undefined : await openOutput(options.output, [{ what: 'image', name: image, path: image }], { signal });
    try {
      const bmap = await createBmap({ image, checksum: options.checksum, signal, onEvent: (e) => log[e.level](e.message) });
      const text = serializeBmap(bmap);
      if (output === undefined) {
        await writeStdout(stdout, text, 'cannot write the bmap to');
      } else {
        await output.write(text);
        await output.commit();
      }
    } catch (e) {
      await output?.discard();
      throw e;
    }
  });
}
