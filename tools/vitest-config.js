// The one vitest setup every project tests with: test/**/*.test.ts, generous
// timeouts for tests on real files and tools, and the reporters that feed
// tools/test-summary.mjs.
import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';
import { reporters } from './vitest-reporters.js';

export function projectTestConfig() {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 60_000,
      // Hooks make fixtures (images, keys, servers) with real tools: under the
      // full parallel run on two cores they took more than vitest's default
      // 10 s (remote.test.ts did). They get the tests' allowance.
      hookTimeout: 60_000,
      reporters: reporters(),
      globalSetup: [fileURLToPath(new URL('./vitest-global-setup.js', import.meta.url))],
    },
  });
}
