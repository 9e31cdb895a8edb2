export type LoopSupport = { ok: true } | { ok: false; reason: string };
export function loopSupport(): LoopSupport;
export interface LoopDevice {
  dev: string;
  detach(): void;
}
export function attachLoop(file: string, options?: { partitions?: boolean }): LoopDevice;
export function writeMbr(file: string, startSector: number, sectors: number): void;
export function mountUnder(dir: string, dev: string): { at: string; unmount(): void };
