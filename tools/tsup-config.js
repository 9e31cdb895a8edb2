// The one tsup setup every project builds with: ESM for Node 20, .d.ts, source maps.
import { defineConfig } from 'tsup';

/** @param {{ entry?: string[], dtsEntry?: string, clean?: boolean }} [options] */
export function projectConfig(options = {}) {
  const entry = options.entry ?? ['src/index.ts'];
  return defineConfig({
    entry,
    format: ['esm'],
    dts: options.dtsEntry === undefined ? true : { entry: options.dtsEntry },
    sourcemap: true,
    clean: options.clean ?? true,
    target: 'node20',
    // keep `node:fs`, not `fs`: a bundler or a userland package named like a
    // built-in can never be picked up in its place
    removeNodeProtocol: false,
  });
}
