import { humanSize, humanTime } from '@bmapkit/bmap-format';
import { copyImage, redactUrl, registryWithModules, type CopyEvent } from '@bmapkit/pipeline';
import { bmapSummary, geometryLine } from '../bmap-lines.js';
import { checkConflicts, type CopyOptions } from '../copy/options.js';
import { psplashReporter } from '../copy/psplash.js';
import { combine, jsonProgressSink, psplashSink, terminalSink } from '../copy/progress.js';
import type { Logger } from '../log.js';
import { interruptible } from '../interrupt.js';
import { errorObject } from '../json-error.js';

export interface CopyIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export type { CopyOptions };

/**
 * `copy [options] IMAGE DEST`: the options become a copyImage call, its
 * events become log lines, the progress line, psplash updates and --json
 * events.
 */
export async function copy(imagePath: string, destPath: string, o: CopyOptions, log: Logger, io: CopyIO): Promise<void> {
  const emit = o.json === true ? (event: Record<string, unknown>) => void io.stdout.write(`${JSON.stringify(event)}\n`) : undefined;
  try {
    checkConflicts(o);
    emit?.({ event: 'start', image: redactUrl(imagePath), dest: destPath });
    const progress = combine([
      psplashSink(psplashReporter(o.psplashPipe, log)),
      io.stderr.isTTY === true && log.verbosity === 'normal' && emit === undefined ? terminalSink(log.prog, (s) => io.stderr.write(s)) : undefined,
      emit === undefined ? undefined : jsonProgressSink(emit),
    ]);
    const onEvent = (e: CopyEvent) => {
      switch (e.type) {
        case 'log':
          return log[e.level](e.message);
        case 'bmap':
          emit?.({ event: 'bmap', path: e.path === undefined ? null : redactUrl(e.path), discovered: e.discovered, ...bmapSummary(e.bmap), format: e.format });
          log.info(`block map format version ${e.bmap.version}`);
          return log.info(geometryLine(e.bmap));
        case 'progress':
          return progress?.update(e.bytes, e.total);
        case 'sync':
          return progress?.finish();
        default:
          return undefined;
      }
    };
    const registry = await registryWithModules(o.codec ?? []);
    const result = await interruptible((signal) =>
      copyImage({
        image: imagePath,
        registry,
        dest: destPath,
        ...(o.nobmap === true ? { bmap: false as const } : o.bmap === undefined ? {} : { bmap: o.bmap }),
        verify: o.verify,
        signature: {
          verify: o.sigVerify,
          ...(o.bmapSig === undefined ? {} : { file: o.bmapSig }),
          ...(o.keyring === undefined ? {} : { keyring: o.keyring }),
          ...(o.fingerprint === undefined ? {} : { fingerprint: o.fingerprint }),
        },
        device: { removable: o.removableDevice === true, force: o.force === true, ...(o.direct === undefined ? {} : { direct: o.direct }), tune: o.tune },
        readBack: o.verifyWritten === true,
        signal,
        onEvent,
      }),
    );
    const seconds = result.seconds;
    const rate = (bytes: number) => Math.floor(bytes / Math.max(seconds, 1e-9));
    const copied = result.bmap === undefined ? result.imageSize : result.bmap.mappedBlocksCount * result.bmap.blockSize;
    log.info(`copying time: ${humanTime(seconds)}, copying speed ${humanSize(rate(copied))}/sec`);
    emit?.({ event: 'done', bytesWritten: result.bytesWritten, imageSize: result.imageSize, seconds, bytesPerSecond: rate(result.bytesWritten), rewrites: result.rewrites, direct: result.direct });
  } catch (e) {
    emit?.({ event: 'error', ...errorObject(e) });
    throw e;
  }
}
