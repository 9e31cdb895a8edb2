#!/usr/bin/env node
// Adds up the vitest JSON reports that every project's `test` target leaves in
// <project>/.test-results.json and prints one closing line,
// "tests: N passed, N failed, N skipped", so that CI logs end with a plain
// count. Exits non-zero if a report is missing or anything failed.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, group))) {
    const projectDir = join(root, group, dir);
    if (!existsSync(join(projectDir, 'package.json'))) continue;
    const report = join(projectDir, '.test-results.json');
    if (!existsSync(report)) {
      missing.push(`${group}/${dir}`);
      continue;
    }
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) failed += r.numFailedTestSuites;
  }
}
if (missing.length > 0) {
  console.error(`test-summary: no test report from ${missing.join(', ')}; run 'pnpm test'`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0);
