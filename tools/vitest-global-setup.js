// Runs once per project's vitest run, before any test file: starts the
// project's list of skip reasons (tools/test-needs.js skipNote) afresh, and
// records the Node version the tests run on (tools/test-summary.mjs says it).
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export default function setup() {
  rmSync(join(process.cwd(), '.test-skips.txt'), { force: true });
  writeFileSync(join(process.cwd(), '.test-node.txt'), `${process.version}\n`);
}
