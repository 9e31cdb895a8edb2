import { humanSize, mappedByteCount, serializeBmap, type BlockRange, type Bmap } from '@bmapkit/bmap-format';
import { fileExtents } from '@bmapkit/extent-source';
import { hashFileRanges } from '@bmapkit/verifier';
import { openOutput } from '../output-file.js';
import type { Logger } from '../log.js';
import { fsError } from '../fs-errors.js';

export interface CreateOptions {
  output?: string;
  checksum: boolean;
}

/**
 * `create [-o OUTPUT] [--no-checksum] IMAGE`: map the image's holes, hash its
 * mapped ranges, and write the bmap (stdout, or OUTPUT atomically).
 */
export async function create(image: string, options: CreateOptions, log: Logger, stdout: NodeJS.WritableStream): Promise<void> {
  const output = options.output === undefined ? undefined : await openOutput(options.output, [{ what: 'image', name: image, path: image }]);
  try {
    const t0 = performance.now();
    const map = await fileExtents(image);
    log.debug(
      `${image}: ${map.blocksCount} blocks of ${map.blockSize} bytes, ${map.ranges.length} mapped ranges ` +
        `(found with ${map.backend} in ${(performance.now() - t0).toFixed(0)} ms)`,
    );
    const ranges: BlockRange[] = map.ranges;
    const bmap: Bmap = {
      version: '2.0',
      imageSize: map.imageSize,
      blockSize: map.blockSize,
      blocksCount: map.blocksCount,
      mappedBlocksCount: map.mappedBlocksCount,
      checksumType: 'sha256',
      ranges,
    };
    if (options.checksum) {
      // Local file: workers read and hash whole ranges themselves (hashFileRanges),
      // measured 2x faster than readExtents -> generateChecksums for this job.
      const t1 = performance.now();
      await hashFileRanges(image, bmap, { keep: false, onDigest: (i, hex) => (ranges[i]!.checksum = hex) });
      log.debug(`hashed ${humanSize(mappedByteCount(bmap))} in ${(performance.now() - t1).toFixed(0)} ms`);
    }
    if (bmap.mappedBlocksCount === bmap.blocksCount) {
      log.warning(`all ${humanSize(bmap.imageSize)} are mapped, no holes in '${image}'`);
      log.warning('was the image handled incorrectly and holes were expanded?');
    }
    const text = serializeBmap(bmap);
    if (output === undefined) {
      await new Promise<void>((resolve, reject) =>
        stdout.write(text, (e) => (e ? reject(fsError('OUTPUT_WRITE', 'cannot write the bmap to', 'standard output', e)) : resolve())),
      );
    } else {
      await output.write(text);
      await output.commit();
    }
  } catch (e) {
    await output?.discard();
    throw e;
  }
}
