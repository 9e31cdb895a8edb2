/**
 * What a file-hashing worker runs (CommonJS, `eval: true`). workerData:
 * { path, spans: Float64Array of [start, end) byte pairs on a
 * SharedArrayBuffer, order: Int32Array of range indices to claim in,
 * next: Int32Array(1) shared claim counter, algorithm, chunkSize }.
 * Workers claim ranges with Atomics.add, so they balance themselves; each
 * reads its range with positioned reads and hashes it.
 * Messages: ['digests', [index, hex, ...]], ['short', index, offset],
 * ['error', code, message], ['done'].
 */
export const FILE_HASH_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { path, spans, order, next, algorithm, chunkSize } = workerData;
let fd;
try {
  fd = openSync(path, 'r');
  let out = [];
  let last = Date.now();
  for (;;) {
    const k = Atomics.add(next, 0, 1);
    if (k >= order.length) break;
    const i = order[k];
    const end = spans[2 * i + 1];
    const h = createHash(algorithm);
    let short = false;
    for (let off = spans[2 * i]; off < end; ) {
      // A fresh buffer per read, as Python's file.read() gets: here the kernel
      // copied into it with ~40% less system time than into one reused buffer
      // (create on 771 MiB: 0.71 s vs 0.78 s wall, 0.35 s vs 0.55 s sys).
      const buf = Buffer.allocUnsafeSlow(chunkSize);
      const got = readSync(fd, buf, 0, Math.min(chunkSize, end - off), off);
      if (got === 0) { parentPort.postMessage(['short', i, off]); short = true; break; }
      h.update(got === buf.length ? buf : buf.subarray(0, got));
      off += got;
    }
    if (short) break;
    out.push(i, h.digest('hex'));
    if (out.length >= 2048 || Date.now() - last > 100) {
      parentPort.postMessage(['digests', out]);
      out = [];
      last = Date.now();
    }
  }
  parentPort.postMessage(['digests', out]);
  parentPort.postMessage(['done']);
} catch (e) {
  parentPort.postMessage(['error', e && e.code, String(e && e.message || e)]);
} finally {
  if (fd !== undefined) closeSync(fd);
}
`;
