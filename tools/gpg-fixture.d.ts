export type GpgSupport = { ok: true } | { ok: false; reason: string };
export function gpgSupport(): GpgSupport;
export interface TestKey {
  home: string;
  fingerprint: string;
  keyring: string;
  clearsign(file: string, out: string): void;
  detachSign(file: string, out: string): void;
  stop(): void;
}
export function makeKey(dir: string, name: string, email: string): TestKey;
