import { BmapkitError } from '@bmapkit/bmap-format';
import type { Codec } from './codec.js';
import { gzip } from './codecs/gzip.js';
import { bzip2, lz4, lzop, xz, zstd } from './codecs/external-codecs.js';
import { zip } from './codecs/zip.js';

/** The codecs detection knows, in the order they are tried. */
export class CodecRegistry {
  private readonly codecs: Codec[] = [];

  register(codec: Codec): this {
    if (this.codecs.some((c) => c.name === codec.name)) {
      throw new BmapkitError('CODEC_EXISTS', `a codec named '${codec.name}' is already registered`);
    }
    this.codecs.push(codec);
    return this;
  }

  get all(): readonly Codec[] {
    return this.codecs;
  }

  /** Longest prefix any registered sniffer needs. */
  get sniffBytes(): number {
    return Math.max(0, ...this.codecs.map((c) => c.sniffBytes ?? 0));
  }

  /** The codec whose magic the bytes start with. */
  byMagic(head: Uint8Array): Codec | undefined {
    return this.codecs.find((c) => c.sniff?.(head) === true);
  }

  /** The codec a file name's ending suggests, and whether it means "then tar" (".tar.gz", ".tgz"). */
  byName(name: string): { codec: Codec; tar: boolean } | undefined {
    const lower = name.toLowerCase();
    for (const codec of this.codecs) {
      for (const ext of codec.tarExtensions ?? []) if (lower.endsWith(ext)) return { codec, tar: true };
      for (const ext of codec.extensions) if (lower.endsWith(ext)) return { codec, tar: lower.endsWith(`.tar${ext}`) };
    }
    return undefined;
  }
}

/** A registry with every built-in format: gzip, bzip2, xz, zstd, lz4, lzop, zip. */
export function defaultRegistry(): CodecRegistry {
  return new CodecRegistry().register(gzip).register(bzip2).register(xz).register(zstd).register(lz4).register(lzop).register(zip);
}
