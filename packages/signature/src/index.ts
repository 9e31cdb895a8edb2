export { checkBmapSignature, type BmapSignatureOptions, type BmapSignatureResult } from './check.js';
export { gpgVerify, type GpgVerifyOptions } from './gpg.js';
export { parseStatus, normalizeFingerprint, type Signature } from './status.js';
