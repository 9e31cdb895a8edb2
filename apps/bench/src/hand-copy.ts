// The raw local copy composed from the stages by hand, as a library user
// writes it: `node dist/hand-copy.js BMAP IMAGE DEST`. pnpm bench copy runs
// it beside `bmaptool copy` (the stages are the same; this is the proof).
import { open, readFile } from 'node:fs/promises';
import { parseBmap } from '@bmapkit/bmap-format';
import { openFileSource, readExtents } from '@bmapkit/extent-source';
import { verifyChecksums } from '@bmapkit/verifier';
import { rangeWriter } from '@bmapkit/range-writer';

const [bmapPath, image, dest] = process.argv.slice(2);
if (dest === undefined) {
  process.stderr.write('usage: hand-copy BMAP IMAGE DEST\n');
  process.exit(2);
}
const bmap = await parseBmap(await readFile(bmapPath!));
const out = await open(dest, 'w');
await readExtents(await openFileSource(image!), bmap.ranges, bmap)
  .pipeThrough(verifyChecksums(bmap, { image: image! }))
  .pipeTo(rangeWriter(out, { dest, bmap, imageSize: bmap.imageSize, kind: 'file' }));
await out.close();
