import type { UserConfig } from 'vitest/config';
export function projectTestConfig(): UserConfig;
