// @bmapkit/decompress-stream: scaffold. Codec registry and one TransformStream<Uint8Array, Uint8Array> per compression format, detected by magic bytes first and file name second; tar and zip members.
// Its stages land with issue(s) 4 (copy); until then it exports nothing.
export {};
