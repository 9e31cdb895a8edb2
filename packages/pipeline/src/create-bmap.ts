import { humanSize, mappedByteCount, type Bmap, type BlockRange } from '@bmapkit/bmap-format';
import { fileExtents } from '@bmapkit/extent-source';
import { fileDigests } from './file-digests.js';
import type { LogEvent } from './events.js';
import { cancellable } from './settle.js';

export interface CreateBmapOptions {
  /** A local image file (sparse: its holes are found with FIEMAP, else SEEK_DATA/SEEK_HOLE). */
  image: string;
  /** Add a SHA-256 checksum to every range (default true). */
  checksum?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: LogEvent) => void;
}

/**
 * The bmap of a sparse image file, as `bmaptool create` makes it: version
 * 2.0, SHA-256 range checksums (unless `checksum: false`). Serialize it with
 * `serializeBmap` from @bmapkit/bmap-format.
 */
export async function createBmap(o: CreateBmapOptions): Promise<Bmap> {
  return cancellable(o.signal, `creating the bmap of '${o.image}'`, () => create(o));
}

async function create(o: CreateBmapOptions): Promise<Bmap> {
  const log = (level: LogEvent['level'], message: string) => o.onEvent?.({ type: 'log', level, message });
  o.signal?.throwIfAborted();
  const t0 = performance.now();
  const map = await fileExtents(o.image);
  log(
    'debug',
    `${o.image}: ${map.blocksCount} blocks of ${map.blockSize} bytes, ${map.ranges.length} mapped ranges ` +
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
  o.signal?.throwIfAborted();
  if (o.checksum !== false) {
    const t1 = performance.now();
    await fileDigests(o.image, bmap, (i, hex) => (ranges[i]!.checksum = hex), o.signal);
    log('debug', `hashed ${humanSize(mappedByteCount(bmap))} in ${(performance.now() - t1).toFixed(0)} ms`);
  }
  if (bmap.mappedBlocksCount === bmap.blocksCount) {
    log('warning', `all ${humanSize(bmap.imageSize)} are mapped, no holes in '${o.image}'`);
    log('warning', 'was the image handled incorrectly and holes were expanded?');
  }
  return bmap;
}
