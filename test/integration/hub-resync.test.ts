import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredEvent, StoreSummary } from '../../src/hub/index.js';
import { DAY, tillClose, tillSale, txId } from '../support/day-close-fixtures.js';
import { hubDatabase, startTestHub, type TestHub } from '../support/hub-in-process.js';
import { startMosquitto } from '../support/mosquitto.js';
import { POSTGRES_ADMIN_URL } from '../support/postgres.js';
import { recordingLogger, StoreSimulator, waitUntil } from '../support/store-simulator.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Head office's database is restored from a backup: stores hold acknowledgements for events the hub no
 * longer has. The hub notices from their retained status, asks on the commands topic, gets back exactly
 * once what they still retain, and reports what they no longer had. Real Mosquitto, real PostgreSQL,
 * a real pg_dump and psql restore.
 */

const run = promisify(execFile);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

const STORE = 'S-RESTORE';
const EPOCH = '5e5e5e5e5e5e5e5e';

async function pgDump(url: string, file: string): Promise<void> {
  await run('pg_dump', ['--no-owner', '--format=plain', '--file', file, url]);
}

/** Replaces the database with the dump, as an operator restoring a backup would: drop, create, psql. */
async function restore(url: string, file: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  await run('psql', ['-v', 'ON_ERROR_STOP=1', '--quiet', '--file', file, url]);
}

async function transactions(hub: TestHub, epoch: string): Promise<StoredEvent[]> {
  const { body } = await hub.get<{ events: StoredEvent[] }>(
    `/v1/stores/${STORE}/transactions?epoch=${epoch}&limit=5000`,
  );
  return body.events;
}

const epochOf = async (hub: TestHub) =>
  (await hub.get<{ stores: StoreSummary[] }>('/v1/stores')).body.stores.find((s) => s.storeId === STORE)
    ?.epochs[0];

