import { measure, type Sample } from './measure.js';
import { summarise, type ToolResult } from './report.js';

export interface Contender {
  name: string;
  argv: string[];
}

/**
 * One untimed warm-up run of each contender (page cache, code), then `runs`
 * rounds in which every contender runs once, in turn: slow drifts of the
 * machine hit all of them alike.
 */
export function interleave(contenders: Contender[], runs: number, env: NodeJS.ProcessEnv, between?: () => void): ToolResult[] {
  for (const c of contenders) {
    between?.();
    measure(c.argv, env);
  }
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const c of contenders) {
      between?.();
      samples.get(c.name)!.push(measure(c.argv, env));
    }
  }
  return contenders.map((c) => summarise(c.name, samples.get(c.name)!));
}
