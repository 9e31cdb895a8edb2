// Shared vitest reporter setup: the default console reporter, plus a JSON
// report in the project's own .test-results.json that tools/test-summary.mjs
// adds up into the one closing "N passed, N failed" line CI reads.
export function reporters() {
  return ['default', ['json', { outputFile: '.test-results.json' }]];
}
