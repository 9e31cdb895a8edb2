import { projectConfig } from '../../tools/tsup-config.js';

export default projectConfig({ entry: ['src/bmaptool.ts', 'src/index.ts'], dtsEntry: 'src/index.ts' });
