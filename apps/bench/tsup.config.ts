import { projectConfig } from '../../tools/tsup-config.js';

export default projectConfig({ entry: ['src/bench.ts', 'src/index.ts', 'src/hand-copy.ts', 'src/limits.ts'], dtsEntry: 'src/index.ts' });
