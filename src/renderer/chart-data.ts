import type { ActivityHistory } from '../contracts/window-api.js';

/** uPlot's aligned columns: x in Unix seconds, then one column per series. */
export type ChartColumns = [number[], number[], number[]];

/** The agent's minutes as chart columns, in time order whatever order they came in. */
export function toChartColumns(history: ActivityHistory): ChartColumns {
  const points = [...history.points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return [
    points.map((p) => Math.floor(Date.parse(p.at) / 1000)),
    points.map((p) => p.backlog),
    points.map((p) => p.sales),
  ];
}

/** The time the history covers, in seconds (for the caption "last 6 hours"). */
export function historySpanSeconds(history: ActivityHistory): number {
  return history.points.length * history.bucketSeconds;
}

/** The words a screen reader gets instead of the picture: the peak and the present. */
export function backlogSummary(history: ActivityHistory): { peak: number; latest: number } {
  const [, backlog] = toChartColumns(history);
  return { peak: backlog.reduce((a, b) => Math.max(a, b), 0), latest: backlog.at(-1) ?? 0 };
}
