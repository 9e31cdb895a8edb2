/**
 * Every failure a user can cause, by its stable code: the exit status the
 * CLI ends with, and what it means. The table is closed: BmapkitError takes
 * only these codes, and a test checks that every code the packages throw is
 * here and every code here is thrown. Codes never change meaning.
 */
export const ERROR_CODES = {
  USAGE: { exit: 1, meaning: 'options that cannot be used together, or an option that does not fit the destination' },
  INTERRUPTED: { exit: 130, meaning: 'the operation was cancelled (Ctrl-C, SIGTERM, an AbortSignal)' },
  NATIVE_UNAVAILABLE: { exit: 1, meaning: "bmapkit's native addon does not load here and the operation needs it" },

  BMAP_OPEN: { exit: 1, meaning: 'the bmap file cannot be opened, read or fetched' },
  BMAP_PARSE: { exit: 1, meaning: 'the bmap file is not well-formed bmap XML' },
  BMAP_TOO_LARGE: { exit: 1, meaning: 'the bmap file (or one of its tokens) is larger than any real bmap' },
  BMAP_INVALID: { exit: 1, meaning: 'the bmap breaks a rule of the format (ranges, counts, sizes)' },
  BMAP_CHECKSUM: { exit: 1, meaning: "the bmap file's own checksum does not match: it was altered or damaged" },
  BMAP_MISSING: { exit: 1, meaning: 'no bmap was given or found, and one is needed' },
  BMAP_IS_IMAGE: { exit: 1, meaning: 'the bmap given is the image itself' },
  BMAP_NO_CHECKSUMS: { exit: 1, meaning: 'the bmap has no range checksums to verify against' },
  UNSUPPORTED_VERSION: { exit: 1, meaning: 'the bmap format version is one bmapkit does not read' },
  UNSUPPORTED_CHECKSUM: { exit: 1, meaning: 'the checksum algorithm is one this Node cannot compute' },

  IMAGE_OPEN: { exit: 1, meaning: 'the image cannot be opened' },
  IMAGE_READ: { exit: 1, meaning: 'reading the image failed' },
  IMAGE_URL: { exit: 1, meaning: "the image's URL scheme is not supported" },
  IMAGE_NETWORK: { exit: 1, meaning: 'fetching the image failed (connection, HTTP status, timeouts)' },
  IMAGE_EMPTY: { exit: 1, meaning: 'the image has no bytes' },
  IMAGE_IS_BMAP: { exit: 1, meaning: 'the image given is a bmap file (swapped arguments)' },
  IMAGE_NOT_FILE: { exit: 1, meaning: 'the image must be a regular file for this operation' },
  IMAGE_MAP: { exit: 1, meaning: "the image's holes cannot be mapped" },
  IMAGE_ZFS: { exit: 1, meaning: 'the image is on ZFS set up so that its holes cannot be found' },
  IMAGE_SIZE: { exit: 1, meaning: "the image's size is not the bmap's" },
  IMAGE_TRUNCATED: { exit: 1, meaning: 'the image ends before the bmap says it does' },
  IMAGE_FORMAT: { exit: 1, meaning: "the image's name promises a format its content does not have" },
  IMAGE_DECOMPRESS: { exit: 1, meaning: 'the compressed image is damaged, or its decoder failed' },
  DECOMPRESSOR_MISSING: { exit: 1, meaning: 'decoding the image needs a program that is not installed' },
  CODEC_EXISTS: { exit: 1, meaning: 'a codec of that name is registered already' },
  CODEC_MODULE: { exit: 1, meaning: 'a --codec module cannot be loaded or registers no codec' },
  CHUNK_ORDER: { exit: 1, meaning: 'a stage passed chunks out of order or outside their range (a bug in a custom stage)' },
  CHUNK_LEASE: { exit: 1, meaning: 'a stage used a lent chunk after its buffer went back to its pool (a bug in a custom stage)' },
  RANGE_CHECKSUM: { exit: 1, meaning: "a range's bytes do not hash to the bmap's checksum" },

  DEST_OPEN: { exit: 1, meaning: 'the destination cannot be opened' },
  DEST_MISSING_DEVICE: { exit: 1, meaning: 'a /dev path that does not exist (not created without --force)' },
  DEST_IS_INPUT: { exit: 1, meaning: 'the destination is one of the inputs, or a device holding one' },
  DEST_MOUNTED: { exit: 1, meaning: 'the destination device (or a partition of it) is mounted or used as swap' },
  DEST_HELD: { exit: 1, meaning: 'the destination device is held by another device (LVM, RAID, dm-crypt)' },
  DEST_BUSY: { exit: 1, meaning: 'the destination device is open exclusively elsewhere' },
  DEST_READONLY: { exit: 1, meaning: 'the destination device is read-only' },
  DEST_NOT_REMOVABLE: { exit: 1, meaning: '--removable-device, and the destination is not a removable device' },
  DEST_TOO_SMALL: { exit: 1, meaning: 'the destination device is smaller than the image' },
  DEST_DIRECT: { exit: 1, meaning: 'direct I/O asked for on a destination that cannot take it' },
  DEST_TUNING: { exit: 1, meaning: "the device's tuning could not be restored" },
  DEST_IO: { exit: 1, meaning: 'writing or syncing the destination failed' },
  DEST_FULL: { exit: 1, meaning: 'the destination is full' },
  DEST_GONE: { exit: 1, meaning: 'the destination device went away while being written' },
  DEST_VERIFY: { exit: 1, meaning: 'what was read back from the destination stays wrong after rewriting' },

  OUTPUT_OPEN: { exit: 1, meaning: 'the output file cannot be opened' },
  OUTPUT_WRITE: { exit: 1, meaning: 'writing the output failed' },
  OUTPUT_IS_INPUT: { exit: 1, meaning: 'the output file is the image' },

  SIGNATURE_OPEN: { exit: 1, meaning: 'the signature file cannot be opened or fetched' },
  SIGNATURE_BAD: { exit: 1, meaning: 'the bmap signature does not verify' },
  SIGNATURE_FINGERPRINT: { exit: 1, meaning: 'the bmap is not signed by the key asked for' },
  SIGNATURE_MISSING: { exit: 1, meaning: 'a signature check was asked for, and there is no signature' },
  GPG_MISSING: { exit: 1, meaning: 'checking the signature needs gpg, which is not installed' },
  GPG_FAILED: { exit: 1, meaning: 'gpg could not be run' },
} as const satisfies Record<string, { exit: number; meaning: string }>;
