import { Writable } from 'node:stream';
import pg from 'pg';
import winston from 'winston';
import { afterEach, describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { startHub, type RunningHub } from '../../src/hub/index.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { sale } from '../support/pos-payloads.js';
import { createTempPostgresDatabase, type TempPostgresDatabase } from '../support/postgres.js';
import { StorePublisher } from '../support/store-publisher.js';
import { waitFor } from '../support/sync-harness.js';

const EPOCH = '5a5a5a5a5a5a5a5a';
const TOKEN = 'operator-token-0123456789';
const eventOf = (storeId: string, seq: number) => ({
  seq,
  eventId: `01${storeId}EVENT${String(seq).padStart(10, '0')}`,
  text: JSON.stringify(sale({ transactionId: `${storeId}-${seq}` }, seq)),
});
const events = (storeId: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => eventOf(storeId, from + i));

/** A logger whose JSON lines the test can read. */
function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, callback) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            callback();
          },
        }),
      }),
    ],
  });
  return { logger, lines };
}

describe('a hub on PostgreSQL with one store stuck on a lock', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it("stores and acknowledges another store's events, fails /healthz naming the stuck store, and recovers once the lock goes", async () => {
    const database: TempPostgresDatabase = await createTempPostgresDatabase();
    cleanups.push(() => database.drop());
    const broker: TestMosquitto = await startMosquitto();
    cleanups.push(() => broker.stop());
    const { logger, lines } = collectingLogger();
    const hub: RunningHub = await startHub(
      hubConfigSchema.parse({
        hubId: 'hub-no-stall',
        db: { url: database.url, lockTimeoutMs: 3_000, statementTimeoutMs: 10_000 },
        mqtt: { url: broker.url, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
        api: { host: '127.0.0.1', port: 0, token: TOKEN },
        ingest: { stuckAfterMs: 500, failureHoldMs: 60_000 },
      }),
      { logger },
    );
    cleanups.push(() => hub.stop());
    const stores = await StorePublisher.connect(broker.url);
    cleanups.push(() => stores.close());
    const healthz = async () => {
      const response = await fetch(`${hub.url}/healthz`);
      return { status: response.status, body: (await response.json()) as { ok: boolean; reason?: string } };
    };

    // Both stores are known to the hub: their epochs have hub_streams rows.
    await waitFor('the hub to be healthy', async () => (await healthz()).status === 200);
    await stores.publishBatch('A', EPOCH, events('A', 1, 1));
    await stores.publishBatch('B', EPOCH, events('B', 1, 1));
    await stores.waitForAck('A', (a) => a.ackedThrough === 1, 'seq 1');
    await stores.waitForAck('B', (a) => a.ackedThrough === 1, 'seq 1');

    // An operator's psql session holds store A's row.
    const operator = new pg.Client(database.url);
    await operator.connect();
    cleanups.push(() => operator.end());
    await operator.query('BEGIN');
    await operator.query("SELECT * FROM hub_streams WHERE store_id = 'A' FOR UPDATE");

    await stores.publishBatch('A', EPOCH, events('A', 2, 3));
    await stores.publishBatch('B', EPOCH, events('B', 2, 3));
    const bAck = await stores.waitForAck('B', (a) => a.ackedThrough === 3, 'seqs 2–3');
    expect(bAck).toMatchObject({
      kind: 'batch',
      batch: { firstSeq: 2, lastSeq: 3 },
      rejected: [],
      conflicts: [],
    });
    // B went through while A's commit was still waiting (not after it gave up): the commits ran side by side.
    expect(lines.filter((l) => l.storeId === 'A' && l.level === 'error')).toEqual([]);
    expect(stores.acks.filter((a) => a.storeId === 'A' && a.ack.ackedThrough > 1)).toEqual([]);
    expect((await hub.store.listTransactions('B', { limit: 10 })).events.map((e) => e.seq)).toEqual([
      1, 2, 3,
    ]);

    const stuck = await waitFor('/healthz to fail naming store A', async () => {
      const h = await healthz();
      return h.status === 503 && h.body.reason?.includes('store A') ? h.body : undefined;
    });
    expect(stuck.reason).toMatch(
      new RegExp(`store A epoch ${EPOCH}: storing seqs 2–3 has waited \\d+\\.\\d s for the store epoch lock`),
    );
    expect(stuck.reason).not.toContain('store B');

    // The lock timeout ends A's attempt: logged with store, epoch and seqs, and /healthz says why.
    const failure = await waitFor('the failure of A to be logged', () =>
      lines.find((l) => l.message === 'storing a batch failed; the store will publish it again'),
    );
    expect(failure).toMatchObject({ level: 'error', storeId: 'A', epoch: EPOCH, firstSeq: 2, lastSeq: 3 });
    expect(failure.error).toMatch(/^waited longer than db\.lockTimeoutMs for a lock/);
    const failed = await healthz();
    expect(failed.status).toBe(503);
    expect(failed.body.reason).toMatch(
      /store A epoch \w+: storing seqs 2–3 failed [\d.]+ s ago \(waited longer than db\.lockTimeoutMs/,
    );
    const metrics = await (
      await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/^outpost_hub_failed_commits_total 1$/m);

    // The lock goes; the store publishes its batch again (as its ack timeout would make it) and all is well.
    await operator.query('ROLLBACK');
    await stores.publishBatch('A', EPOCH, events('A', 2, 3));
    await stores.waitForAck('A', (a) => a.ackedThrough === 3, 'seqs 2–3 after the lock');
    expect((await hub.store.listTransactions('A', { limit: 10 })).events.map((e) => e.seq)).toEqual([
      1, 2, 3,
    ]);
    expect(await healthz()).toEqual({ status: 200, body: { ok: true, mqtt: 'online' } });
  });

  it('reports errors of its pooled connections (logged, counted in /metrics) and goes on storing', async () => {
    const database = await createTempPostgresDatabase();
    cleanups.push(() => database.drop());
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const { logger, lines } = collectingLogger();
    const hub = await startHub(
      hubConfigSchema.parse({
        hubId: 'hub-pool-errors',
        db: { url: database.url },
        mqtt: { url: broker.url, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
        api: { host: '127.0.0.1', port: 0, token: TOKEN },
      }),
      { logger },
    );
    cleanups.push(() => hub.stop());
    const stores = await StorePublisher.connect(broker.url);
    cleanups.push(() => stores.close());
    await stores.publishBatch('A', EPOCH, events('A', 1, 2));
    await stores.waitForAck('A', (a) => a.ackedThrough === 2, 'seqs 1–2');

    // PostgreSQL restarts, or an administrator ends the hub's sessions: its idle connections fail.
    const admin = new pg.Client(database.url);
    await admin.connect();
    cleanups.push(() => admin.end());
    const { rowCount } = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'outpost-hub'",
    );
    expect(rowCount).toBeGreaterThan(0);
    const metric = async () => {
      const text = await (
        await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).text();
      return Number(/^outpost_hub_db_pool_errors_total (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    await waitFor('the pool error to be counted', async () => (await metric()) > 0);
    expect(
      lines.some(
        (l) => l.level === 'error' && String(l.message).includes('pooled database connection failed'),
      ),
    ).toBe(true);

    await stores.publishBatch('A', EPOCH, events('A', 3, 3));
    await stores.waitForAck('A', (a) => a.ackedThrough === 3, 'seq 3 on fresh connections');
  });
});
