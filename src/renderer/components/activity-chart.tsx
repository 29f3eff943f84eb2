import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { ActivityHistory } from '../../contracts/window-api.js';
import { backlogSummary, historySpanSeconds, toChartColumns } from '../chart-data.js';
import type { Formatter } from '../format.js';
import { text } from '../text.js';

const HEIGHT = 220;

function chartOptions(width: number, format: Formatter): uPlot.Options {
  // uPlot's own axis labels are English 12-hour; the window speaks the viewer's locale.
  const clock = (seconds: number | null | undefined) =>
    seconds == null ? '--' : format.timeOfDay(seconds * 1000);
  return {
    width,
    height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, waiting: { auto: true }, rate: { auto: true } },
    axes: [
      { values: (_chart, splits) => splits.map((s) => clock(s)) },
      { scale: 'waiting', label: text.chart.backlog },
      { scale: 'rate', side: 1, label: text.chart.sales, grid: { show: false } },
    ],
    series: [
      { value: (_chart, seconds) => clock(seconds) },
      {
        label: text.chart.backlog,
        scale: 'waiting',
        stroke: '#b45309',
        width: 2,
        fill: 'rgba(180, 83, 9, 0.12)',
      },
      { label: text.chart.sales, scale: 'rate', stroke: '#1d4ed8', width: 2 },
    ],
  };
}

/**
 * Sales waiting and sales per minute over the last hours (uPlot on a canvas). The agent keeps the minutes,
 * so a reloaded window draws the same picture; the summary line carries it for screen readers.
 */
export function ActivityChart(props: { history: ActivityHistory; format: Formatter }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const columns = toChartColumns(props.history);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const chart = new uPlot(chartOptions(Math.max(element.clientWidth, 280), props.format), columns, element);
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(element.clientWidth, 280), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Built once: new minutes go through setData below, without redrawing the axes from scratch.
  }, []);

  useEffect(() => {
    plot.current?.setData(columns);
  }, [props.history]);

  const summary = backlogSummary(props.history);
  const span = historySpanSeconds(props.history);
  return (
    <section class="panel panel--wide" aria-labelledby="chart-heading">
      <h2 id="chart-heading">{text.chart.heading}</h2>
      <p class="muted">{text.chart.caption(props.format.age(span))}</p>
      <div ref={box} class="chart" role="img" aria-label={text.chart.caption(props.format.age(span))} />
      <p class="muted">
        {props.history.points.length === 0
          ? text.chart.empty
          : text.chart.summary(props.format.count(summary.peak), props.format.count(summary.latest))}
      </p>
    </section>
  );
}
