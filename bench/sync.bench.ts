/**
 * Sync benchmark: how fast a store's backlog reaches head office once the link is back, and what the
 * drain does to live capture, each set against baselines measured in the same run on the same machine:
 *
 *   - drain: an outbox holding a 100,000-event backlog (filled through Outbox.appendBatch), a real agent
 *     (startAgent) and a real hub (startHub, SQLite, then PostgreSQL) in child processes of their own,
 *     through a private Mosquitto; timed from the agent's start until the hub has durably stored the
 *     last backlog event (the commit that makes the stream contiguous through it);
 *   - raw MQTT: the same messages (the sync engine's own batches) published QoS 1 by mqtt.js through the
 *     same broker to a subscriber in another process, with nothing else;
 *   - raw database: the same rows inserted into the hub's own table, 500 per durable transaction, by
 *     better-sqlite3 (WAL, synchronous = FULL) and by pg (one INSERT … unnest, and one prepared multi-row
 *     INSERT … VALUES, as the hub does, per transaction; the faster of the two is PostgreSQL's ceiling);
 *   - capture latency: live sales posted at a steady rate to an idle agent, then during the SQLite drain;
 *   - CPU per event of each step between outbox and database, measured alone (where the drain's time goes).
 *
 * Run with `npm run bench:sync` (add `--profile` to write and summarise CPU profiles of hub and agent).
 * The run is bounded: past its watchdog, every process it started is killed and the bench fails.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { SYNC_LIMITS } from '../src/contracts/sync-messages.js';
import { DEFAULT_SYNC_TUNING } from '../src/sync/index.js';
import {
  createTempPostgresDatabase,
  POSTGRES_ADMIN_URL,
  type TempPostgresDatabase,
} from '../test/support/postgres.js';
import { backlogBatches, fillBacklog } from './support/backlog.js';
import { summarizeProfile, type ProfileSummary } from './support/cpu-profile.js';
import { measureIngestSteps } from './support/ingest-breakdown.js';
import { measureStoreSteps, type StoreStepCost } from './support/store-breakdown.js';
import { startLiveLoad, type LiveLoad, type LiveLoadResult } from './support/live-load.js';
import { BenchFailure, BenchRun } from './support/bench-run.js';
import { observe, waitForQuietMachine } from './support/disturbance.js';
import { machineContext, machineCpuPct, machineCpuTimes, packageVersion } from './support/machine.js';
import { startMosquittoProcess, type MosquittoProcess } from './support/mosquitto-process.js';
import { cpuByGroup, processCpuSnapshot, processTree } from './support/process-cpu.js';
import { postgresSettings, rawPostgresHubInsert, rawSqliteHubInsert } from './support/raw-hub-db.js';
import { measureRawMqtt } from './support/raw-mqtt.js';
import type { RawRate } from './support/raw-sqlite.js';
import {
  DISTURBED_PCT,
  fmt,
  type Ratio,
  ratioTable,
  resultsPath,
  warnIfDisturbed,
} from './support/report.js';
import { PROFILE_ENV } from './support/staged-protocol.js';
import { isTimeout, startStagedProcess, type StagedProcess } from './support/staged-process.js';
import {
  cpuTable,
  drainTable,
  latencyTable,
  agentStalls,
  profileTables,
  stallTable,
  stepTable,
  storeStepTable,
  type AgentStalls,
  throughputTable,
  type DbKind,
  type DrainResult,
} from './support/sync-report.js';
import { benchTerminals } from './support/terminals.js';

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '100000' },
    'live-rate': { type: 'string', default: '50' },
    'live-connections': { type: 'string', default: '4' },
    'idle-seconds': { type: 'string', default: '6' },
    'drain-timeout-seconds': { type: 'string', default: '60' },
    'hub-nice': { type: 'string', default: '10' },
    'hub-node-args': { type: 'string', default: '' },
    'batch-events': { type: 'string', default: String(DEFAULT_SYNC_TUNING.batch.maxEvents) },
    'skip-postgres': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const numberFlag = (name: keyof typeof flags, min: number, max: number) => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name} must be between ${min} and ${max}`);
  return value;
};
const EVENTS = numberFlag('events', 1000, 1_000_000);
const LIVE_RATE = numberFlag('live-rate', 1, 500);
const LIVE_CONNECTIONS = numberFlag('live-connections', 1, 16);
const IDLE_S = numberFlag('idle-seconds', 1, 60);
const DRAIN_TIMEOUT_S = numberFlag('drain-timeout-seconds', 5, 600);
/**
 * In a store the hub, the broker and PostgreSQL run elsewhere; here they share two cores with the agent.
 * They run at this nice value, so when the CPU is short the till-facing agent goes first, as it would
 * on its own PC; with spare CPU it changes nothing. 0 runs everything at the same priority.
 */
