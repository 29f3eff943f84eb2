/**
 * Storm benchmark: a region's network comes back and its stores all replay their backlogs at once.
 *
 *   - 500 simulated stores (bench/support/storm-stores.ts, in a process of their own): each an MQTT client
 *     speaking the sync protocol as an agent does, with its own epoch and a backlog of 2,000 events of
 *     exact POS text, keeping the agent's in-flight window, retiring batches only on their own
 *     acknowledgement, and publishing everything unacknowledged again after the agent's ack timeout;
 *   - 1, then 2 hub processes (startHub, bench/support/hub-child.ts) on PostgreSQL, behind a private
 *     Mosquitto with a shared subscription, each phase on a fresh database;
 *   - the raw PostgreSQL insert of the same rows, 500 per commit, in the same run: the ceiling.
 *
 * Reported per phase: total events/s, events/s and CPU per event of each hub process, time until every
 * store is fully acknowledged, the slowest store beside the median (no store starved), acknowledgement
 * latency, what was published again; then exactly once, read from the database: every event of every
 * store stored once, gapless, with its text. Exit 1 on any loss, doubling or alteration, 2 on the
 * watchdog. Run with `npm run bench:storm` (`-- --stores 50 --events 400` for a quick one).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_SYNC_TUNING } from '../src/sync/index.js';
import {
  createTempPostgresDatabase,
  POSTGRES_ADMIN_URL,
  type TempPostgresDatabase,
} from '../test/support/postgres.js';
import type { HubEventRow } from './support/backlog.js';
import { BenchFailure, BenchRun } from './support/bench-run.js';
import { waitForQuietMachine } from './support/disturbance.js';
import { machineContext, machineCpuPct, machineCpuTimes, packageVersion } from './support/machine.js';
import { startMosquittoProcess, type MosquittoProcess } from './support/mosquitto-process.js';
import { cpuByGroup, processCpuSnapshot, processTree } from './support/process-cpu.js';
import { postgresSettings, rawPostgresHubInsert } from './support/raw-hub-db.js';
import {
  DISTURBED_PCT,
  fmt,
  type Ratio,
  ratioTable,
  resultsPath,
  warnIfDisturbed,
} from './support/report.js';
import { startStagedProcess, type StagedProcess } from './support/staged-process.js';
import { summarize } from './support/stats.js';
import {
  stormBody,
  stormBodyDigest,
  stormCapturedAt,
  stormEventId,
  type StormRun,
} from './support/storm-bodies.js';
import { checkExactlyOnce } from './support/storm-check.js';
import { summarizeProfile } from './support/cpu-profile.js';
import { PROFILE_ENV } from './support/staged-protocol.js';
import { profileTables } from './support/sync-report.js';
import {
  stormCpuTable,
  stormHubTable,
  stormTable,
  type StormHubFigures,
  type StormPhase,
} from './support/storm-report.js';
import type { StormResult } from './support/storm-stores.js';

const { values: flags } = parseArgs({
  options: {
    stores: { type: 'string', default: '500' },
    events: { type: 'string', default: '2000' },
    hubs: { type: 'string', default: '1,2' },
    'batch-events': { type: 'string', default: String(DEFAULT_SYNC_TUNING.batch.maxEvents) },
    window: { type: 'string', default: String(DEFAULT_SYNC_TUNING.maxInFlightBatches) },
    'ack-timeout-ms': { type: 'string', default: String(DEFAULT_SYNC_TUNING.ackTimeoutMs) },
    'hand-offs': { type: 'string', default: '64' },
    'pool-size': { type: 'string', default: '10' },
    'phase-timeout-seconds': { type: 'string', default: '600' },
    'raw-rows': { type: 'string', default: '100000' },
    profile: { type: 'boolean', default: false },
    'hub-node-args': { type: 'string', default: '' },
  },
});
const numberFlag = (name: keyof typeof flags, min: number, max: number) => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name} must be between ${min} and ${max}`);
  return value;
};
const STORES = numberFlag('stores', 1, 5000);
const EVENTS = numberFlag('events', 1, 100_000);
const HUBS = (flags.hubs ?? '1,2').split(',').map((n) => {
  const hubs = Number(n);
  if (!Number.isInteger(hubs) || hubs < 1 || hubs > 8) throw new Error('--hubs takes counts 1–8, e.g. 1,2');
  return hubs;
});
const BATCH_EVENTS = numberFlag('batch-events', 1, 2000);
const WINDOW = numberFlag('window', 1, 16);
const ACK_TIMEOUT_MS = numberFlag('ack-timeout-ms', 1000, 600_000);
const HAND_OFFS = numberFlag('hand-offs', 1, 10_000);
const POOL_SIZE = numberFlag('pool-size', 2, 100);
const PHASE_TIMEOUT_S = numberFlag('phase-timeout-seconds', 10, 3600);
const RAW_ROWS = numberFlag('raw-rows', 1000, 1_000_000);
/** Writes a CPU profile of each hub process's main thread (from `go` to the end of the storm) and summarises it. */
const PROFILE = flags.profile;
/** Extra Node options for the hub processes, to try a V8 setting (e.g. --max-semi-space-size=64). */
const HUB_NODE_ARGS = (flags['hub-node-args'] ?? '').split(/\s+/).filter(Boolean);

