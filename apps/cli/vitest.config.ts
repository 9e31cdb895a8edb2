import { defineConfig } from 'vitest/config';
import { reporters } from '../../tools/vitest-reporters.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    reporters: reporters(),
  },
});
