import type { ProfileSummary } from './cpu-profile.js';
import type { StepCost } from './ingest-breakdown.js';
import type { StoreStepCost } from './store-breakdown.js';
import type { LiveLoadResult } from './live-load.js';
import type { RawMqttResult } from './raw-mqtt.js';
import type { RawRate } from './raw-sqlite.js';
import type { Figures } from './staged-protocol.js';
import { fmt, table } from './report.js';

export type DbKind = 'sqlite' | 'postgres';

/** What held up the agent's event loop (and so every capture request behind it), ms. */
export interface AgentStalls {
  /** How late the loop ran a 1 ms timer (monitorEventLoopDelay). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /**
   * The longest single call of each kind. A capture commit is synchronous on the main thread, so it blocks
   * the loop for that long; batch reads and ack writes run on the sync engine's delivery thread.
   */
  unsentAfterMaxMs: number;
  applyAckMaxMs: number;
  captureCommitMaxMs: number;
  gcMs: number;
  gcMaxMs: number;
}

export const agentStalls = (f: Figures): AgentStalls => ({
  loopDelayP99Ms: f.loopDelayP99Ms ?? Number.NaN,
  loopDelayMaxMs: f.loopDelayMaxMs ?? Number.NaN,
  unsentAfterMaxMs: f.unsentAfterMaxMs ?? Number.NaN,
  applyAckMaxMs: f.applyAckMaxMs ?? Number.NaN,
  captureCommitMaxMs: f.captureCommitMaxMs ?? Number.NaN,
  gcMs: f.gcMs ?? Number.NaN,
  gcMaxMs: f.gcMaxMs ?? Number.NaN,
});

export function stallTable(rows: readonly { label: string; stalls: AgentStalls; seconds: number }[]): string {
  return table(
    [
      'agent',
      'loop delay p99 ms',
      'max',
      'longest batch read (delivery thread)',
      'longest ack write (delivery thread)',
      'longest capture commit',
      'GC ms/s',
      'longest GC',
    ],
    rows.map(({ label, stalls: x, seconds }) => [
      label,
      ms(x.loopDelayP99Ms),
      ms(x.loopDelayMaxMs),
      ms(x.unsentAfterMaxMs),
      ms(x.applyAckMaxMs),
      ms(x.captureCommitMaxMs),
      ms(x.gcMs / seconds),
      ms(x.gcMaxMs),
    ]),
  );
}

export interface DrainResult {
  db: DbKind;
  label: string;
  events: number;
  /** False when the drain did not finish within its time limit: the rate is then what was stored by then. */
  completed: boolean;
  /** From `go` to the agent until the hub committed the batch that made it contiguous through the last backlog seq. */
  seconds: number;
  eventsPerSecond: number;
  /** From `go` until the agent's API answered (outbox opened, server listening, MQTT connecting). */
  agentStartMs: number;
  /** From `go` until the agent recorded the acknowledgement of the last backlog seq. */
  agentAckedSeconds: number | null;
  hub: {
    cpuPct: number;
    eventLoopUtilization: number;
    batches: number;
    /** Time inside store.insertEventsOnce (lookups, classification, inserts, commit), ms. */
    storeMs: number;
    storeMsP50: number;
    storeMsP99: number;
    /** The hub's own ingest histogram: receipt of a batch to its commit (parse + store), ms. */
    ingestMs: number;
  };
  agent: {
    cpuPct: number;
    eventLoopUtilization: number;
    unsentAfterMs: number;
    applyAckMs: number;
    captureCommitMs: number;
    stalls: AgentStalls;
  };
  /** CPU by process during the drain, % of one core (the machine has `cpus` × 100 %). */
  cpuByProcess: Record<string, number>;
  liveLoad: LiveLoadResult | null;
  /** What the hub's API reports afterwards for the backlog's epoch. */
  check: { contiguousThrough: number; stored: number; rejected: number; duplicates: number; gaps: number };
  /** CPU profiles written with --profile (V8 .cpuprofile files). */
  profiles: { hub: string | null; agent: string | null } | null;
}

const ms = (value: number) => fmt(value, value < 10 ? 2 : 1);
const pct = (value: number) => `${fmt(value)}%`;

export function throughputTable(
  events: number,
  rawMqtt: RawMqttResult & { otherCpuPct: number },
  rawDb: readonly { label: string; rate: RawRate; otherCpuPct: number }[],
  drains: readonly DrainResult[],
): string {
  const rows: string[][] = [
    [
      'raw MQTT QoS 1: mqtt.js → mosquitto → mqtt.js (no window)',
      fmt(rawMqtt.eventsPerSecond),
      ms(rawMqtt.elapsedS),
      fmt(rawMqtt.megabytesPerSecond, 1),
      pct(rawMqtt.otherCpuPct),
      `${rawMqtt.messages} messages; subscriber CPU ${pct(rawMqtt.subscriberCpuPct)}`,
    ],
    ...rawDb.map(({ label, rate, otherCpuPct }) => [
      label,
      fmt(rate.rowsPerSecond),
      ms(rate.elapsedS),
      '',
      pct(otherCpuPct),
      `${rate.commits} commits, commit p50 ${ms(rate.commitMs.p50)} ms, p99 ${ms(rate.commitMs.p99)} ms`,
    ]),
    ...drains.map((d) => [
      d.label,
      fmt(d.eventsPerSecond),
      ms(d.seconds),
      '',
      pct(d.cpuByProcess.other ?? Number.NaN),
      d.completed
        ? `agent up after ${fmt(d.agentStartMs)} ms; agent saw the last ack at ${d.agentAckedSeconds === null ? '–' : ms(d.agentAckedSeconds)} s`
        : `DID NOT FINISH: ${fmt(d.check.contiguousThrough)} of ${fmt(d.events)} stored in time`,
    ]),
  ];
  return table([`${fmt(events)} events`, 'events/s', 'seconds', 'MB/s', 'other CPU', 'notes'], rows);
}

