// Runs once per project's vitest run, before any test file: starts the
// project's list of skip reasons (tools/test-needs.js skipNote) afresh.
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export default function setup() {
  rmSync(join(process.cwd(), '.test-skips.txt'), { force: true });
}
