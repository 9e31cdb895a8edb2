#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from './program.js';
import { endingOn, flushOutput } from './interrupt.js';

// A young generation of 4 MiB semi-spaces, not V8's default 16: a bmap of a
// million ranges makes a million short-lived objects a pass, and the larger
// nursery held 25 MB more at peak (copy of a .gz image with a 10^6-range
// bmap: 158 -> 133 MB) for no gain in speed. Set before the heap grows.
if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) && !/--max-semi-space-size/.test(process.env['NODE_OPTIONS'] ?? '')) {
  setFlagsFromString('--max-semi-space-size=4');
}

// Exit as soon as the command is done and its output has left: nothing
// still running (a decoding program, an idle connection, a thread) may keep
// the process alive once the result is known.
const status = await main({ argv: process.argv, stdout: process.stdout, stderr: process.stderr, env: process.env });
if (endingOn() !== undefined) await new Promise(() => undefined); // an interrupt is cleaning up: it exits
await flushOutput();
process.exit(status);