describe('a hub database restored from a dump taken mid-day', () => {
  it('gets back exactly once what the store still retains, and reports what it no longer had', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const db = await hubDatabase('postgres');
    cleanups.push(() => db.drop());
    const dump = path.join(makeTempDir('hub-dump'), 'hub.sql');

    const before = await startTestHub({ dbUrl: db.url, mqttUrl: broker.url });
    cleanups.push(() => before.hub.stop());
    await waitUntil('the hub online', async () =>
      (await before.get('/healthz', null)).status === 200 ? true : undefined,
    );
    const store = await StoreSimulator.connect(broker.url, STORE, EPOCH);
    cleanups.push(() => store.close());

    // Morning: ten sales reach head office; then the backup is taken.
    for (let n = 1; n <= 10; n++) store.capture('sale', tillSale('T1', n));
    await store.deliver(4);
    await store.publishStatus();
    await pgDump(db.url, dump);

    // Afternoon: fourteen more, and the till's close; all acknowledged, the day confirmed.
    for (let n = 11; n <= 24; n++) store.capture('sale', tillSale('T1', n));
    store.capture('day-close', { ...tillClose('T1', { sales: 24 }) });
    await store.deliver(4);
    expect((await store.waitForVerdict('T1', DAY, () => true)).state).toBe('confirmed');
    await store.publishStatus();
    expect(store.statusMessage().acked).toEqual([{ epoch: EPOCH, through: 25 }]);
    await before.hub.stop();

    // Head office's database is restored from the morning's dump. Meanwhile the store pruned its oldest
    // acknowledged events (outbox.ackedRetentionDays): seqs 11–14 are gone from everywhere.
    await restore(db.url, dump);
    store.prune(15);

    // Two hubs start on the restored database; the store's retained status says 25 were acknowledged.
    const hubs = await Promise.all(
      ['hub-a', 'hub-b'].map(async (hubId) => {
        const logs = recordingLogger();
        const hub = await startTestHub({
          dbUrl: db.url,
          mqttUrl: broker.url,
          hubId,
          deps: { logger: logs.logger },
        });
        cleanups.push(() => hub.hub.stop());
        return { hub, logs };
      }),
    );
    const [a] = hubs;
    await waitUntil(
      'what the store retained to be back',
      async () =>
        (await epochOf(a!.hub))?.contiguousThrough === 10 && (await epochOf(a!.hub))?.lastSeq === 25
          ? true
          : undefined,
      { timeoutMs: 20_000 },
    );
    const stream = await waitUntil('the store’s answer to be recorded', async () => {
      const e = await epochOf(a!.hub);
      return e?.resend?.answeredAt ? e : undefined;
    });

    // One command, from one hub, from the first seq the restored hub lacks.
    expect(store.commands).toEqual([
      expect.objectContaining({
        kind: 'resend',
        epoch: EPOCH,
        fromSeq: 11,
        requestId: stream.resend!.requestId,
      }),
    ]);
    // Seqs 11–14 are reported unrecoverable (not a gap in flight); everything else is held.
    expect(stream).toMatchObject({
      lastSeq: 25,
      contiguousThrough: 10,
      gaps: [],
      unrecoverable: [{ from: 11, to: 14 }],
      stored: 21,
      duplicates: 0,
      resend: { fromSeq: 11, ackedThrough: 25, availableFrom: 15, storeThrough: 25 },
    });

    // Exactly once, as the store sent them, even when the store publishes its window again.
    const check = async () => {
      const held = await transactions(a!.hub, EPOCH);
      expect(held.map((e) => e.seq)).toEqual([
        ...Array.from({ length: 10 }, (_, i) => i + 1),
        ...Array.from({ length: 11 }, (_, i) => i + 15),
      ]);
      for (const e of held) {
        expect(e.status).toBe('stored');
        expect(e.body).toEqual(
          JSON.parse(store.events.get(e.seq)?.text ?? JSON.stringify(tillSale('T1', e.seq))),
        );
      }
    };
    await check();
    for (const e of store.events.values()) e.acked = false;
    await store.deliver(4);
    await check();
    expect(await epochOf(a!.hub)).toMatchObject({ stored: 21, duplicates: 0 });

    // Logs and metrics say what was lost, for whoever looks first.
    const lostLines = hubs.flatMap((h) =>
      h.logs.entries.filter(
        (l) => l.message === 'the store no longer had events head office lost: they are unrecoverable',
      ),
    );
    expect(lostLines).toEqual([
      expect.objectContaining({
        storeId: STORE,
        epoch: EPOCH,
        unrecoverableFrom: 11,
        unrecoverableTo: 14,
        count: 4,
      }),
    ]);
    const totals = await Promise.all(hubs.map((h) => h.hub.metric('outpost_hub_unrecoverable_seqs_total')));
    expect(totals.reduce((n, v) => (n ?? 0) + (v ?? 0), 0)).toBe(4);
    for (const h of hubs)
      expect(await h.hub.metric('outpost_hub_store_unrecoverable_seqs', `{store="${STORE}"}`)).toBe(4);
    const commands = await Promise.all(
      hubs.map((h) => h.hub.metric('outpost_hub_resend_commands_total', '{ask="first"}')),
    );
    expect(commands.reduce((n, v) => (n ?? 0) + (v ?? 0), 0)).toBe(1);

    // The re-sent close is judged again: the day now names exactly what was lost.
    const verdict = await store.waitForVerdict('T1', DAY, (d) => d.state === 'mismatch');
    expect(verdict.differences.missing).toEqual([11, 12, 13, 14].map((n) => txId('T1', n)));
  });

  it('asks again after the bound when the store does not answer, and once it does, stores what it re-sent', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const db = await hubDatabase('sqlite');
    // A store that sold before the hub's (restored, empty) database knew it.
    const store = await StoreSimulator.connect(broker.url, STORE, EPOCH);
    cleanups.push(() => store.close());
    for (let n = 1; n <= 5; n++) store.capture('sale', tillSale('T1', n));
    for (const e of store.events.values()) e.acked = true;
    store.ignoreCommands = true;
    await store.publishStatus();

    const hub = await startTestHub({
      dbUrl: db.url,
      mqttUrl: broker.url,
      config: { resync: { reaskAfterMs: 1_000, sweepEveryMs: 100 } },
    });
    cleanups.push(() => hub.hub.stop());
    const first = await waitUntil('a resend command', () => store.commands[0]);
    expect(first).toMatchObject({ kind: 'resend', epoch: EPOCH, fromSeq: 1 });
    store.ignoreCommands = false;
    const again = await waitUntil('the command again', () => store.commands[1], { timeoutMs: 10_000 });
    expect(again).toMatchObject({ requestId: first.requestId, fromSeq: 1 });
    const stream = await waitUntil('the events back', async () => {
      const e = await epochOf(hub);
      return e?.contiguousThrough === 5 && e.resend?.answeredAt ? e : undefined;
    });
    expect(stream).toMatchObject({ stored: 5, unrecoverable: [], resend: { asks: 2, availableFrom: 1 } });
    expect(await hub.metric('outpost_hub_resend_commands_total', '{ask="again"}')).toBeGreaterThanOrEqual(1);
  });
});
