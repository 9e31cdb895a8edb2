import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/** bmapkit's own version, from the CLI package. */
export const VERSION: string = pkg.version;
