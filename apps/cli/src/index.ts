export { main, type MainIO } from './program.js';
export { Logger, wantsColour, type Verbosity } from './log.js';
export { EXIT } from './exit-codes.js';
export { VERSION } from './version.js';
