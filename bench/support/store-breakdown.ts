import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseStoreMessage } from '../../src/hub/index.js';
import type { HubStore, IncomingEvent } from '../../src/hub/hub-store.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import { processCpuMs } from './process-cpu.js';

export interface StoreStepCost {
  db: 'sqlite' | 'postgres';
  events: number;
  batches: number;
  /** This process's CPU per event (the hub's main thread does this work). */
  hubCpuUsPerEvent: number;
  /** PostgreSQL's server processes serving the store's connections, CPU per event (null for SQLite). */
  serverCpuUsPerEvent: number | null;
  /** Wall time per event, one batch after the other (commits included: fsync). */
  wallUsPerEvent: number;
  eventsPerSecond: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function backendPids(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'outpost-hub'",
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/**
 * The hub's store alone: the backlog's batches, parsed beforehand, given to insertEventsOnce one after
 * the other on a fresh database (no broker, no agent, no parse worker): what storing costs the hub's
 * main thread and, for PostgreSQL, the server, per event. Against the drain it shows what the rest of
 * the pipeline adds; against the raw insert, what the hub's checks add to the bare rows.
 */
export async function measureStoreSteps(
  storeId: string,
  payloads: readonly string[],
  target: { db: 'sqlite'; dir: string } | { db: 'postgres'; url: string },
): Promise<StoreStepCost> {
  const batches = payloads.map((p) => {
    const parsed = parseStoreMessage(storeId, Buffer.from(p));
    if (!parsed.ok || parsed.kind !== 'batch') throw new Error('a backlog message did not parse as a batch');
    return { epoch: parsed.epoch, events: parsed.events as IncomingEvent[] };
  });
  const store: HubStore =
    target.db === 'sqlite'
      ? new SqliteHubStore(path.join(target.dir, 'store-alone.sqlite'))
      : await PostgresHubStore.open(target.url, { poolSize: 2 });
  try {
    // One batch first, so the connection exists and the statements are prepared, as in a running hub.
    const [first, ...rest] = batches;
    if (!first) throw new Error('no batches');
    await store.insertEventsOnce(storeId, first.epoch, first.events, Date.now());
    const pids = target.db === 'postgres' ? await backendPids(target.url) : [];
    const serverBefore = pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
    const cpuBefore = cpuMs();
    const startedAt = performance.now();
    let events = 0;
    for (const b of rest) {
      await store.insertEventsOnce(storeId, b.epoch, b.events, Date.now());
      events += b.events.length;
    }
    const wallMs = performance.now() - startedAt;
    const hubMs = cpuMs() - cpuBefore;
    const serverMs = pids.reduce((sum, pid) => sum + processCpuMs(pid), 0) - serverBefore;
    return {
      db: target.db,
      events,
      batches: rest.length,
      hubCpuUsPerEvent: (hubMs * 1000) / events,
      serverCpuUsPerEvent: target.db === 'postgres' ? (serverMs * 1000) / events : null,
      wallUsPerEvent: (wallMs * 1000) / events,
      eventsPerSecond: events / (wallMs / 1000),
    };
  } finally {
    await store.close();
  }
}
