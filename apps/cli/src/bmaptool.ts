#!/usr/bin/env node
import { main } from './program.js';

// Exit as soon as the command is done: nothing left running (a decoding
// program, an idle connection, a thread) may keep the process alive once
// the result is known. stdout and stderr are synchronous for files, pipes
// and terminals on Linux, so nothing written is lost.
process.exit(await main({ argv: process.argv, stdout: process.stdout, stderr: process.stderr, env: process.env }));