const HUB_TOKEN = 'storm-operator-token-0123456789';
const SHARE_GROUP = 'storm-hubs';
/** Above this much CPU used by other processes (% of one core) during a measurement, the run says so. */
const QUIET_WAIT_S = 30;
/** The whole run is bounded: past this, every process is killed, databases dropped, and the bench fails. */
const WATCHDOG_MS = (HUBS.length * (PHASE_TIMEOUT_S + 180) + QUIET_WAIT_S + 300) * 1000;

const bench = new BenchRun();
const progress = (line: string) => process.stderr.write(`· ${line}\n`);

async function waitForHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/healthz`).catch(() => null);
    if (response?.status === 200) return;
    if (performance.now() > deadline)
      throw new BenchFailure(`the hub at ${url} did not get its MQTT subscription within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** The storm's own rows (stores and seqs as the stores send them), for the raw insert baseline. */
function rawRows(run: StormRun, count: number): HubEventRow[] {
  const rows: HubEventRow[] = [];
  for (let i = 0; rows.length < count; i++) {
    const index = Math.floor(i / run.eventsPerStore);
    const seq = (i % run.eventsPerStore) + 1;
    const body = stormBody(index, seq);
    const sale = JSON.parse(body) as { terminalId: string; transactionId: string; businessDay: string };
    rows.push({
      seq: i + 1,
      eventId: stormEventId(run, index, seq),
      type: 'sale',
      terminalId: sale.terminalId,
      transactionId: `${index}-${sale.transactionId}`,
      businessDay: sale.businessDay,
      capturedAt: stormCapturedAt(seq),
      bodyHash: stormBodyDigest(index, seq),
      body,
    });
  }
  return rows;
}

interface Context {
  workDir: string;
  broker: MosquittoProcess;
}

