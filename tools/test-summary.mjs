#!/usr/bin/env node
// Adds up the vitest JSON reports that every project's `test` target leaves in
// <project>/.test-results.json and prints one closing line,
// "tests: N passed, N failed, N skipped", so that CI logs end with a plain
// count, after the reasons tests gave for skipping (tools/test-needs.js), each
// once. Exits non-zero if a report is missing or anything failed.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
const reasons = new Set();
const nodes = new Set();
for (const group of ['packages', 'apps']) {
  for (const dir of readdirSync(join(root, group))) {
    const projectDir = join(root, group, dir);
    if (!existsSync(join(projectDir, 'package.json'))) continue;
    const report = join(projectDir, '.test-results.json');
    if (!existsSync(report)) {
      missing.push(`${group}/${dir}`);
      continue;
    }
    const node = join(projectDir, '.test-node.txt');
    if (existsSync(node)) nodes.add(readFileSync(node, 'utf8').trim());
    const skips = join(projectDir, '.test-skips.txt');
    if (existsSync(skips)) for (const line of readFileSync(skips, 'utf8').split('\n')) if (line !== '') reasons.add(line);
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
for (const reason of reasons) console.log(`skipped: ${reason}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped${nodes.size > 0 ? ` (Node ${[...nodes].join(', ')})` : ''}`);
// the status of the nx run before it, when given: a type check can fail with every test passing
const nxStatus = Number(process.argv[2] ?? 0);
if (nxStatus !== 0) console.error(`test-summary: nx exited with status ${nxStatus}; see its failed tasks above`);
process.exit(nxStatus !== 0 || failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0);