/** CPU time per backlog event, µs: robust to a busy machine, unlike the rates (live sales included). */
const perEvent = (d: DrainResult, cpuPct: number) => ((cpuPct / 100) * d.seconds * 1e6) / d.events;

export function drainTable(drains: readonly DrainResult[]): string {
  return table(
    [
      'drain',
      'hub CPU',
      'hub CPU µs/event',
      'hub loop busy',
      'batches',
      'ingest ms (parse+store)',
      'store ms',
      'store p50',
      'p99',
      'store share of drain',
      'agent CPU',
      'agent CPU µs/event',
      'agent loop busy',
      'batch reads ms (delivery thread)',
      'ack writes ms (delivery thread)',
    ],
    drains.map((d) => [
      d.label,
      pct(d.hub.cpuPct),
      fmt(perEvent(d, d.hub.cpuPct)),
      pct(d.hub.eventLoopUtilization * 100),
      fmt(d.hub.batches),
      fmt(d.hub.ingestMs),
      fmt(d.hub.storeMs),
      ms(d.hub.storeMsP50),
      ms(d.hub.storeMsP99),
      pct((d.hub.storeMs / (d.seconds * 1000)) * 100),
      pct(d.agent.cpuPct),
      fmt(perEvent(d, d.agent.cpuPct)),
      pct(d.agent.eventLoopUtilization * 100),
      fmt(d.agent.unsentAfterMs),
      fmt(d.agent.applyAckMs),
    ]),
  );
}

export function cpuTable(drains: readonly DrainResult[], cpus: number): string {
  const groups = [...new Set(drains.flatMap((d) => Object.keys(d.cpuByProcess)))];
  return table(
    ['drain', ...groups],
    drains.map((d) => [d.label, ...groups.map((g) => pct(d.cpuByProcess[g] ?? 0))]),
  ).concat(`\n(% of one core; the machine has ${cpus} cores = ${cpus * 100}%)`);
}

export function latencyTable(rows: { label: string; load: LiveLoadResult; otherCpuPct: number }[]): string {
  return table(
    [
      'live sales',
      'sent',
      '201',
      'not 201',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'waited for a connection p99',
      'other CPU',
    ],
    rows.map(({ label, load, otherCpuPct }) => [
      label,
      fmt(load.sent),
      fmt(load.created),
      fmt(Object.entries(load.statuses).reduce((n, [s, c]) => (s === '201' ? n : n + c), 0)),
      ms(load.latencyMs.p50),
      ms(load.latencyMs.p90),
      ms(load.latencyMs.p99),
      ms(load.latencyMs.max),
      ms(load.queuedMs.p99),
      pct(otherCpuPct),
    ]),
  );
}

export function stepTable(steps: readonly StepCost[]): string {
  return table(
    ['side', 'step (one core, no I/O)', 'runs', 'µs per event', 'events/s on one core'],
    steps.map((s) => [s.side, s.step, s.runs, fmt(s.usPerEvent, 1), fmt(s.eventsPerSecond)]),
    3,
  );
}

export function storeStepTable(steps: readonly StoreStepCost[]): string {
  return table(
    ['database', 'events', 'hub CPU µs/event', 'server CPU µs/event', 'wall µs/event', 'events/s'],
    steps.map((s) => [
      s.db === 'sqlite' ? 'SQLite' : 'PostgreSQL',
      fmt(s.events),
      fmt(s.hubCpuUsPerEvent, 1),
      s.serverCpuUsPerEvent === null ? '–' : fmt(s.serverCpuUsPerEvent, 1),
      fmt(s.wallUsPerEvent, 1),
      fmt(s.eventsPerSecond),
    ]),
  );
}

export function profileTables(label: string, summary: ProfileSummary): string {
  return [
    `${label}: ${fmt(summary.busyMs)} ms busy of ${fmt(summary.wallMs)} ms profiled (${summary.file})`,
    table(
      ['where (self time)', 'ms', 'share of busy'],
      summary.byPlace.map((p) => [p.place, fmt(p.ms), pct((p.ms / summary.busyMs) * 100)]),
    ),
    table(
      ['function (self time)', 'where', 'ms'],
      summary.byFunction.map((f) => [f.fn, f.place, fmt(f.ms)]),
      2,
    ),
  ].join('\n');
}
