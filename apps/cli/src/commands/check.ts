import { checkBmap } from '@bmapkit/pipeline';
import { bmapSummary, geometryLine } from '../bmap-lines.js';
import type { Logger } from '../log.js';
import { errorObject } from '../json-error.js';

export interface CheckOptions {
  json?: boolean;
}

/**
 * `check BMAP`: parse and validate a bmap file by every rule bmapkit copies
 * by, verify its own checksum, and summarise it. Nothing is written; the
 * exit status says whether `copy` would accept the bmap.
 */
export async function check(path: string, options: CheckOptions, log: Logger, stdout: NodeJS.WritableStream): Promise<void> {
  let result;
  try {
    result = await checkBmap(path);
  } catch (e) {
    // --json: tooling gets an answer on stdout either way (the error line still goes to stderr)
    if (options.json === true) stdout.write(`${JSON.stringify({ bmap: path, valid: false, error: errorObject(e) })}\n`);
    throw e;
  }
  const { bmap, fileChecksum, ranges, rangesWithChecksums: withSums } = result;
  if (options.json === true) {
    stdout.write(
      `${JSON.stringify({
        bmap: path,
        valid: true,
        ...bmapSummary(bmap),
        ranges,
        rangesWithChecksums: withSums,
        fileChecksum: fileChecksum === null ? null : { algorithm: fileChecksum.algorithm, value: fileChecksum.expected, verified: fileChecksum.ok },
        clearsigned: result.clearsigned,
      })}\n`,
    );
    return;
  }
  log.info(`block map format version ${bmap.version}`);
  log.info(geometryLine(bmap));
  const sums = withSums === 0 ? 'no range checksums' : `${withSums} with ${bmap.checksumType} checksums`;
  log.info(`${ranges} ranges, ${sums}`);
  log.info(
    fileChecksum === null
      ? `format ${bmap.version} carries no bmap file checksum`
      : `bmap file checksum verified (${fileChecksum.algorithm} ${fileChecksum.expected})`,
  );
  if (result.clearsigned) log.info('the bmap is clearsigned; its signature was not checked');
  log.info(`bmap file '${path}' is valid`);
}
