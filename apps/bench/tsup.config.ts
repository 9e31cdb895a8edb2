import { projectConfig } from '../../tools/tsup-config.js';

export default projectConfig({ entry: ['src/bench.ts', 'src/index.ts'], dtsEntry: 'src/index.ts' });
