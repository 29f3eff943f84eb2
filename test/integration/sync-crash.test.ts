import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTerminals } from '../support/spawn-agent.js';
import {
  agentStatus,
  deliveryViolations,
  snapshotStore,
  spawnHub,
  spawnSyncAgent,
  storedCount,
  streamViolations,
  submitSales,
  waitFor,
} from '../support/spawn-hub.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Promise 1 of DESIGN.md across the whole path (till → agent → Mosquitto → hub → SQLite) when one end
 * dies with kill -9: the agent in the middle of draining a backlog, or the hub after its commit and
 * before its acknowledgement. Every sale answered 201 must be stored at the hub exactly once, as the
 * POS sent it, with the store's seqs gapless.
 */

const TERMINALS = makeTerminals(['T1', 'T2', 'T3']);
const sales = (count: number, from = 1) =>
  Array.from({ length: count }, (_, i) =>
    numberedSale(TERMINALS[(from + i) % TERMINALS.length]!.id, from + i),
  );

let broker: TestMosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

/** The hub's own record of a store epoch, read straight from its SQLite file (the hub may be dead). */
function hubDatabaseCounts(file: string, storeId: string): { stored: number; highest: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const stored = db
      .prepare("SELECT count(*) FROM hub_events WHERE store_id = ? AND status = 'stored'")
      .pluck()
      .get(storeId) as number;
    const highest = (db.prepare('SELECT max(seq) FROM hub_events WHERE store_id = ?').pluck().get(storeId) ??
      0) as number;
    return { stored, highest };
  } finally {
    db.close();
  }
}

describe('sync under kill -9', () => {
  it('delivers every 201-acknowledged sale exactly once when the agent is killed mid-drain', async () => {
    const storeId = 'store-kill-agent';
    const captured = 2000;
    const hubFile = path.join(makeTempDir('hub-db'), 'hub.sqlite');
    // Small batches and a narrow window stretch the drain over ~20 round trips, so the kill lands inside it.
    const tuning = { batchMaxEvents: 100, maxInFlightBatches: 2 };
    const agent = await spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId, sync: tuning });
    const submitted = await submitSales(agent.url, TERMINALS, sales(captured));
    expect((await agentStatus(agent.url)).backlog.count).toBe(captured);

    // Head office comes up to a backlog; the agent dies once part of it is through.
    const hub = await spawnHub({ dbUrl: `sqlite:${hubFile}`, mqttUrl: broker.url });
    const storedAtKill = await waitFor(
      'the hub to store part of the backlog',
      async () => {
        const n = await storedCount(hub.api, storeId);
        return n > 0 ? n : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 5 },
    );
    expect(await agent.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    const heldAtKill = hubDatabaseCounts(hubFile, storeId).stored;
    expect(heldAtKill, 'the kill must land mid-drain').toBeLessThan(captured);
    expect(heldAtKill).toBeGreaterThanOrEqual(storedAtKill);

    const restarted = await spawnSyncAgent({
      mqttUrl: broker.url,
      terminals: TERMINALS,
      storeId,
      dataDir: agent.dataDir,
      sync: tuning,
    });
    await waitFor(
      `all ${captured} sales at the hub`,
      async () => ((await storedCount(hub.api, storeId)) >= captured ? true : undefined),
      { timeoutMs: 30_000 },
    );
    await waitFor('the agent to see its backlog acknowledged', async () =>
      (await agentStatus(restarted.url)).backlog.count === 0 ? true : undefined,
    );

    const snapshot = await snapshotStore(hub.api, storeId);
    expect(snapshot.summary.epochs.map((e) => e.epoch)).toEqual([(await agentStatus(restarted.url)).epoch]);
    const [epoch] = snapshot.summary.epochs;
    expect(epoch).toMatchObject({
      lastSeq: captured,
      contiguousThrough: captured,
      stored: captured,
      gaps: [],
    });
    expect(streamViolations(snapshot, epoch!.epoch)).toEqual([]);
    expect(deliveryViolations(submitted, snapshot)).toEqual([]);
    // Each seq holds the sale the agent answered with that seq.
    const bySeq = new Map(snapshot.events.get(epoch!.epoch)!.map((e) => [e.seq, e]));
    for (const sale of submitted) expect(bySeq.get(sale.seq)?.eventId, `seq ${sale.seq}`).toBe(sale.eventId);
    expect(await hub.api.quarantine(storeId)).toEqual([]);
  }, 60_000);

  it('stores every sale exactly once when the hub is killed between its commit and its acknowledgement', async () => {
    const storeId = 'store-kill-hub';
    const captured = 1000;
    const batch = 100;
    const dbUrl = `sqlite:${path.join(makeTempDir('hub-db'), 'hub.sqlite')}`;
    const agent = await spawnSyncAgent({
      mqttUrl: broker.url,
      terminals: TERMINALS,
      storeId,
      sync: { batchMaxEvents: batch },
    });
    const submitted = await submitSales(agent.url, TERMINALS, sales(captured));

    const faulty = await spawnHub({
      dbUrl,
      mqttUrl: broker.url,
      extraEnv: { OUTPOST_HUB_FAULT: 'kill-after-commit:3' },
    });
    const exit = await Promise.race([
      faulty.waitExit(),
      new Promise((r) => setTimeout(() => r('still running'), 20_000)),
    ]);
    expect(exit, faulty.stderr()).toEqual({ code: null, signal: 'SIGKILL' });
    // Three batches are durable at the hub; the agent heard of at most two of them.
    const atKill = hubDatabaseCounts(dbUrl.slice('sqlite:'.length), storeId);
    expect(atKill.stored).toBe(3 * batch);
    const unacknowledged = (await agentStatus(agent.url)).backlog.count;
    expect(captured - unacknowledged, 'the last committed batch was never acknowledged').toBeLessThan(
      atKill.stored,
    );

    const hub = await spawnHub({ dbUrl, mqttUrl: broker.url });
    await waitFor(
      `all ${captured} sales at the hub`,
      async () => ((await storedCount(hub.api, storeId)) >= captured ? true : undefined),
      { timeoutMs: 30_000 },
    );
    await waitFor('the agent to see its backlog acknowledged', async () =>
      (await agentStatus(agent.url)).backlog.count === 0 ? true : undefined,
    );

    const snapshot = await snapshotStore(hub.api, storeId);
    expect(snapshot.summary.epochs).toHaveLength(1);
    const [epoch] = snapshot.summary.epochs;
    // The unacknowledged batch came again and was recognised as a redelivery: no duplicate rows.
    expect(epoch).toMatchObject({
      lastSeq: captured,
      contiguousThrough: captured,
      stored: captured,
      duplicates: 0,
      rejected: 0,
    });
    expect(streamViolations(snapshot, epoch!.epoch)).toEqual([]);
    expect(deliveryViolations(submitted, snapshot)).toEqual([]);
    expect(await hub.api.quarantine(storeId)).toEqual([]);
    expect((await agentStatus(agent.url)).deadLetters.count).toBe(0);
  }, 60_000);
});
