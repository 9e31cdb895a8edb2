/**
 * One character per byte, and back: the parser reads the document this way
 * so that its positions are byte offsets. Node's Buffer 'latin1' is exactly
 * ISO-8859-1 on every Node; TextDecoder('latin1') is not (with
 * `stream: true` it is windows-1252, which turns byte 0x91 into U+2018).
 */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Text taken from the document into a message is UTF-8 bytes in disguise
 * (see latin1): this decodes it, so a message shows what the file holds
 * ('１２', not 'ï¼\u0091ï¼\u0092').
 */
export function utf8FromLatin1(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(text) ? new TextDecoder('utf-8').decode(Buffer.from(text, 'latin1')) : text;
}
