/**
 * Capture benchmark: how many sales per second the store agent makes durable over HTTP, and how fast it
 * answers one till, each set against baselines measured in the same run on the same machine and disk:
 *
 *   - an empty Fastify POST route reading a body of the same size (the HTTP ceiling);
 *   - the capture API with a sink that stores nothing (diagnostic: pipeline CPU without the disk);
 *   - raw better-sqlite3 durable inserts (WAL, synchronous = FULL), one row per commit and batched;
 *   - Outbox.appendBatch called directly (diagnostic: the agent's storage layer without HTTP);
 *   - durable capture: a real agent (startAgent) with its outbox in a fresh dir under os.tmpdir().
 *
 * Servers run in child processes and autocannon runs here, so the load generator never takes the
 * server's event loop. Every HTTP response must be 201; anything else fails the bench (exit 1).
 * Run with `npm run bench:capture`; bench/README.md tells how to read the figures.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { ServerSample } from './support/child-protocol.js';
import { createLoadGenerator, type LoadResult } from './support/load.js';
import { machineContext, machineCpuPct, machineCpuTimes } from './support/machine.js';
import { measureOutboxDirect } from './support/outbox-direct.js';
import { measureRawSqlite } from './support/raw-sqlite.js';
import {
  commitTable,
  computeRatios,
  type DiskMeasurement,
  diskTable,
  type HttpMeasurement,
  httpTable,
  ratioTable,
  resultsPath,
  type TargetKey,
  warnIfDisturbed,
} from './support/report.js';
import { startServerProcess } from './support/server-process.js';
import { summarize, sum } from './support/stats.js';
import { benchTerminals, saleBodies } from './support/terminals.js';
import { BenchFailure, BenchRun } from './support/bench-run.js';

const CONCURRENCIES = [1, 16, 64] as const;
const DISK_BATCH = 64;
const TERMINALS = 64;
/** Above this much CPU used by other processes (% of one core) during a measurement, the run says so. */

const { values: flags } = parseArgs({
  options: {
    'warmup-seconds': { type: 'string', default: '2' },
    'measure-seconds': { type: 'string', default: '6' },
    'disk-seconds': { type: 'string', default: '3' },
  },
});
const seconds = (name: keyof typeof flags) => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value <= 0 || value > 60) throw new Error(`--${name} must be 0 < s <= 60`);
  return value;
};
const WARMUP_S = seconds('warmup-seconds');
const MEASURE_S = seconds('measure-seconds');
const DISK_S = seconds('disk-seconds');
/** The whole run is bounded: past this, servers are killed, the temp dir removed, and the bench fails. */
const WATCHDOG_MS = (3 * CONCURRENCIES.length * (WARMUP_S + MEASURE_S + 1) + 4 * DISK_S + 90) * 1000;

interface Target {
  key: TargetKey;
  label: string;
  script: string;
  args: (dataDir: string) => string[];
}
const terminalsArg = ['--terminals', String(TERMINALS)];
const EMPTY: Target = { key: 'empty', label: 'empty route', script: 'empty-route-child.ts', args: () => [] };
const PIPELINE: Target = {
  key: 'pipeline',
  label: 'capture, no storage',
  script: 'capture-pipeline-child.ts',
  args: () => terminalsArg,
};
const CAPTURE: Target = {
  key: 'capture',
  label: 'durable capture',
  script: 'capture-server-child.ts',
  args: (dataDir) => ['--data-dir', dataDir, ...terminalsArg],
};

const bench = new BenchRun();
const progress = (line: string) => process.stderr.write(`· ${line}\n`);

/** Fails the bench loudly on anything but 201: a non-201 means the figures measure something else. */
function requireAllCreated(what: string, load: LoadResult): void {
  if (load.notCreated === 0 && load.errors === 0 && load.timeouts === 0 && load.created > 0) return;
  throw new BenchFailure(
    `${what}: expected every response to be 201, got ${JSON.stringify(load.statuses)} ` +
      `with ${load.errors} connection errors and ${load.timeouts} timeouts`,
  );
}

/**
 * Runs fn and tells how much CPU the whole machine and this process used meanwhile, in % of one core;
 * the difference, less the server's own CPU, is what other people's work took.
 */