async function runPhase(ctx: Context, hubs: number, runId: string): Promise<StormPhase> {
  const label = `${STORES} stores → ${hubs} hub process${hubs === 1 ? '' : 'es'}`;
  const run: StormRun = { runId, stores: STORES, eventsPerStore: EVENTS };
  const database: TempPostgresDatabase = await createTempPostgresDatabase();
  bench.onCleanUp(() => database.drop());
  const hubProcesses: StagedProcess[] = [];
  for (let i = 0; i < hubs; i++) {
    const hub = await startStagedProcess(
      'hub-child.ts',
      [
        ...['--db-url', database.url, '--mqtt-url', ctx.broker.url, '--token', HUB_TOKEN],
        ...['--share-group', SHARE_GROUP, '--hub-id', `storm-hub-${i + 1}`, '--pool-size', String(POOL_SIZE)],
      ],
      {
        nodeArgs: HUB_NODE_ARGS,
        ...(PROFILE
          ? {
              env: {
                ...process.env,
                [PROFILE_ENV]: path.join(ctx.workDir, `hub-${runId}-${i + 1}.cpuprofile`),
              },
            }
          : {}),
      },
    );
    bench.onCleanUp(() => hub.kill());
    hubProcesses.push(hub);
  }
  // One after the other: the first migrates the empty database, the others find it done.
  for (const hub of hubProcesses) await waitForHealthy((await hub.go(60_000)).url);
  const resultsFile = path.join(ctx.workDir, `storm-${runId}.json`);
  const stores = await startStagedProcess('storm-stores-child.ts', [
    ...['--mqtt-url', ctx.broker.url, '--run-id', runId, '--stores', String(STORES)],
    ...['--events', String(EVENTS), '--batch-events', String(BATCH_EVENTS), '--window', String(WINDOW)],
    ...['--ack-timeout-ms', String(ACK_TIMEOUT_MS), '--hand-offs', String(HAND_OFFS)],
    ...['--deadline-ms', String(PHASE_TIMEOUT_S * 1000), '--results', resultsFile],
  ]);
  bench.onCleanUp(() => stores.kill());

  for (const hub of hubProcesses) await hub.sample(); // their figures count from here
  const cpuBefore = processCpuSnapshot();
  const machineBefore = machineCpuTimes();
  const startedAt = performance.now();
  await stores.go();
  await stores.mark('done', (PHASE_TIMEOUT_S + 60) * 1000);
  const elapsedMs = performance.now() - startedAt;
  const cpuAfter = processCpuSnapshot();
  const machineAfter = machineCpuTimes();
  const hubSamples = await Promise.all(hubProcesses.map((h) => h.sample()));
  const profiles = PROFILE ? await Promise.all(hubProcesses.map((h) => h.endProfile())) : [];
  for (const [i, file] of profiles.entries())
    if (file)
      console.log(`${profileTables(`CPU profile of hub ${i + 1}, ${label}`, summarizeProfile(file))}\n`);
  await stores.stop();
  const result = JSON.parse(readFileSync(resultsFile, 'utf8')) as StormResult;
  rmSync(resultsFile, { force: true });
  for (const hub of hubProcesses) await hub.stop();

  progress(`${label}: checking exactly once in the database`);
  const check = await checkExactlyOnce(database.url, run);
  await database.drop();

  const ours = processTree(process.pid, cpuAfter);
  const byProcess = cpuByGroup(cpuBefore, cpuAfter, elapsedMs, [
    ...hubProcesses.map((h, i) => ({ name: `hub ${i + 1}`, matches: (pid: number) => pid === h.pid })),
    { name: 'stores', matches: (pid) => pid === stores.pid },
    { name: 'mosquitto', matches: (pid) => pid === ctx.broker.pid },
    { name: 'postgres', matches: (_pid, name) => name.startsWith('postgres') },
    { name: 'bench', matches: (pid) => ours.has(pid) },
  ]);
  const machinePct = machineCpuPct(machineBefore, machineAfter, elapsedMs);
  const accounted = Object.values(byProcess).reduce((a, b) => a + b, 0);
  const done = result.stores.map((s) => s.doneMs);
  const completed = done.every((ms) => ms !== null);
  const storeSeconds = summarize(done.map((ms) => (ms ?? elapsedMs) / 1000));
  const allAckedSeconds = completed ? Math.max(...(done as number[])) / 1000 : elapsedMs / 1000;
  const hubFigures: StormHubFigures[] = hubSamples.map((s, i) => {
    const stored = s.figures.stored ?? 0;
    const handled = s.figures.events ?? 0;
    return {
      hubId: `storm-hub-${i + 1}`,
      stored,
      handled,
      batches: s.figures.batches ?? 0,
      cpuMs: s.cpuMs,
      elapsedMs: s.elapsedMs,
      eventsPerSecond: stored / (elapsedMs / 1000),
      cpuUsPerStoredEvent: (s.cpuMs * 1000) / Math.max(1, stored),
      cpuUsPerHandledEvent: (s.cpuMs * 1000) / Math.max(1, handled),
      cpuPct: (s.cpuMs / elapsedMs) * 100,
      commitMs: {
        count: s.figures.batches ?? 0,
        mean: Number.NaN,
        p50: s.figures.storeMsP50 ?? Number.NaN,
        p90: Number.NaN,
        p99: s.figures.storeMsP99 ?? Number.NaN,
        max: s.figures.storeMsMax ?? Number.NaN,
      },
    };
  });
  return {
    hubs,
    label,
    stores: STORES,
    events: STORES * EVENTS,
    completed,
    allAckedSeconds,
    eventsPerSecond: (STORES * EVENTS) / allAckedSeconds,
    storeSeconds,
    slowestOverMedian: storeSeconds.max / storeSeconds.p50,
    ackLatencyMs: summarize(result.ackLatencyMs),
    republishedBatches: result.stores.reduce((n, s) => n + s.republished, 0),
    staleAcks: result.stores.reduce((n, s) => n + s.staleAcks, 0),
    reconnects: result.reconnects,
    batchesPublished: result.batchesPublished,
    hubFigures,
    cpuByProcess: { ...byProcess, other: Math.max(0, machinePct - accounted), 'machine total': machinePct },
    check,
  };
}

