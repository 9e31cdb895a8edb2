export { guardDestination, type GuardOptions, type GuardedDestination } from './guard.js';
export { inspectDestination, creationPath, type Destination, type DestinationKind, type InspectOptions } from './inspect.js';
export { checkRemovable, checkNotInUse, checkCapacity, deviceCapacity } from './checks.js';
export { openDestination, openForReadBack, removeCreatedDestination, type OpenOptions } from './open.js';
export { checkNotAnInput, type InputFile } from './inputs.js';
export { tuneDevice, deviceTuning, selectedValue, type DeviceTuning, type TuningOptions } from './tuning.js';
export { describeBlockDevice, holdersOf, type BlockDevice } from './sysfs.js';
export { parseMountinfo, parseSwaps, usesOf, type DeviceUse } from './mounts.js';
export { systemRoots, devnoOf, SYSTEM_ROOTS, type SystemRoots } from './roots.js';
