// @bmapkit/device-guard: scaffold. Everything that protects a destination before a byte is written
// Its stages land with issue(s)  block-device detection, mounted/holder checks, removable check, size check, exclusive open, reversible sysfs tuning.:5 (block devices); until then it exports nothing.
export {};