async function withCpuAccount<T>(
  fn: () => T | Promise<T>,
): Promise<{ result: T; elapsedMs: number; machinePct: number; ownPct: number }> {
  const machineBefore = machineCpuTimes();
  const ownBefore = process.cpuUsage();
  const startedAt = performance.now();
  const result = await fn();
  const elapsedMs = performance.now() - startedAt;
  const own = process.cpuUsage(ownBefore);
  return {
    result,
    elapsedMs,
    machinePct: machineCpuPct(machineBefore, machineCpuTimes(), elapsedMs),
    ownPct: ((own.user + own.system) / 1000 / elapsedMs) * 100,
  };
}

function serverFigures(sample: ServerSample): HttpMeasurement['server'] {
  const c = sample.commits;
  return {
    latencyMs: sample.serverLatencyMs,
    cpuPct: (sample.cpuMs / sample.elapsedMs) * 100,
    eventLoopUtilization: sample.eventLoopUtilization,
    commits: c
      ? {
          count: c.batchSizes.length,
          rows: sum(c.batchSizes),
          perSecond: c.batchSizes.length / (sample.elapsedMs / 1000),
          rowsPerCommit: summarize(c.batchSizes),
          commitMs: summarize(c.durationsMs),
          busyShare: sum(c.durationsMs) / sample.elapsedMs,
        }
      : null,
  };
}

async function measureTarget(
  target: Target,
  dataDir: string,
  run: ReturnType<typeof createLoadGenerator>,
): Promise<{ measurements: HttpMeasurement[]; exit: Record<string, number | string>; created: number }> {
  const server = await startServerProcess(target.script, target.args(dataDir));
  bench.onCleanUp(() => server.kill());
  const measurements: HttpMeasurement[] = [];
  let created = 0;
  for (const connections of CONCURRENCIES) {
    progress(`${target.label} @${connections}: warm-up ${WARMUP_S}s, then ${MEASURE_S}s measured`);
    const warm = await run(server.url, connections, WARMUP_S);
    requireAllCreated(`${target.label} @${connections} (warm-up)`, warm);
    created += warm.created;

    await server.sample(); // starts the server's interval
    const {
      result: load,
      machinePct,
      ownPct,
    } = await withCpuAccount(() => run(server.url, connections, MEASURE_S));
    const figures = serverFigures(await server.sample());
    requireAllCreated(`${target.label} @${connections}`, load);
    created += load.created;
    measurements.push({
      target: target.key,
      label: target.label,
      load,
      loadGeneratorCpuPct: ownPct,
      otherCpuPct: Math.max(0, machinePct - ownPct - figures.cpuPct),
      server: figures,
    });
  }
  const exit = await server.stop();
  return { measurements, exit, created };
}

async function measureDisk(label: string, fn: () => DiskMeasurement['rate']): Promise<DiskMeasurement> {
  const { result, machinePct, ownPct } = await withCpuAccount(fn);
  return { label, rate: result, cpuPct: ownPct, otherCpuPct: Math.max(0, machinePct - ownPct) };
}

