export { fileExtents, type FileExtents, type FileExtentsOptions, type ExtentBackend } from './file-extents.js';
export { readExtents, type ReadExtentsOptions } from './read-extents.js';
export { openFileSource, type RandomAccessSource } from './file-source.js';
export { RangeCollector, unmappedRanges } from './ranges.js';
export { fsReason } from './fs-reason.js';
export { filesystemType, checkZfsCompatible, ZFS_PARAMETER, type FilesystemType, type ZfsCheckOptions } from './fs-type.js';
export { selectRanges, type SelectRangesOptions } from './select-ranges.js';
export { openImage, isUrl, type ImageSource } from './open-image.js';