const HUB_NICE = numberFlag('hub-nice', 0, 19);
/** Extra Node options for the hub processes, to try a V8 setting (e.g. --max-semi-space-size=64). */
const HUB_NODE_ARGS = (flags['hub-node-args'] ?? '').split(/\s+/).filter(Boolean);
/** The agent's sync.batchMaxEvents; other than the default, batches may take up to the hub's 4 MiB limit. */
const BATCH_EVENTS = numberFlag('batch-events', 1, 2000);
const WITH_POSTGRES = !flags['skip-postgres'];
const PROFILE = flags.profile;

const FILL_CHUNK = 1000;
const BACKLOG_TERMINALS = 8;
const STORE_ID = 'BENCH-STORE';
const HUB_TOKEN = 'bench-operator-token-0123456789';
const RAW_ROWS_PER_COMMIT = DEFAULT_SYNC_TUNING.batch.maxEvents;
/** Above this much CPU used by other processes (% of one core) during a measurement, the run says so. */
/** At most this long is spent waiting for a quiet machine before starting. */
const QUIET_WAIT_S = 30;
/** Messages used for the per-step CPU breakdown (× 500 events). */
const STEP_BATCHES = 20;
/**
 * What retail IT would assemble from off-the-shelf parts (a store Mosquitto with persistence bridged to a
 * central one, a subscriber batch-inserting into PostgreSQL) drained 100,000 events at this share of the
 * raw insert on this machine, losing every queued event on a kill -9 of the store broker.
 */
const OFF_THE_SHELF_SHARE = 0.75;
/** Messages the store is measured alone with (× 500 events). */
const STORE_STEP_BATCHES = 41;
/** The whole run is bounded: past this, every process is killed, the temp dir removed, and the bench fails. */
const WATCHDOG_MS = (2 * DRAIN_TIMEOUT_S + IDLE_S + QUIET_WAIT_S + 150) * 1000;

const bench = new BenchRun();
const progress = (line: string) => process.stderr.write(`· ${line}\n`);

