export { measure, median, type Sample } from './measure.js';
export { jobLimit, LIMIT, summarise, table, type ToolResult } from './report.js';
export { ensureImage, cpuInfo, type Workload } from './workload.js';
