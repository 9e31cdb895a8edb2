/** A decoder: bytes in, decoded bytes out (a TransformStream or any such pair). */
export interface DecoderPair {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export interface DecoderOptions {
  /** How the input is named in messages (a path, URL or "stdin"). */
  source: string;
  /** Something worth telling the user that is not an error (other archive members, say). */
  onWarning?: (message: string) => void;
}

/**
 * One compression format. Adding a format is one file with one of these and
 * one `register()` call.
 */
export interface Codec {
  /** Short name: "gzip", "xz", ... */
  name: string;
  /** File-name endings that suggest the format, lower case with the dot (".gz"). */
  extensions: string[];
  /** Endings that mean "this format, then tar" (".tgz"). */
  tarExtensions?: string[];
  /**
   * True if the first bytes are this format's magic. A format without magic
   * bytes (raw deflate, brotli) leaves it out: it is then chosen by the
   * file name's ending alone.
   */
  sniff?(head: Uint8Array): boolean;
  /** Bytes sniff() needs at most (0 or left out without sniff). */
  sniffBytes?: number;
  /** A fresh decoder for one stream. */
  decoder(options: DecoderOptions): DecoderPair;
  /**
   * Optional: the decoded bytes of a local regular file, read by the codec
   * itself (faster than being handed its chunks), or undefined when it
   * cannot here; decoder() is used then.
   */
  fileDecoder?(options: DecoderOptions & { path: string }): ReadableStream<Uint8Array> | undefined;
}

export function startsWith(head: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (head.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (head[at + i] !== magic[i]) return false;
  return true;
}