async function waitForHubOnline(hubUrl: string, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${hubUrl}/healthz`).catch(() => null);
    if (response?.status === 200) return;
    if (performance.now() > deadline)
      throw new BenchFailure(`the hub at ${hubUrl} did not get its MQTT subscription within ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function hubGet(hubUrl: string, route: string): Promise<Response> {
  const response = await fetch(`${hubUrl}${route}`, { headers: { authorization: `Bearer ${HUB_TOKEN}` } });
  if (!response.ok) throw new BenchFailure(`GET ${route} on the hub answered ${response.status}`);
  return response;
}

/** The hub's own ingest histogram (receipt to commit, per batch), from its Prometheus endpoint. */
async function ingestMsOf(hubUrl: string): Promise<number> {
  const text = await (await hubGet(hubUrl, '/metrics')).text();
  const match = /^outpost_hub_ingest_seconds_sum (\S+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : Number.NaN;
}

/** What the hub's operator API says about the backlog's epoch once the drain is over. */
async function checkHub(hubUrl: string, epoch: string): Promise<DrainResult['check']> {
  const { stores } = (await (await hubGet(hubUrl, '/v1/stores')).json()) as {
    stores: {
      storeId: string;
      epochs: {
        epoch: string;
        contiguousThrough: number;
        stored: number;
        rejected: number;
        duplicates: number;
        gaps: unknown[];
      }[];
    }[];
  };
  const e = stores.find((s) => s.storeId === STORE_ID)?.epochs.find((x) => x.epoch === epoch);
  return {
    contiguousThrough: e?.contiguousThrough ?? 0,
    stored: e?.stored ?? 0,
    rejected: e?.rejected ?? 0,
    duplicates: e?.duplicates ?? 0,
    gaps: e?.gaps.length ?? 0,
  };
}

interface Context {
  workDir: string;
  broker: MosquittoProcess;
  template: string;
  epoch: string;
  nextLiveNumber: () => number;
  profileRoot: string;
}

const liveTerminals = benchTerminals(LIVE_CONNECTIONS);
const startLive = (url: string, ctx: Context): LiveLoad =>
  startLiveLoad(url, {
    ratePerSecond: LIVE_RATE,
    maxConcurrency: LIVE_CONNECTIONS,
    terminals: liveTerminals,
    nextNumber: ctx.nextLiveNumber,
  });

/** With --profile, the drains' hub and agent write a CPU profile under this name (null: no profile). */
const profileEnv = (ctx: Context, name: string | null): NodeJS.ProcessEnv =>
  PROFILE && name
    ? { ...process.env, [PROFILE_ENV]: path.join(ctx.profileRoot, `${name}.cpuprofile`) }
    : process.env;

async function startHubProcess(ctx: Context, name: string | null, dbUrl: string): Promise<StagedProcess> {
  const hub = await startStagedProcess(
    'hub-child.ts',
    [
      ...['--db-url', dbUrl, '--mqtt-url', ctx.broker.url, '--token', HUB_TOKEN],
      ...['--target', String(EVENTS), '--share-group', 'bench-hubs'],
    ],
    { env: profileEnv(ctx, name), nice: HUB_NICE, nodeArgs: HUB_NODE_ARGS },
  );
  bench.onCleanUp(() => hub.kill());
  return hub;
}

async function startAgentProcess(
  ctx: Context,
  name: string | null,
  dataDir: string,
  storeId: string,
): Promise<StagedProcess> {
  const agent = await startStagedProcess(
    'agent-child.ts',
    [
      ...['--data-dir', dataDir, '--mqtt-url', ctx.broker.url, '--store-id', storeId],
      ...['--terminals', String(LIVE_CONNECTIONS), '--target', String(EVENTS)],
      ...(BATCH_EVENTS === DEFAULT_SYNC_TUNING.batch.maxEvents
        ? []
        : [
            '--batch-max-events',
            String(BATCH_EVENTS),
            '--batch-max-bytes',
            String(SYNC_LIMITS.maxBatchBytes),
          ]),
    ],
    { env: profileEnv(ctx, name) },
  );
  bench.onCleanUp(() => agent.kill());
  return agent;
}

interface IdleLatency {
  load: LiveLoadResult;
  otherCpuPct: number;
  agent: AgentStalls;
}

/** Live sales to an agent with nothing to send (connected to a SQLite hub): the latency to compare with. */
async function measureIdleLatency(ctx: Context): Promise<IdleLatency> {
  const dir = path.join(ctx.workDir, 'idle');
  const hub = await startHubProcess(ctx, null, `sqlite:${path.join(dir, 'hub.sqlite')}`);
  const { url: hubUrl } = await hub.go();
  await waitForHubOnline(hubUrl);
  const agent = await startAgentProcess(ctx, null, path.join(dir, 'agent'), 'BENCH-IDLE');
  const { url } = await agent.go();
  const { result, otherCpuPct } = await observe(async () => {
    const live = startLive(url, ctx);
    await sleep(IDLE_S * 1000);
    return live.stop();
  });
  const { figures } = await agent.sample();
  await agent.stop();
  await hub.stop();
  return { load: result, otherCpuPct, agent: agentStalls(figures) };
}

async function measureDrain(ctx: Context, db: DbKind, withLiveLoad: boolean): Promise<DrainResult> {
  const label = `drain → ${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} hub${withLiveLoad ? `, live sales ${LIVE_RATE}/s` : ''}`;
  const dir = path.join(ctx.workDir, `drain-${db}`);
  mkdirSync(path.join(dir, 'agent'), { recursive: true });
  let temp: TempPostgresDatabase | undefined;
  if (db === 'postgres') {
    temp = await createTempPostgresDatabase();
    bench.onCleanUp(() => temp?.drop());
  }
  const dbUrl = temp ? temp.url : `sqlite:${path.join(dir, 'hub.sqlite')}`;
  const hub = await startHubProcess(ctx, `hub-${db}`, dbUrl);
  const { url: hubUrl } = await hub.go();
  await waitForHubOnline(hubUrl);
  copyFileSync(ctx.template, path.join(dir, 'agent', 'outbox.sqlite'));
  const agent = await startAgentProcess(ctx, `agent-${db}`, path.join(dir, 'agent'), STORE_ID);

  await hub.sample(); // the hub's figures count from here, not from its start-up
  const cpuBefore = processCpuSnapshot();
  const machineBefore = machineCpuTimes();
  const windowStart = performance.now();
  const started = await agent.go();
  const live = withLiveLoad ? startLive(started.url, ctx) : null;
  let completed = true;
  let reachedAt: number;
  try {
    reachedAt = (await hub.mark('reached', DRAIN_TIMEOUT_S * 1000)).at;
  } catch (error) {
    if (!isTimeout(error)) throw error;
    completed = false;
    reachedAt = performance.now();
  }
  const cpuAfter = processCpuSnapshot();
  const machineAfter = machineCpuTimes();
  const windowMs = performance.now() - windowStart;
  const [hubSample, agentSample] = await Promise.all([hub.sample(), agent.sample()]);
  const liveLoad = live ? await live.stop() : null;
  const profiles = PROFILE ? { hub: await hub.endProfile(), agent: await agent.endProfile() } : null;
  const acked = completed ? await agent.mark('acked', 10_000).catch(() => null) : null;
  const ingestMs = await ingestMsOf(hubUrl);
  const check = await checkHub(hubUrl, ctx.epoch);
  await agent.stop();
  await hub.stop();
  await temp?.drop();

  const seconds = (reachedAt - started.sentAt) / 1000;
  const ours = processTree(process.pid, cpuAfter);
  const byProcess = cpuByGroup(cpuBefore, cpuAfter, windowMs, [
    { name: 'agent', matches: (pid) => pid === agent.pid },
    { name: 'hub', matches: (pid) => pid === hub.pid },
    { name: 'mosquitto', matches: (pid) => pid === ctx.broker.pid },
    { name: 'postgres', matches: (_pid, name) => name.startsWith('postgres') },
    { name: 'bench (live load)', matches: (pid) => pid === process.pid },
    { name: 'bench helpers', matches: (pid) => ours.has(pid) },
  ]);
  const machinePct = machineCpuPct(machineBefore, machineAfter, windowMs);
  const accounted = Object.values(byProcess).reduce((a, b) => a + b, 0);
  const h = hubSample.figures;
  const a = agentSample.figures;
  return {
    db,
    label,
    events: EVENTS,
    completed,
    seconds,
    eventsPerSecond: (completed ? EVENTS : check.contiguousThrough) / seconds,
    agentStartMs: started.readyAt - started.sentAt,
    agentAckedSeconds: acked ? (acked.at - started.sentAt) / 1000 : null,
    hub: {
      cpuPct: (hubSample.cpuMs / hubSample.elapsedMs) * 100,
      eventLoopUtilization: hubSample.eventLoopUtilization,
      batches: h.batches ?? 0,
      storeMs: h.storeMsTotal ?? 0,
      storeMsP50: h.storeMsP50 ?? Number.NaN,
      storeMsP99: h.storeMsP99 ?? Number.NaN,
      ingestMs,
    },
    agent: {
      cpuPct: (agentSample.cpuMs / agentSample.elapsedMs) * 100,
      eventLoopUtilization: agentSample.eventLoopUtilization,
      unsentAfterMs: a.unsentAfterMs ?? 0,
      applyAckMs: a.applyAckMs ?? 0,
      captureCommitMs: a.captureCommitMs ?? 0,
      stalls: agentStalls(a),
    },
    cpuByProcess: {
      ...byProcess,
      other: Math.max(0, machinePct - accounted),
      'machine total': machinePct,
    },
    liveLoad,
    check,
    profiles,
  };
}

async function main(): Promise<number> {
  const problems: string[] = [];
  const machine = machineContext();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-sync-bench-'));
  bench.onCleanUp(() => rmSync(workDir, { recursive: true, force: true }));
  const profileRoot = PROFILE ? mkdtempSync(path.join(os.tmpdir(), 'outpost-sync-profiles-')) : '';
  const fsInfo = machine.tmpdirFilesystem;

  progress(`waiting up to ${QUIET_WAIT_S} s for other processes to use < ${DISTURBED_PCT}% of a core`);
  const quietWait = await waitForQuietMachine(QUIET_WAIT_S * 1000, DISTURBED_PCT);
  const broker = await startMosquittoProcess(workDir, HUB_NICE);
  bench.onCleanUp(() => broker.kill());
  const pgSettings = WITH_POSTGRES ? await postgresSettings(POSTGRES_ADMIN_URL) : null;

  progress(
    `filling a backlog of ${fmt(EVENTS)} events through Outbox.appendBatch, ${FILL_CHUNK} per transaction`,
  );
  const template = path.join(workDir, 'template', 'outbox.sqlite');
  const backlog = fillBacklog(template, {
    storeId: STORE_ID,
    events: EVENTS,
    chunk: FILL_CHUNK,
    terminals: BACKLOG_TERMINALS,
  });
  const batches = backlogBatches(template, STORE_ID);
  let liveNumber = 0;
  const ctx: Context = {
    workDir,
    broker,
    template,
    epoch: backlog.epoch,
    nextLiveNumber: () => ++liveNumber,
    profileRoot,
  };

  console.log('Outpost sync benchmark');
  console.log(
    `machine:  ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, kernel ${machine.kernel}`,
  );
  console.log(
    `runtime:  node ${machine.node}; ${['better-sqlite3', 'mqtt', 'pg', 'zod', 'fastify']
      .map((name) => `${name} ${packageVersion(name)}`)
      .join(', ')}`,
  );
  console.log(`broker:   mosquitto ${broker.version} on ${broker.url} (private, no persistence)`);
  console.log(
    `postgres: ${
      pgSettings
        ? Object.entries(pgSettings)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : 'skipped (--skip-postgres)'
    } (same machine)`,
  );
  console.log(
    `data dir: ${workDir} on ${fsInfo ? `${fsInfo.type} (${fsInfo.device} at ${fsInfo.mountPoint}, ${fsInfo.options})` : 'an unknown filesystem'}`,
  );
  console.log(
    `quiet:    ${quietWait.quiet ? 'yes' : 'NO'}: other processes used ${fmt(quietWait.otherCpuPct)}% of a core in the last second ` +
      `before the run (waited ${fmt(quietWait.waitedMs / 1000)} s)`,
  );
  console.log(
    `load:     average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} before the run`,
  );
  console.log(
    `backlog:  ${fmt(EVENTS)} sales of ${fmt(backlog.bodyBytes)} B JSON on average, filled in ${fmt(backlog.fillSeconds, 1)} s; ` +
      `the sync engine sends them as ${batches.payloads.length} messages of ≤ ${DEFAULT_SYNC_TUNING.batch.maxEvents} events ` +
      `(${fmt(batches.bytes / batches.payloads.length / 1024)} KiB each on average)`,
  );
  console.log(
    `sync:     default tuning: batch ≤ ${DEFAULT_SYNC_TUNING.batch.maxEvents} events / ${DEFAULT_SYNC_TUNING.batch.maxBytes / 1024 / 1024} MiB, ` +
      `≤ ${DEFAULT_SYNC_TUNING.maxInFlightBatches} batches in flight, linger ${DEFAULT_SYNC_TUNING.lingerMs} ms; hub: shared subscription, one batch at a time`,
  );
  if (HUB_NODE_ARGS.length > 0 || BATCH_EVENTS !== DEFAULT_SYNC_TUNING.batch.maxEvents)
    console.log(
      `variant:  hub node options [${HUB_NODE_ARGS.join(' ')}], agent batchMaxEvents ${BATCH_EVENTS} (the raw baselines and the step costs do not change)`,
    );
  console.log(
    `priority: ${HUB_NICE > 0 ? `hub processes and mosquitto at nice ${HUB_NICE} (they stand in for head office; the agent and the bench at 0)` : 'everything at the same priority'}`,
  );
  console.log(
    `live:     ${LIVE_RATE} sales/s open loop over ≤ ${LIVE_CONNECTIONS} keep-alive connections (one till each), ` +
      `latency from when each sale was due; idle for ${IDLE_S} s, then throughout the SQLite drain`,
  );
  if (fsInfo && ['tmpfs', 'ramfs'].includes(fsInfo.type))
    console.log(
      'WARNING: the temp dir is in memory: fsync costs nothing there, so durable figures are not real.',
    );
  if (PROFILE)
    console.log(
      'WARNING: --profile: hub and agent run under the V8 profiler, which slows them; compare figures only without it.',
    );
  console.log('');

  progress(`raw MQTT: ${batches.payloads.length} messages QoS 1 through mosquitto`);
  const rawMqtt = await measureRawMqtt(broker.url, batches.payloads, EVENTS, DRAIN_TIMEOUT_S * 1000);

  progress(`raw SQLite: ${fmt(EVENTS)} hub_events rows, ${RAW_ROWS_PER_COMMIT} per transaction`);
  mkdirSync(path.join(workDir, 'raw'));
  const rawSqlite = await observe(() =>
    rawSqliteHubInsert(path.join(workDir, 'raw', 'hub-raw.sqlite'), backlog.rows, RAW_ROWS_PER_COMMIT),
  );
  const rawDb: { label: string; db: DbKind; rate: RawRate; otherCpuPct: number }[] = [
    {
      label: `raw SQLite insert, ${RAW_ROWS_PER_COMMIT} rows/commit (WAL, synchronous=FULL)`,
      db: 'sqlite',
      rate: rawSqlite.result,
      otherCpuPct: rawSqlite.otherCpuPct,
    },
  ];
  if (WITH_POSTGRES) {
    progress(`raw PostgreSQL: ${fmt(EVENTS)} hub_events rows, ${RAW_ROWS_PER_COMMIT} per transaction`);
    for (const form of ['unnest', 'values'] as const) {
      const temp = await createTempPostgresDatabase();
      bench.onCleanUp(() => temp.drop());
      const { otherCpuPct, ...rate } = await rawPostgresHubInsert(
        temp.url,
        backlog.rows,
        RAW_ROWS_PER_COMMIT,
        form,
      );
      rawDb.push({
        label: `raw PostgreSQL insert, ${RAW_ROWS_PER_COMMIT} rows/commit (${form === 'unnest' ? 'INSERT … SELECT unnest' : 'prepared multi-row INSERT … VALUES, as the hub'})`,
        db: 'postgres',
        rate,
        otherCpuPct,
      });
      await temp.drop();
    }
  }

  progress(`idle capture latency: ${LIVE_RATE} sales/s for ${IDLE_S} s`);
  const idle = await measureIdleLatency(ctx);

  const drains: DrainResult[] = [];
  progress(`drain to a SQLite hub, with live sales at ${LIVE_RATE}/s`);
  drains.push(await measureDrain(ctx, 'sqlite', true));
  if (WITH_POSTGRES) {
    progress('drain to a PostgreSQL hub');
    drains.push(await measureDrain(ctx, 'postgres', false));
  }

  progress(`CPU per event of each step, on ${STEP_BATCHES} of the backlog's messages`);
  const steps = measureIngestSteps(
    STORE_ID,
    backlog.epoch,
    batches.events.slice(0, STEP_BATCHES),
    batches.payloads.slice(0, STEP_BATCHES),
  );
  progress(`the hub's store alone, ${STORE_STEP_BATCHES} batches one after the other`);
  const storeSteps: StoreStepCost[] = [];
  mkdirSync(path.join(workDir, 'store-alone'));
  const storePayloads = batches.payloads.slice(0, STORE_STEP_BATCHES);
  storeSteps.push(
    await measureStoreSteps(STORE_ID, storePayloads, {
      db: 'sqlite',
      dir: path.join(workDir, 'store-alone'),
    }),
  );
  if (WITH_POSTGRES) {
    const temp = await createTempPostgresDatabase();
    bench.onCleanUp(() => temp.drop());
    storeSteps.push(await measureStoreSteps(STORE_ID, storePayloads, { db: 'postgres', url: temp.url }));
    await temp.drop();
  }

  for (const d of drains) {
    if (!d.completed) problems.push(`${d.label}: did not finish within ${DRAIN_TIMEOUT_S} s`);
    else if (d.check.contiguousThrough < EVENTS || d.check.stored < EVENTS || d.check.gaps > 0)
      problems.push(`${d.label}: the hub reports ${JSON.stringify(d.check)} for ${EVENTS} backlog events`);
    if (d.check.rejected > 0 || d.check.duplicates > 0)
      problems.push(`${d.label}: the hub rejected or doubled events: ${JSON.stringify(d.check)}`);
  }
  const liveDrain = drains.find((d) => d.liveLoad)?.liveLoad ?? null;
  for (const [what, load] of [
    ['idle', idle.load],
    ['draining', liveDrain],
  ] as const) {
    if (load && load.created !== load.sent)
      problems.push(`live sales (${what}): ${load.sent} sent, answers ${JSON.stringify(load.statuses)}`);
  }

  // The database's ceiling is the faster of the ways measured to feed it.
  const rawRateOf = (db: DbKind) =>
    Math.max(...rawDb.filter((r) => r.db === db).map((r) => r.rate.rowsPerSecond));
  const ratios: Ratio[] = [];
  for (const d of drains) {
    const name = d.db === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    const ceiling = Math.min(rawMqtt.eventsPerSecond, rawRateOf(d.db));
    // The aims are for 100,000 events: 5 s to SQLite, 10 s to PostgreSQL; other sizes scale them.
    const limit = ((d.db === 'sqlite' ? 5 : 10) * EVENTS) / 100_000;
    ratios.push(
      {
        name: `drain → ${name} ÷ min(raw MQTT, raw ${name} insert)`,
        value: d.eventsPerSecond / ceiling,
        aim: '≥ 0.5',
        meets: d.eventsPerSecond / ceiling >= 0.5,
        shows: `share of the slower raw ceiling (${rawMqtt.eventsPerSecond < rawRateOf(d.db) ? 'MQTT' : name}) the drain keeps`,
      },
      {
        name: `drain → ${name}: seconds for ${fmt(EVENTS)} events`,
        value: d.seconds,
        aim: `< ${limit}`,
        meets: d.completed && d.seconds < limit,
        shows: 'absolute drain time, agent start to last durable commit',
      },
      {
        name: `drain → ${name} ÷ raw MQTT`,
        value: d.eventsPerSecond / rawMqtt.eventsPerSecond,
        aim: 'info',
        meets: null,
        shows: 'share of the transport ceiling',
      },
      {
        name: `drain → ${name} ÷ raw ${name} insert`,
        value: d.eventsPerSecond / rawRateOf(d.db),
        aim: '≥ 0.75',
        meets: d.eventsPerSecond / rawRateOf(d.db) >= OFF_THE_SHELF_SHARE,
        shows: `share of the database ceiling; a Mosquitto bridge with a batch-inserting subscriber keeps ${OFF_THE_SHELF_SHARE} here, losing queued events on kill -9`,
      },
    );
  }
  if (liveDrain) {
    ratios.push(
      {
        name: 'capture p99 while draining ÷ capture p99 idle',
        value: liveDrain.latencyMs.p99 / idle.load.latencyMs.p99,
        aim: '≤ 2',
        meets: liveDrain.latencyMs.p99 / idle.load.latencyMs.p99 <= 2,
        shows: 'what a backlog drain does to a till',
      },
      {
        name: 'capture p50 while draining ÷ capture p50 idle',
        value: liveDrain.latencyMs.p50 / idle.load.latencyMs.p50,
        aim: 'info',
        meets: null,
        shows: 'the same at the median',
      },
    );
  }
  const parseStep = steps.find((s) => s.step === 'parseStoreMessage, whole (the parse worker)');
  const sqliteDrain = drains.find((d) => d.db === 'sqlite');
  if (parseStep && sqliteDrain)
    ratios.push({
      name: 'drain → SQLite ÷ parseStoreMessage alone on one core',
      value: sqliteDrain.eventsPerSecond / parseStep.eventsPerSecond,
      aim: 'info',
      meets: null,
      shows: 'share of the drain the hub spends parsing, validating and hashing alone',
    });

  console.log(
    'Throughput: the backlog from the agent to the hub, and the raw ceilings (same run, same machine)',
  );
  console.log(throughputTable(EVENTS, rawMqtt, rawDb, drains));
  console.log('');
  console.log(
    'Inside the drains (hub: one batch at a time; agent: its delivery thread reads the outbox and records acks, the main thread publishes)',
  );
  console.log(drainTable(drains));
  console.log('');
  console.log('CPU by process during each drain');
  console.log(cpuTable(drains, machine.cpus));
  console.log('');
  console.log('Capture latency of live sales (HTTP POST /v1/transactions, 201 = durable in the outbox)');
  console.log(
    latencyTable([
      { label: 'idle (nothing to send)', load: idle.load, otherCpuPct: idle.otherCpuPct },
      ...drains.flatMap((d) =>
        d.liveLoad
          ? [{ label: 'while draining to SQLite', load: d.liveLoad, otherCpuPct: d.cpuByProcess.other ?? 0 }]
          : [],
      ),
    ]),
  );
  console.log('');
  console.log(
    'What held up the agent’s event loop (capture commits and GC block every request behind them; batch reads and ack writes run on the delivery thread)',
  );
  console.log(
    stallTable([
      { label: 'idle (nothing to send)', stalls: idle.agent, seconds: idle.load.elapsedS },
      ...drains.map((d) => ({ label: d.label, stalls: d.agent.stalls, seconds: d.seconds })),
    ]),
  );
  console.log('');
  console.log('CPU per event of each step between outbox and hub database, measured alone in this process');
  console.log(stepTable(steps));
  console.log('');
  console.log(
    "The hub's store alone: parsed batches given to insertEventsOnce one after the other (lookups, rows, counters, days, commit)",
  );
  console.log(storeStepTable(storeSteps));
  console.log('');
  console.log('Ratios');
  console.log(ratioTable(ratios));

  const profiles: Record<string, ProfileSummary> = {};
  for (const d of drains) {
    for (const [side, file] of Object.entries(d.profiles ?? {})) {
      if (!file) continue;
      const name = `${side}, ${d.label}`;
      profiles[name] = summarizeProfile(file);
      console.log('');
      console.log(
        profileTables(`CPU profile of the ${name} (from its start to the end of the drain)`, profiles[name]),
      );
    }
  }

  const disturbed = Math.max(
    rawMqtt.otherCpuPct,
    ...rawDb.map((r) => r.otherCpuPct),
    idle.otherCpuPct,
    ...drains.map((d) => d.cpuByProcess.other ?? 0),
  );
  warnIfDisturbed(disturbed, machine.cpus);
  if (problems.length > 0) {
    console.log('');
    for (const p of problems) console.log(`PROBLEM: ${p}`);
  }

  const resultsFile = resultsPath('sync-latest.json');
  writeFileSync(
    resultsFile,
    `${JSON.stringify(
      {
        generatedAt: new Date().toISOString(),
        machine,
        broker: { kind: 'mosquitto', version: broker.version },
        postgres: pgSettings,
        settings: {
          events: EVENTS,
          fillChunk: FILL_CHUNK,
          bodyBytes: backlog.bodyBytes,
          messages: batches.payloads.length,
          messageBytes: batches.bytes / batches.payloads.length,
          syncTuning: DEFAULT_SYNC_TUNING,
          rawRowsPerCommit: RAW_ROWS_PER_COMMIT,
          liveRatePerSecond: LIVE_RATE,
          liveConnections: LIVE_CONNECTIONS,
          idleSeconds: IDLE_S,
          hubNice: HUB_NICE,
          hubNodeArgs: HUB_NODE_ARGS,
          batchMaxEvents: BATCH_EVENTS,
          profiled: PROFILE,
        },
        backlogFillSeconds: backlog.fillSeconds,
        raw: { mqtt: rawMqtt, db: rawDb },
        drains,
        latency: { idle, draining: liveDrain },
        quietWait,
        steps,
        storeSteps,
        ratios,
        profiles,
        problems,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${path.relative(process.cwd(), resultsFile)}`);
  if (PROFILE) console.log(`profiles: ${profileRoot} (open in Chrome DevTools or speedscope)`);
  return problems.length > 0 ? 1 : 0;
}

await bench.run(main, WATCHDOG_MS);
