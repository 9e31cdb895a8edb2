import { median, type Sample } from './measure.js';

export interface ToolResult {
  tool: string;
  samples: Sample[];
  medianWall: number;
  medianRssMB: number | undefined;
}

export function summarise(tool: string, samples: Sample[]): ToolResult {
  const rss = samples.map((s) => s.rssMB).filter((x): x is number => x !== undefined);
  return { tool, samples, medianWall: median(samples.map((s) => s.wall)), medianRssMB: rss.length > 0 ? median(rss) : undefined };
}

/** Rows whose tool starts with this are a machine limit (one part of the job alone), not a tool. */
export const LIMIT = 'limit: ';

/**
 * A fixed-width table: tool, median wall, peak RSS, ratio to the reference
 * (the first row whose tool is `reference`) and, when there are limit rows,
 * ratio to the job's limit: the slowest of its parts measured alone.
 */
export function table(results: ToolResult[], reference: string): string {
  const ref = results.find((r) => r.tool === reference);
  const limit = jobLimit(results);
  const rows = [['tool', 'median wall', 'peak RSS', `vs ${reference}`, ...(limit === undefined ? [] : ['vs limit'])]];
  for (const r of results) {
    const isLimit = r.tool.startsWith(LIMIT);
    rows.push([
      r.tool,
      `${r.medianWall.toFixed(3)} s`,
      r.medianRssMB === undefined ? 'n/a' : `${r.medianRssMB.toFixed(0)} MB`,
      ref === undefined ? 'n/a' : `${(r.medianWall / ref.medianWall).toFixed(2)}x`,
      ...(limit === undefined ? [] : [isLimit ? '' : `${(r.medianWall / limit).toFixed(2)}x`]),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}

/** The job's limit: the slowest of the limit rows (undefined without any). */
export function jobLimit(results: ToolResult[]): number | undefined {
  const limits = results.filter((r) => r.tool.startsWith(LIMIT));
  return limits.length > 0 ? Math.max(...limits.map((r) => r.medianWall)) : undefined;
}