async function main(): Promise<number> {
  const machine = machineContext();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-bench-'));
  bench.onCleanUp(() => rmSync(workDir, { recursive: true, force: true }));
  const body = saleBodies('T01', () => 1)();
  const fsInfo = machine.tmpdirFilesystem;

  console.log('Outpost capture benchmark');
  console.log(
    `machine:  ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, kernel ${machine.kernel}`,
  );
  console.log(
    `runtime:  node ${machine.node}; ${Object.entries(machine.packages)
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
  );
  console.log(
    `data dir: ${workDir} on ${fsInfo ? `${fsInfo.type} (${fsInfo.device} at ${fsInfo.mountPoint}, ${fsInfo.options})` : 'an unknown filesystem'}`,
  );
  console.log(
    `load:     average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} before the run; "other CPU" below is what other processes used during each measurement`,
  );
  console.log(
    `settings: HTTP ${WARMUP_S}s warm-up + ${MEASURE_S}s measured per point, closed loop, one keep-alive connection ` +
      `per till (own terminal and token), unique transactionId per request; disk ${DISK_S}s per row; sale body ${Buffer.byteLength(body)} bytes`,
  );
  if (fsInfo && ['tmpfs', 'ramfs'].includes(fsInfo.type))
    console.log(
      'WARNING: the temp dir is in memory: fsync costs nothing there, so durable figures are not real.',
    );
  console.log('');

  const run = createLoadGenerator(benchTerminals(TERMINALS));
  const http: HttpMeasurement[] = [];
  const exits: Partial<Record<TargetKey, Record<string, number | string>>> = {};
  const measureHttp = async (target: Target) => {
    const { measurements, exit, created } = await measureTarget(
      target,
      path.join(workDir, `agent-${target.key}`),
      run,
    );
    http.push(...measurements);
    exits[target.key] = exit;
    return { exit, created };
  };

  await measureHttp(EMPTY);
  await measureHttp(PIPELINE);

  // The disk baselines run right before durable capture, so all three see the disk in the same mood.
  progress(
    `disk: raw better-sqlite3 and Outbox.appendBatch, 1 and ${DISK_BATCH} rows per commit, ${DISK_S}s each`,
  );
  const rawDir = path.join(workDir, 'raw');
  const outboxDir = path.join(workDir, 'outbox-direct');
  mkdirSync(rawDir);
  mkdirSync(outboxDir);
  let sqlite = { sqliteVersion: '?', journalMode: '?', synchronous: -1 };
  const rawOne = await measureDisk('raw insert, 1 row per commit', () => {
    const r = measureRawSqlite(rawDir, { body: () => body, seconds: DISK_S, rowsPerCommit: 1 });
    sqlite = r;
    return r.rate;
  });
  const rawBatched = await measureDisk(
    `raw insert, ${DISK_BATCH} rows per commit`,
    () => measureRawSqlite(rawDir, { body: () => body, seconds: DISK_S, rowsPerCommit: DISK_BATCH }).rate,
  );
  const outboxOne = await measureDisk('Outbox.appendBatch, 1 item per call', () =>
    measureOutboxDirect(outboxDir, { body, seconds: DISK_S, itemsPerCall: 1 }),
  );
  const outboxBatched = await measureDisk(`Outbox.appendBatch, ${DISK_BATCH} items per call`, () =>
    measureOutboxDirect(outboxDir, { body, seconds: DISK_S, itemsPerCall: DISK_BATCH }),
  );
  const disk = [rawOne, rawBatched, outboxOne, outboxBatched];

  const { exit, created } = await measureHttp(CAPTURE);
  // Every 201 the load generator saw must be in the outbox. lastSeq counts captures; more is fine, as
  // requests cut off at the end of a run may still have been committed.
  const lastSeq = Number(exit.lastSeq);
  if (!(lastSeq >= created) || exit.quickCheck !== 'ok')
    throw new BenchFailure(
      `outbox check failed: ${created} answered 201 but lastSeq is ${lastSeq}; quick_check: ${String(exit.quickCheck)}`,
    );

  const at = (key: TargetKey, connections: number) => {
    const m = http.find((h) => h.target === key && h.load.connections === connections);
    if (!m) throw new Error(`no measurement for ${key} @${connections}`);
    return m;
  };
  const ratios = computeRatios(
    at,
    { one: rawOne.rate, batched: rawBatched.rate },
    { one: outboxOne.rate },
    CONCURRENCIES,
  );

  console.log(
    'HTTP POST /v1/transactions (latency as the load generator sees it; in-server: headers parsed → answer written)',
  );
  console.log(httpTable(http));
  console.log('');
  console.log(
    'Durable capture, inside the agent: group commits (one commit = one SQLite transaction = one WAL fsync)',
  );
  console.log(commitTable(http));
  console.log('');
  console.log(
    `Durable writes without HTTP, same disk (journal_mode=${sqlite.journalMode}, synchronous=${sqlite.synchronous} i.e. FULL, SQLite ${sqlite.sqliteVersion})`,
  );
  console.log(diskTable(disk));
  console.log('');
  console.log('Ratios');
  console.log(ratioTable(ratios));
  console.log('');
  console.log(
    `outbox after the run: lastSeq ${lastSeq}, quick_check ${String(exit.quickCheck)}: all ${created} captures answered 201 (warm-ups included) are in it`,
  );
  const disturbed = Math.max(...disk.map((d) => d.otherCpuPct), ...http.map((h) => h.otherCpuPct));
  warnIfDisturbed(disturbed, machine.cpus);

  const resultsFile = resultsPath('capture-latest.json');
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        machine,
        sqlite,
        settings: {
          warmupSeconds: WARMUP_S,
          measureSeconds: MEASURE_S,
          diskSeconds: DISK_S,
          concurrencies: CONCURRENCIES,
          bodyBytes: Buffer.byteLength(body),
        },
        http,
        disk,
        ratios,
        serverExit: exits,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${path.relative(process.cwd(), resultsFile)}`);
  return 0;
}

await bench.run(main, WATCHDOG_MS);
