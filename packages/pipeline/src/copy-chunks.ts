import { mappedByteCount, type Bmap, type ImageChunk } from '@bmapkit/bmap-format';
import { decompress, type CodecRegistry } from '@bmapkit/decompress-stream';
import { selectRanges, type ImageSource } from '@bmapkit/extent-source';
import { rangeWriter, type DestinationKind, type PositionedFile, type RangeWriter } from '@bmapkit/range-writer';
import { readBack, verifyChecksums, type ReadBackFile } from '@bmapkit/verifier';

export interface PreparedImage {
  image: ImageSource;
  /** Decoded bytes from the start (the raw bytes when not compressed). */
  stream: ReadableStream<Uint8Array>;
  /** Compression and archive format ("gzip", "xz+tar", "zip"), or undefined for raw data. */
  format: string | undefined;
  /** The decoded image's size, when known before copying (raw local file or redirected stdin). */
  knownSize: number | undefined;
  /** Where warnings about the image go. */
  onWarning: (message: string) => void;
}

/** Sniffs and prepares the image's bytes (`raw`: the image's stream from its start), before anything is decided about DEST. */
export async function prepareImage(
  image: ImageSource,
  raw: ReadableStream<Uint8Array>,
  onWarning: (message: string) => void,
  registry?: CodecRegistry,
): Promise<PreparedImage> {
  // a URL's query (signed URLs) is no part of its file name; a local regular
  // file may be read by the decoder itself (raw: its stream from the start)
  const file = image.kind === 'file' && image.size !== undefined ? image.path : undefined;
  const { stream, format } = await decompress(raw, {
    name: image.kind === 'url' ? image.name.replace(/[?#].*$/, '') : image.uri,
    onWarning,
    file,
    ...(registry === undefined ? {} : { registry }),
  });
  const plain = format.label === 'raw';
  return { image, stream, format: plain ? undefined : format.label, knownSize: plain ? image.size : undefined, onWarning };
}

export interface CopyPlan {
  prepared: PreparedImage;
  /** The bmap, or undefined for --nobmap. */
  bmap: Bmap | undefined;
  verify: boolean;
  dest: {
    path: string;
    kind: DestinationKind;
    handle: PositionedFile;
    /** The handle is O_DIRECT: sector size, and a read-only O_DIRECT descriptor for unaligned edges. */
    direct?: { sectorSize: number; reader: PositionedFile };
  };
  /** Read each flushed batch back from DEST (`direct`: the reader is O_DIRECT) and rewrite what differs. */
  readBack?: { reader: ReadBackFile; direct: boolean; onMismatch: (first: number, last: number, attempt: number) => void };
  beforeSync: () => void;
  /** The caller's stages, run on verified chunks before writing. */
  stages?: TransformStream<ImageChunk, ImageChunk>[];
  /** Told each range whose checksum matched. */
  onRange?: (range: number) => void;
  /** Told the bytes copied so far and the total (undefined when unknown) as chunks pass. */
  onProgress?: ((done: number, total: number | undefined) => void) | undefined;
  /** Stops the copy: it rejects with the signal's reason once nothing touches DEST any more. */
  signal?: AbortSignal;
}

/** Wires the copy pipeline and runs it; resolves with the number of bytes written and the image size. */
export async function runCopy(plan: CopyPlan): Promise<{ bytes: number; imageSize: number; rewrites: number }> {
  const { prepared, bmap } = plan;
  const name = prepared.image.name;
  const geometry = bmap ?? wholeImage(prepared.knownSize);
  const blocks = geometry ?? { ranges: [], blockSize: 4096 };
  const rb = plan.readBack;
  const checker =
    rb === undefined
      ? undefined
      : readBack({
          reader: rb.reader,
          direct: rb.direct,
          bmap: { ...blocks, imageSize: geometry?.imageSize ?? Number.MAX_SAFE_INTEGER, checksumType: plan.verify ? bmap?.checksumType : undefined },
          dest: plan.dest.path,
          rewrite: (chunk) => writer.rewrite(chunk),
          onMismatch: (c, attempt) => rb.onMismatch(Math.floor(c.offset / blocks.blockSize), Math.floor((c.offset + c.data.byteLength - 1) / blocks.blockSize), attempt),
        });
  const writer: RangeWriter = rangeWriter(plan.dest.handle, {
    dest: plan.dest.path,
    bmap: blocks,
    imageSize: geometry?.imageSize,
    kind: plan.dest.kind,
    beforeSync: plan.beforeSync,
    ...(plan.dest.direct === undefined ? {} : { direct: plan.dest.direct }),
    ...(checker === undefined ? {} : { afterSync: (chunks: ImageChunk[]) => checker.check(chunks) }),
  });
  let chunks = geometry === undefined ? prepared.stream.pipeThrough(linearChunks()) : await mappedChunks(prepared, geometry);
  if (bmap !== undefined && plan.verify) chunks = chunks.pipeThrough(verifyChecksums(bmap, { image: name, ...(plan.onRange === undefined ? {} : { onRange: plan.onRange }) }));
  for (const stage of plan.stages ?? []) chunks = chunks.pipeThrough(stage);
  if (plan.onProgress !== undefined) chunks = chunks.pipeThrough(counting(geometry === undefined ? undefined : mappedByteCount(geometry), plan.onProgress));
  await chunks.pipeTo(writer, plan.signal === undefined ? {} : { signal: plan.signal });
  return { bytes: writer.bytesWritten(), imageSize: geometry?.imageSize ?? writer.end(), rewrites: checker?.stats().rewrites ?? 0 };
}

/**
 * The mapped ranges of a prepared image as ImageChunks. A raw image whose
 * source can pull ranges directly (a local file, a server with Range
 * support) is read only at the mapped ranges: holes are never read. Anything
 * else is decoded from the start and cut by selectRanges.
 */
export async function mappedChunks(prepared: PreparedImage, geometry: Pick<Bmap, 'ranges' | 'blockSize' | 'imageSize'>): Promise<ReadableStream<ImageChunk>> {
  const direct = prepared.format === undefined ? prepared.image.extents(geometry.ranges, geometry) : undefined;
  if (direct === undefined) return prepared.stream.pipeThrough(selectRanges(geometry, { source: prepared.image.name, onWarning: prepared.onWarning }));
  await prepared.stream.cancel();
  return direct;
}

/** --nobmap with a known size: one range over the whole image, in 4096-byte blocks, as the reference. */
function wholeImage(size: number | undefined): Bmap | undefined {
  if (size === undefined) return undefined;
  const blocksCount = Math.ceil(size / 4096);
  return { version: '2.0', imageSize: size, blockSize: 4096, blocksCount, mappedBlocksCount: blocksCount, ranges: [{ first: 0, last: blocksCount - 1 }] };
}

/** --nobmap with an unknown size: every byte, in order, as one range. */
function linearChunks(): TransformStream<Uint8Array, ImageChunk> {
  let offset = 0;
  return new TransformStream<Uint8Array, ImageChunk>({
    transform(data, controller) {
      controller.enqueue({ offset, data, range: 0 });
      offset += data.byteLength;
    },
  });
}

/** Counts the bytes that pass and reports them with the total. */
function counting(total: number | undefined, report: (done: number, total: number | undefined) => void): TransformStream<ImageChunk, ImageChunk> {
  let done = 0;
  return new TransformStream<ImageChunk, ImageChunk>({
    transform(chunk, controller) {
      done += chunk.data.byteLength;
      report(done, total);
      controller.enqueue(chunk);
    },
  });
}