async function main(): Promise<number> {
  const machine = machineContext();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-storm-bench-'));
  bench.onCleanUp(() => rmSync(workDir, { recursive: true, force: true }));
  progress(`waiting up to ${QUIET_WAIT_S} s for other processes to use < ${DISTURBED_PCT}% of a core`);
  const quietWait = await waitForQuietMachine(QUIET_WAIT_S * 1000, DISTURBED_PCT);
  mkdirSync(path.join(workDir, 'broker'));
  const broker = await startMosquittoProcess(path.join(workDir, 'broker'));
  bench.onCleanUp(() => broker.kill());
  const pgSettings = await postgresSettings(POSTGRES_ADMIN_URL);
  const runTag = Date.now().toString(36).slice(-5).toUpperCase();

  const agentDefaults =
    BATCH_EVENTS === DEFAULT_SYNC_TUNING.batch.maxEvents &&
    WINDOW === DEFAULT_SYNC_TUNING.maxInFlightBatches &&
    ACK_TIMEOUT_MS === DEFAULT_SYNC_TUNING.ackTimeoutMs;
  console.log('Outpost storm benchmark');
  console.log(
    `machine:  ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, kernel ${machine.kernel}`,
  );
  console.log(
    `runtime:  node ${machine.node}; ${['mqtt', 'pg', 'zod'].map((n) => `${n} ${packageVersion(n)}`).join(', ')}`,
  );
  console.log(
    `broker:   mosquitto ${broker.version} on ${broker.url} (private, no persistence, shared subscription ${SHARE_GROUP})`,
  );
  console.log(
    `postgres: ${Object.entries(pgSettings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} (same machine)`,
  );
  console.log(
    `storm:    ${fmt(STORES)} stores × ${fmt(EVENTS)} events (about 1 KB of exact text each) = ${fmt(STORES * EVENTS)} events, ` +
      `every store connecting at once; batches of ≤ ${BATCH_EVENTS}, ≤ ${WINDOW} in flight per store, ack timeout ${ACK_TIMEOUT_MS / 1000} s ` +
      `(${agentDefaults ? "the agent's defaults" : `not the agent's defaults: ${DEFAULT_SYNC_TUNING.batch.maxEvents}, ${DEFAULT_SYNC_TUNING.maxInFlightBatches}, ${DEFAULT_SYNC_TUNING.ackTimeoutMs / 1000} s`}); ` +
      `≤ ${HAND_OFFS} messages handed to the broker at once by the stores' process`,
  );
  console.log(
    `hubs:     ${HUBS.join(', then ')} hub process(es), db.poolSize ${POOL_SIZE}, each phase on a fresh database` +
      (HUB_NODE_ARGS.length > 0 ? `; node options ${HUB_NODE_ARGS.join(' ')}` : ''),
  );
  console.log(
    `quiet:    ${quietWait.quiet ? 'yes' : 'NO'}: other processes used ${fmt(quietWait.otherCpuPct)}% of a core in the last second before the run`,
  );
  console.log('');

  progress(`raw PostgreSQL insert: ${fmt(RAW_ROWS)} of the storm's rows, 500 per commit`);
  const rawDb = await createTempPostgresDatabase();
  bench.onCleanUp(() => rawDb.drop());
  const raw = await rawPostgresHubInsert(
    rawDb.url,
    rawRows({ runId: runTag, stores: STORES, eventsPerStore: EVENTS }, RAW_ROWS),
    500,
    'values',
  );
  await rawDb.drop();

  const phases: StormPhase[] = [];
  for (const hubs of HUBS) {
    progress(`storm: ${fmt(STORES)} stores → ${hubs} hub process(es)`);
    phases.push(await runPhase({ workDir, broker }, hubs, `${runTag}${hubs}`));
  }

  console.log('The storm: every store replays its backlog at once (time from the first connection)');
  console.log(stormTable(phases));
  console.log('');
  console.log('Each hub process (CPU of the whole process: main thread and parse worker)');
  console.log(stormHubTable(phases));
  console.log('');
  console.log('CPU by process during each storm');
  console.log(stormCpuTable(phases, machine.cpus));
  console.log('');
  console.log(
    `raw PostgreSQL insert, 500 rows/commit (prepared multi-row INSERT … VALUES, as the hub): ${fmt(raw.rowsPerSecond)} rows/s, ` +
      `PostgreSQL CPU ${fmt(raw.serverCpuUsPerRow, 1)} µs/row, commit p50 ${fmt(raw.commitMs.p50, 1)} ms, p99 ${fmt(raw.commitMs.p99, 1)} ms; ` +
      `other CPU ${fmt(raw.otherCpuPct)}%`,
  );
  console.log('');

  const ratios: Ratio[] = phases.flatMap((p) => [
    {
      name: `${p.label}: events/s ÷ raw PostgreSQL insert`,
      value: p.eventsPerSecond / raw.rowsPerSecond,
      aim: 'info',
      meets: null,
      shows: 'share of the database ceiling the whole storm keeps',
    },
    {
      name: `${p.label}: stored events/s per hub process`,
      value: Math.min(...p.hubFigures.map((h) => h.eventsPerSecond)),
      aim: p.hubs === 1 ? '≥ 20,000' : 'info',
      meets: p.hubs === 1 ? p.hubFigures[0]!.eventsPerSecond >= 20_000 : null,
      shows: 'throughput one hub process sustains (the least loaded of them, with several)',
    },
    {
      name: `${p.label}: slowest store ÷ median store`,
      value: p.slowestOverMedian,
      aim: '≤ 2',
      meets: p.slowestOverMedian <= 2,
      shows: 'no store starved while the others drained',
    },
  ]);
  console.log('Ratios');
  console.log(ratioTable(ratios));

  const problems: string[] = [];
  for (const p of phases) {
    if (!p.completed)
      problems.push(`${p.label}: not every store was acknowledged within ${PHASE_TIMEOUT_S} s`);
    for (const problem of p.check.problems.slice(0, 20)) problems.push(`${p.label}: ${problem}`);
  }
  const disturbed = Math.max(raw.otherCpuPct, ...phases.map((p) => p.cpuByProcess.other ?? 0));
  warnIfDisturbed(disturbed, machine.cpus);
  if (problems.length > 0) {
    console.log('');
    for (const p of problems) console.log(`PROBLEM: ${p}`);
  }

  const resultsFile = resultsPath('storm-latest.json');
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        machine,
        broker: { kind: 'mosquitto', version: broker.version },
        postgres: pgSettings,
        settings: {
          stores: STORES,
          events: EVENTS,
          hubs: HUBS,
          batchEvents: BATCH_EVENTS,
          window: WINDOW,
          ackTimeoutMs: ACK_TIMEOUT_MS,
          handOffs: HAND_OFFS,
          poolSize: POOL_SIZE,
          hubNodeArgs: HUB_NODE_ARGS,
        },
        quietWait,
        raw,
        phases,
        ratios,
        problems,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${path.relative(process.cwd(), resultsFile)}`);
  return problems.length > 0 ? 1 : 0;
}

await bench.run(main, WATCHDOG_MS);
