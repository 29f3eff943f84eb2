import type { ActivityHistory } from '../contracts/window-api.js';

/** uPlot's aligned columns: x in Unix seconds, then one column per series (null: nothing recorded). */
export type ChartColumns = [number[], (number | null)[], (number | null)[]];

/** The chart spans at least this much, so an agent that started a minute ago still draws a readable axis. */
export const MIN_CHART_SPAN_SECONDS = 30 * 60;

/**
 * The agent's minutes as chart columns, in time order whatever order they came in. A history shorter than
 * `minSpanSeconds` starts with an empty point that far back: the axis shows half an hour, the lines only
 * what was recorded.
 */
export function toChartColumns(
  history: ActivityHistory,
  minSpanSeconds = MIN_CHART_SPAN_SECONDS,
): ChartColumns {
  const points = [...history.points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const columns: ChartColumns = [
    points.map((p) => Math.floor(Date.parse(p.at) / 1000)),
    points.map((p) => p.backlog),
    points.map((p) => p.sales),
  ];
  const [x] = columns;
  const first = x[0];
  const last = x.at(-1);
  if (first !== undefined && last !== undefined && last - first < minSpanSeconds) {
    x.unshift(last - minSpanSeconds);
    columns[1].unshift(null);
    columns[2].unshift(null);
  }
  return columns;
}

/** The time the history covers, in seconds (for the caption "last 6 hours"). */
export function historySpanSeconds(history: ActivityHistory): number {
  return history.points.length * history.bucketSeconds;
}

/** The words a screen reader gets instead of the picture: the peak and the present. */
export function backlogSummary(history: ActivityHistory): { peak: number; latest: number } {
  const backlog = history.points.map((p) => p.backlog);
  const latest = [...history.points].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)).at(-1);
  return { peak: backlog.reduce((a, b) => Math.max(a, b), 0), latest: latest?.backlog ?? 0 };
}
