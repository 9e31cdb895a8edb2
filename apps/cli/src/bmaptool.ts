#!/usr/bin/env node
import { main } from './program.js';
import { endingOn, flushOutput } from './interrupt.js';

// Exit as soon as the command is done and its output has left: nothing
// still running (a decoding program, an idle connection, a thread) may keep
// the process alive once the result is known.
const status = await main({ argv: process.argv, stdout: process.stdout, stderr: process.stderr, env: process.env });
if (endingOn() !== undefined) await new Promise(() => undefined); // an interrupt is cleaning up: it exits
await flushOutput();
process.exit(status);
