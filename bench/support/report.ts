import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load.js';
import type { MachineContext } from './machine.js';
import type { RawRate, RawSqliteResult } from './raw-sqlite.js';
import type { Distribution } from './stats.js';

export type TargetKey = 'empty' | 'pipeline' | 'capture';

export interface HttpMeasurement {
  target: TargetKey;
  label: string;
  load: LoadResult;
  /** CPU the load generator (the bench process) used during the run, in % of one core. */
  loadGeneratorCpuPct: number;
  /** CPU used by everything else on the machine during the run (other people's work), % of one core. */
  otherCpuPct: number;
  server: {
    latencyMs: Distribution;
    cpuPct: number;
    eventLoopUtilization: number;
    commits: {
      count: number;
      rows: number;
      perSecond: number;
      rowsPerCommit: Distribution;
      commitMs: Distribution;
      /** Share of wall time the event loop spent inside group commits (blocked on SQLite and fsync). */
      busyShare: number;
    } | null;
  };
}

export interface DiskMeasurement {
  label: string;
  rate: RawRate;
  /** CPU of the bench process while it made these commits (SQLite work and the fsync syscalls), % of one core. */
  cpuPct: number;
  otherCpuPct: number;
}

export interface Ratio {
  name: string;
  value: number;
  aim: string;
  meets: boolean | null;
  shows: string;
}

export interface BenchReport {
  machine: MachineContext;
  sqlite: Pick<RawSqliteResult, 'sqliteVersion' | 'journalMode' | 'synchronous'>;
  http: HttpMeasurement[];
  disk: DiskMeasurement[];
  ratios: Ratio[];
}

export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const ms = (value: number) => fmt(value, value < 10 ? 2 : 1);
const pct = (value: number) => `${fmt(value)}%`;

/** A plain-text table: the first `leftColumns` columns aligned left, the others (numbers) right. */
export function table(headers: string[], rows: string[][], leftColumns = 1): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i < leftColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function httpTable(http: readonly HttpMeasurement[]): string {
  return table(
    [
      'target',
      'conc',
      'tx/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'in-server p50',
      'p99',
      'server CPU',
      'CPU µs/tx',
      'loop busy',
      'loadgen CPU',
      'other CPU',
    ],
    http.map((h) => [
      h.label,
      String(h.load.connections),
      fmt(h.load.throughput),
      ms(h.load.latencyMs.p50),
      ms(h.load.latencyMs.p90),
      ms(h.load.latencyMs.p99),
      ms(h.load.latencyMs.max),
      ms(h.server.latencyMs.p50),
      ms(h.server.latencyMs.p99),
      pct(h.server.cpuPct),
      fmt(((h.server.cpuPct / 100) * 1e6) / h.load.throughput),
      pct(h.server.eventLoopUtilization * 100),
      pct(h.loadGeneratorCpuPct),
      pct(h.otherCpuPct),
    ]),
  );
}

export function commitTable(http: readonly HttpMeasurement[]): string {
  return table(
    [
      'conc',
      'tx/s',
      'commits/s',
      'rows/commit mean',
      'p50',
      'p99',
      'max',
      'commit ms p50',
      'p99',
      'max',
      'loop in commits',
    ],
    http.flatMap((h) => {
      const c = h.server.commits;
      if (!c) return [];
      return [
        [
          String(h.load.connections),
          fmt(h.load.throughput),
          fmt(c.perSecond),
          fmt(c.rowsPerCommit.mean, 1),
          fmt(c.rowsPerCommit.p50),
          fmt(c.rowsPerCommit.p99),
          fmt(c.rowsPerCommit.max),
          ms(c.commitMs.p50),
          ms(c.commitMs.p99),
          ms(c.commitMs.max),
          pct(c.busyShare * 100),
        ],
      ];
    }),
    0,
  );
}

export function diskTable(disk: readonly DiskMeasurement[]): string {
  return table(
    [
      'durable write, no HTTP',
      'rows/s',
      'commits/s',
      'commit p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'CPU µs/commit',
      'other CPU',
    ],
    disk.map(({ label, rate, cpuPct, otherCpuPct }) => [
      label,
      fmt(rate.rowsPerSecond),
      fmt(rate.commitsPerSecond),
      ms(rate.commitMs.p50),
      ms(rate.commitMs.p90),
      ms(rate.commitMs.p99),
      ms(rate.commitMs.max),
      fmt(((cpuPct / 100) * 1e6) / rate.commitsPerSecond),
      pct(otherCpuPct),
    ]),
  );
}

