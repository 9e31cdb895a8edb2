import { projectConfig } from '../../tools/tsup-config.js';

export default projectConfig();
