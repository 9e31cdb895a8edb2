export { rangeWriter, type RangeWriter, type RangeWriterOptions, type DestinationKind } from './range-writer.js';
export { DirectStage } from './direct-stage.js';
export { DirectRing } from './direct-ring.js';
export { writeFully, readFully, type PositionedFile } from './positioned.js';
export { withRetries, writeFailure, TRANSIENT_WRITE_ERRORS, DEFAULT_RETRY, type RetryPolicy } from './write-errors.js';
