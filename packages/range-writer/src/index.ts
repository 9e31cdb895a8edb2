// @bmapkit/range-writer: scaffold. WritableStream<ImageChunk>
// Its stages land with issue(s)  positioned writes to a regular file (sparse) or a block device, with a flush/fsync policy.:4 (files) and 5 (block devices); until then it exports nothing.
export {};
