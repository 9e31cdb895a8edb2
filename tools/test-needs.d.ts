export function referenceVectors(name: 'bmaptool' | 'blockmap'): string | undefined;
export function testVectors(name: 'bmaptool' | 'blockmap'): { dir: string; reference: boolean };
export function hasProgram(name: string): boolean;
export function missingProgram(...names: string[]): string | undefined;
export function skipNote(reason: string | undefined): boolean;
