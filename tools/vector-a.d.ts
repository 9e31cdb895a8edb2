export function vectorAImage(): Uint8Array;
