/**
 * The code a hashing worker runs (CommonJS, started with `eval: true` so
 * that the pool works the same from source, from dist and when bundled).
 * Messages are batches of operations:
 *   ['b', id, algorithm]  begin a hash chain
 *   ['u', id, bytes]      feed it (a SharedArrayBuffer view costs no copy)
 *   ['e', id]             finish it
 * After each batch the worker answers ['done', bytes, [[id, hex], ...]].
 */
export const HASH_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const chains = new Map();
parentPort.on('message', (batch) => {
  let bytes = 0;
  const digests = [];
  try {
    for (const op of batch) {
      if (op[0] === 'b') chains.set(op[1], createHash(op[2]));
      else if (op[0] === 'u') { chains.get(op[1]).update(op[2]); bytes += op[2].byteLength; }
      else { digests.push([op[1], chains.get(op[1]).digest('hex')]); chains.delete(op[1]); }
    }
    parentPort.postMessage(['done', bytes, digests]);
  } catch (e) {
    parentPort.postMessage(['error', String(e && e.message || e)]);
  }
});
`;