export function ratioTable(ratios: readonly Ratio[]): string {
  return table(
    ['ratio', 'value', 'aim', 'verdict', 'what it shows'],
    ratios.map((r) => [
      r.name,
      fmt(r.value, 2),
      r.aim,
      r.meets === null ? '' : r.meets ? 'meets' : 'MISSES',
      r.shows,
    ]),
    1,
  );
}

/** The ratios asked of this bench, plus the ones that locate a shortfall (marked info). */
export function computeRatios(
  at: (key: TargetKey, connections: number) => HttpMeasurement,
  raw: { one: RawRate; batched: RawRate },
  outbox: { one: RawRate },
  concurrencies: readonly number[],
): Ratio[] {
  const capture1 = at('capture', 1);
  const capture64 = at('capture', 64);
  const empty64 = at('empty', 64);
  const pipeline64 = at('pipeline', 64);
  const ceiling = capture64.load.throughput / empty64.load.throughput;
  const bestEmpty = Math.max(...concurrencies.map((c) => at('empty', c).load.throughput));
  const lone = capture1.load.latencyMs.p99 / raw.one.commitMs.p99;
  return [
    {
      name: 'capture@64 tx/s ÷ empty-route@64 tx/s',
      value: ceiling,
      aim: '≥ 0.5',
      meets: ceiling >= 0.5,
      shows: 'share of the HTTP ceiling durable capture keeps',
    },
    {
      name: 'capture@64 tx/s ÷ best empty-route tx/s (any conc)',
      value: capture64.load.throughput / bestEmpty,
      aim: 'info',
      meets: null,
      shows: 'the same against the highest HTTP figure of the run',
    },
    {
      name: 'capture@1 p99 ÷ raw single durable commit p99',
      value: lone,
      aim: '≤ 2',
      meets: lone <= 2,
      shows: 'what HTTP and the agent add to one fsync, for a lone till',
    },
    {
      name: 'capture@1 p50 ÷ raw single durable commit p50',
      value: capture1.load.latencyMs.p50 / raw.one.commitMs.p50,
      aim: 'info',
      meets: null,
      shows: 'the same at the median',
    },
    {
      name: 'capture@1 p99 ÷ outbox.appendBatch(1 item) p99',
      value: capture1.load.latencyMs.p99 / outbox.one.commitMs.p99,
      aim: 'info',
      meets: null,
      shows: 'HTTP + validation over the agent’s own storage call',
    },
    ...[16, 64]
      .filter((c) => concurrencies.includes(c))
      .map((c): Ratio => ({
        name: `capture@${c} tx/s ÷ raw one-row-per-commit rows/s`,
        value: at('capture', c).load.throughput / raw.one.rowsPerSecond,
        aim: 'info',
        meets: null,
        shows: '> 1 is only reachable by sharing fsyncs (group commit)',
      })),
    ...concurrencies.map((c): Ratio => ({
      name: `rows per group commit (≈ per WAL fsync) @${c}`,
      value: at('capture', c).server.commits?.rowsPerCommit.mean ?? Number.NaN,
      aim: 'info',
      meets: null,
      shows: c === 1 ? '1 expected: one till, one commit' : '> 1: concurrent captures share an fsync',
    })),
    {
      name: 'capture@64 tx/s ÷ raw 64-rows-per-commit rows/s',
      value: capture64.load.throughput / raw.batched.rowsPerSecond,
      aim: 'info',
      meets: null,
      shows: 'share of the disk’s batched ceiling',
    },
    {
      name: 'capture-no-storage@64 tx/s ÷ empty-route@64 tx/s',
      value: pipeline64.load.throughput / empty64.load.throughput,
      aim: 'info',
      meets: null,
      shows: 'auth, validation, hashing, logging alone (no disk)',
    },
    {
      name: 'capture@64 tx/s ÷ capture-no-storage@64 tx/s',
      value: capture64.load.throughput / pipeline64.load.throughput,
      aim: 'info',
      meets: null,
      shows: 'what the durable write costs under load',
    },
  ];
}

/** What other processes may use (% of one core) during a measurement before its figures count as disturbed. */
export const DISTURBED_PCT = 20;

/** Says so when other processes used more than DISTURBED_PCT of a core during a measurement. */
export function warnIfDisturbed(otherCpuPct: number, cpus: number): void {
  if (otherCpuPct <= DISTURBED_PCT) return;
  console.log('');
  console.log(
    `WARNING: other processes used up to ${fmt(otherCpuPct)}% of a core (of ${cpus * 100}%) during a measurement: ` +
      'these figures are disturbed; compare runs only on a quiet machine.',
  );
}

/** Where a benchmark writes its latest results: bench/results/NAME (untracked), the folder made if need be. */
export function resultsPath(name: string): string {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
