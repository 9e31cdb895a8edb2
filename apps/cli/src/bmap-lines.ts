import { humanSize, mappedPercent, type Bmap } from '@bmapkit/bmap-format';

/** "<blocks> blocks of size <bs> (<size>), mapped <n> blocks (<size> or <pct>%)", as the reference prints it. */
export function geometryLine(bmap: Bmap): string {
  return (
    `${bmap.blocksCount} blocks of size ${bmap.blockSize} (${humanSize(bmap.imageSize)}), ` +
    `mapped ${bmap.mappedBlocksCount} blocks (${humanSize(bmap.mappedBlocksCount * bmap.blockSize)} or ` +
    `${mappedPercent(bmap.mappedBlocksCount, bmap.blocksCount)}%)`
  );
}

/** The bmap's facts as JSON consumers get them (check --json, copy --json). */
export function bmapSummary(bmap: Bmap): Record<string, unknown> {
  return {
    version: bmap.version,
    imageSize: bmap.imageSize,
    blockSize: bmap.blockSize,
    blocksCount: bmap.blocksCount,
    mappedBlocksCount: bmap.mappedBlocksCount,
    ranges: bmap.ranges.length,
    checksumType: bmap.checksumType ?? null,
  };
}
