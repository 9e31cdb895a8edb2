export { fileExtents, type FileExtents, type FileExtentsOptions, type ExtentBackend } from './file-extents.js';
export { readExtents, type ReadExtentsOptions } from './read-extents.js';
export { openFileSource, type RandomAccessSource } from './file-source.js';
export { RangeCollector, unmappedRanges } from './ranges.js';
export { fsReason } from '@bmapkit/bmap-format'; // moved there; re-exported for existing users
export { filesystemType, checkZfsCompatible, ZFS_PARAMETER, type FilesystemType, type ZfsCheckOptions } from './fs-type.js';
export { selectRanges, type SelectRangesOptions } from './select-ranges.js';
export { openImage, streamImage, isUrl, type ImageSource } from './open-image.js';
export { fetchExtents, planSpans, type FetchSpan, type FetchExtentsOptions, type FetchPlanOptions } from './remote/fetch-extents.js';
export { httpGet, type HttpGetOptions, type HttpResponse } from './remote/http-client.js';
export { openHttp, type HttpImage } from './remote/http-source.js';
export { redactUrl } from './remote/redact.js';
export { parseContentRange, lowSpeedLimit } from './remote/resumable.js';
export { parseNetrc, netrcCredentials, type Credentials } from './remote/netrc.js';
export { proxyFor } from './remote/proxy.js';
