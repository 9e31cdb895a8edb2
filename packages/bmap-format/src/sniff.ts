/** Magic numbers of compressed files that are sometimes handed over as a bmap. */
const COMPRESSED: Array<{ name: string; magic: number[]; tool: string }> = [
  { name: 'gzip', magic: [0x1f, 0x8b], tool: 'gunzip' },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68], tool: 'bunzip2' },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], tool: 'unxz' },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], tool: 'unzstd' },
  { name: 'lz4', magic: [0x04, 0x22, 0x4d, 0x18], tool: 'unlz4' },
  { name: 'lzop', magic: [0x89, 0x4c, 0x5a, 0x4f], tool: 'lzop -d' },
  { name: 'zip', magic: [0x50, 0x4b, 0x03, 0x04], tool: 'unzip' },
];

/** Longest prefix any sniffer here needs. */
export const SNIFF_BYTES = 34;

/** If the bytes start like a compressed file, which format and which tool undoes it. */
export function sniffCompressed(head: Uint8Array): { name: string; tool: string } | undefined {
  for (const c of COMPRESSED) {
    if (head.length >= c.magic.length && c.magic.every((b, i) => head[i] === b)) return c;
  }
  return undefined;
}

/** Length of a UTF-8 byte-order mark at the start, 0 or 3. */
export function bomLength(head: Uint8Array): number {
  return head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
}

/** True if the bytes contain a NUL: binary data (a disk image, say), never a bmap. */
export function looksBinary(head: Uint8Array): boolean {
  return head.includes(0);
}
