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

/** A fixed-width table: tool, median wall, peak RSS, ratio to the reference (the first row whose tool is `reference`). */
export function table(results: ToolResult[], reference: string): string {
  const ref = results.find((r) => r.tool === reference);
  const rows = [['tool', 'median wall', 'peak RSS', `vs ${reference}`]];
  for (const r of results) {
    rows.push([
      r.tool,
      `${r.medianWall.toFixed(3)} s`,
      r.medianRssMB === undefined ? 'n/a' : `${r.medianRssMB.toFixed(0)} MB`,
      ref === undefined ? 'n/a' : `${(r.medianWall / ref.medianWall).toFixed(2)}x`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}
