import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { numberedSale } from '../support/pos-payloads.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { killLeftovers, makeTerminals } from '../support/spawn-agent.js';
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
  type HubProcess,
} from '../support/spawn-hub.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * DESIGN.md, "Shape": the hub scales out by adding processes on one shared subscription against one
 * database. Two hub processes in one share group, on one database (a SQLite file, then PostgreSQL),
 * take turns at the stores' batches, often for the same store at once; each event must still be stored
 * exactly once and every store's seqs stay gapless.
 */

const TERMINALS = makeTerminals(['T1', 'T2', 'T3', 'T4']);
const STORES = ['store-a', 'store-b'];
const SALES_PER_STORE = 1000;

let broker: TestMosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

async function twoHubsStoreEverythingOnce(dbUrl: string): Promise<void> {
  const hubs: HubProcess[] = await Promise.all(
    ['hub-a', 'hub-b'].map((hubId) => spawnHub({ dbUrl, mqttUrl: broker.url, hubId, shareGroup: 'hubs' })),
  );
  const [hubA] = hubs as [HubProcess, HubProcess];
  // Small batches, so each store's stream is many messages for the broker to share out.
  const agents = await Promise.all(
    STORES.map((storeId) =>
      spawnSyncAgent({ mqttUrl: broker.url, terminals: TERMINALS, storeId, sync: { batchMaxEvents: 50 } }),
    ),
  );
  const sold = await Promise.all(
    agents.map((agent) =>
      submitSales(
        agent.url,
        TERMINALS,
        Array.from({ length: SALES_PER_STORE }, (_, i) =>
          numberedSale(TERMINALS[i % TERMINALS.length]!.id, i + 1),
        ),
        8,
      ),
    ),
  );

  for (const [i, storeId] of STORES.entries()) {
    await waitFor(`${SALES_PER_STORE} sales of ${storeId} at the hubs`, async () =>
      (await storedCount(hubA.api, storeId)) >= SALES_PER_STORE ? true : undefined,
    );
    await waitFor(`${storeId}'s agent to have its backlog acknowledged`, async () =>
      (await agentStatus(agents[i]!.url)).backlog.count === 0 ? true : undefined,
    );
  }

  for (const [i, storeId] of STORES.entries()) {
    // Both hubs answer from the one database, and agree.
    const [snapshot, other] = await Promise.all(hubs.map((hub) => snapshotStore(hub.api, storeId)));
    expect(other!.summary.epochs).toEqual(snapshot!.summary.epochs);
    expect(snapshot!.summary.epochs).toHaveLength(1);
    const [epoch] = snapshot!.summary.epochs;
    expect(epoch, storeId).toMatchObject({
      epoch: (await agentStatus(agents[i]!.url)).epoch,
      lastSeq: SALES_PER_STORE,
      contiguousThrough: SALES_PER_STORE,
      stored: SALES_PER_STORE,
      duplicates: 0,
      rejected: 0,
      gaps: [],
    });
    expect(streamViolations(snapshot!, epoch!.epoch)).toEqual([]);
    expect(deliveryViolations(sold[i]!, snapshot!)).toEqual([]);
    expect(snapshot!.summary.quarantined).toBe(0);
  }

  // The broker shared the work out: each hub committed some of the batches.
  const batches = await Promise.all(hubs.map((hub) => hub.api.metric('outpost_hub_batches_total')));
  for (const [i, count] of batches.entries()) {
    expect(count, `batches committed by ${hubs[i]!.hubId} (all: ${batches.join(', ')})`).toBeGreaterThan(0);
  }
  const storedByHubs = await Promise.all(
    hubs.map((hub) => hub.api.metric('outpost_hub_events_total{outcome="stored"}')),
  );
  expect(storedByHubs.reduce((a, b) => a + b, 0)).toBe(STORES.length * SALES_PER_STORE);
}

describe('two hubs on one shared subscription and one database', () => {
  it('stores each event exactly once with SQLite', async () => {
    await twoHubsStoreEverythingOnce(`sqlite:${path.join(makeTempDir('hub-db'), 'hub.sqlite')}`);
  }, 60_000);

  it('stores each event exactly once with PostgreSQL', async () => {
    const db = await createTempPostgresDatabase();
    try {
      await twoHubsStoreEverythingOnce(db.url);
    } finally {
      // The hubs go before their database does.
      await killLeftovers();
      await db.drop();
    }
  }, 60_000);
});
