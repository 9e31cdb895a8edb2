export function nodeBinary(spec: string, arch?: 'x64' | 'arm64'): { path: string; reason?: undefined } | { path?: undefined; reason: string };
