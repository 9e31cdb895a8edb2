import type { Options } from 'tsup';
export function projectConfig(options?: { entry?: string[]; dtsEntry?: string; clean?: boolean }): Options | Options[];
