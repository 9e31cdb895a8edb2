export function ownImage(): Uint8Array;
export function ownBmap(image: Uint8Array, version: '1.2' | '1.3' | '1.4' | '2.0'): string;
export function writeOwnVectors(root: string): void;
export function declaredFileChecksum(xml: string): string | undefined;
