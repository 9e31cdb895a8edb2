export interface ServedRequest {
  path: string;
  query: string;
  range: string | null;
  status: number;
}
export interface FileServer {
  url: string;
  log: ServedRequest[];
  bytesServed(): number;
  reset(): void;
  close(): Promise<void>;
}
export function serveFiles(
  root: string,
  options?: { ranges?: boolean; auth?: { user: string; password: string }; dropAfter?: { bytes: number; times: number }; tls?: { key: string | Buffer; cert: string | Buffer } },
): Promise<FileServer>;
export function startProxy(): Promise<{ url: string; requests: string[]; close(): Promise<void> }>;
