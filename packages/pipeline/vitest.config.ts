import { projectTestConfig } from '../../tools/vitest-config.js';

export default projectTestConfig();
