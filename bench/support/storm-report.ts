import { fmt, table } from './report.js';
import type { Distribution } from './stats.js';

/** One hub process during one storm phase. */
export interface StormHubFigures {
  hubId: string;
  /** New events it stored (its commits' `stored`). */
  stored: number;
  /** Events it handled, redeliveries included. */
  handled: number;
  batches: number;
  cpuMs: number;
  elapsedMs: number;
  eventsPerSecond: number;
  cpuUsPerStoredEvent: number;
  cpuUsPerHandledEvent: number;
  cpuPct: number;
  commitMs: Distribution;
}

export interface StormPhase {
  hubs: number;
  label: string;
  stores: number;
  events: number;
  completed: boolean;
  /** Every store fully acknowledged, seconds after the stores began to connect. */
  allAckedSeconds: number;
  eventsPerSecond: number;
  storeSeconds: Distribution;
  /** The slowest store over the median one. */
  slowestOverMedian: number;
  ackLatencyMs: Distribution;
  republishedBatches: number;
  staleAcks: number;
  reconnects: number;
  batchesPublished: number;
  hubFigures: StormHubFigures[];
  cpuByProcess: Record<string, number>;
  check: { storesExact: number; rows: number; bytesPerEvent: number; problems: string[] };
}

export function stormTable(phases: readonly StormPhase[]): string {
  return table(
    [
      'storm',
      'events',
      'events/s',
      'all acked s',
      'store s p50',
      'p90',
      'slowest',
      'slowest ÷ median',
      'ack latency p50 ms',
      'p99 ms',
      'batches published',
      'published again',
      'exactly once',
      'bytes/event on disk',
    ],
    phases.map((p) => [
      p.label,
      fmt(p.events),
      fmt(p.eventsPerSecond),
      fmt(p.allAckedSeconds, 1),
      fmt(p.storeSeconds.p50, 1),
      fmt(p.storeSeconds.p90, 1),
      fmt(p.storeSeconds.max, 1),
      fmt(p.slowestOverMedian, 2),
      fmt(p.ackLatencyMs.p50),
      fmt(p.ackLatencyMs.p99),
      fmt(p.batchesPublished),
      fmt(p.republishedBatches),
      p.check.problems.length === 0 ? `yes (${fmt(p.check.storesExact)} stores)` : 'NO',
      fmt(p.check.bytesPerEvent),
    ]),
  );
}

export function stormHubTable(phases: readonly StormPhase[]): string {
  return table(
    [
      'storm',
      'hub process',
      'stored',
      'handled (redeliveries too)',
      'events/s stored',
      'CPU',
      'CPU µs/stored event',
      'CPU µs/handled event',
      'commit p50 ms',
      'p99 ms',
    ],
    phases.flatMap((p) =>
      p.hubFigures.map((h) => [
        p.label,
        h.hubId,
        fmt(h.stored),
        fmt(h.handled),
        fmt(h.eventsPerSecond),
        `${fmt(h.cpuPct)}%`,
        fmt(h.cpuUsPerStoredEvent, 1),
        fmt(h.cpuUsPerHandledEvent, 1),
        fmt(h.commitMs.p50, 1),
        fmt(h.commitMs.p99, 1),
      ]),
    ),
    2,
  );
}

export function stormCpuTable(phases: readonly StormPhase[], cpus: number): string {
  const all = [...new Set(phases.flatMap((p) => Object.keys(p.cpuByProcess)))];
  const groups = [
    ...all.filter((g) => g.startsWith('hub ')).sort(),
    ...all.filter((g) => !g.startsWith('hub ')),
  ];
  return [
    table(
      ['storm', ...groups],
      phases.map((p) => [p.label, ...groups.map((g) => `${fmt(p.cpuByProcess[g] ?? 0)}%`)]),
    ),
    `(% of one core; the machine has ${cpus} cores = ${cpus * 100}%)`,
  ].join('\n');
}
