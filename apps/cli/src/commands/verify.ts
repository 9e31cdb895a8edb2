import { BmapkitError, humanSize } from '@bmapkit/bmap-format';
import { redactUrl, registryWithModules, verifyImage } from '@bmapkit/pipeline';
import { geometryLine } from '../bmap-lines.js';
import type { Logger } from '../log.js';
import { interruptible } from '../interrupt.js';
import { errorObject } from '../json-error.js';

export interface VerifyCommandOptions {
  bmap?: string;
  json?: boolean;
  codec?: string[];
}

/**
 * `verify [--bmap B] TARGET`: checks a written device or file, or an image
 * (compressed or not), against a bmap's range checksums without writing
 * anything, and lists every range that differs. Exit 0 when all match.
 */
export async function verify(target: string, o: VerifyCommandOptions, log: Logger, stdout: NodeJS.WritableStream): Promise<void> {
  const shownTarget = redactUrl(target);
  let answered = false;
  try {
    const registry = await registryWithModules(o.codec ?? []);
    const result = await interruptible((signal) =>
      verifyImage({
        target,
        registry,
        ...(o.bmap === undefined ? {} : { bmap: o.bmap }),
        signal,
        onEvent: (e) => {
          if (e.type === 'log') log[e.level](e.message);
          else if (e.type === 'bmap' && o.json !== true) log.info(`verifying '${shownTarget}' against bmap file '${redactUrl(e.path ?? 'given')}': ${geometryLine(e.bmap)}`);
        },
      }),
    );
    const { mismatches, bmap } = result;
    const bmapName = redactUrl(result.bmapPath ?? 'given');
    if (o.json === true) {
      answered = true;
      stdout.write(`${JSON.stringify({ event: 'verify', target: shownTarget, bmap: bmapName, ranges: result.ranges, mismatches, ok: result.ok })}\n`);
    } else {
      for (const m of mismatches) log.error(`blocks range ${m.first}-${m.last} differs: calculated ${m.actual}, bmap says ${m.expected}`);
    }
    if (!result.ok) {
      const bytes = mismatches.reduce((n, m) => n + (m.last - m.first + 1) * bmap.blockSize, 0);
      throw new BmapkitError('RANGE_CHECKSUM', `${mismatches.length} of ${result.ranges} ranges (${humanSize(bytes)}) of '${shownTarget}' differ from bmap file '${bmapName}'`, {
        details: { mismatches },
      });
    }
    if (o.json !== true) log.info(`all ${result.ranges} ranges of '${shownTarget}' match the bmap`);
  } catch (e) {
    if (o.json === true && !answered) stdout.write(`${JSON.stringify({ event: 'verify', target: shownTarget, ok: false, error: errorObject(e) })}\n`);
    throw e;
  }
}
