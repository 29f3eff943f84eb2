import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { DayClose } from '../../src/contracts/day-close.js';
import { hubMigrations } from '../../src/hub/hub-migrations.js';
import type { HubStore, IncomingEvent } from '../../src/hub/hub-store.js';
import { parseStoreMessage } from '../../src/hub/parse-event-batch.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import { DAY, SALE_TOTAL, tillClose, tillSale, txId } from '../support/day-close-fixtures.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The business-day and resync parts of the hub store, run against both databases (the shared store
 * suite's way: one describe.each over SQLite and PostgreSQL, each test on an empty database).
 */

interface TestDatabase {
  open(): Promise<HubStore>;
  /** Brings an empty database to a schema version by the released migrations, as an older Outpost left it. */
  migrateTo(version: number): Promise<void>;
  exec(sql: string): Promise<void>;
  drop(): Promise<void>;
}

const sqliteDatabase = async (): Promise<TestDatabase> => {
  const file = path.join(makeTempDir('hub-days'), 'hub.db');
  const exec = async (sql: string) => {
    const db = new Database(file);
    db.exec(sql);
    db.close();
  };
  return {
    open: async () => new SqliteHubStore(file),
    exec,
    migrateTo: async (version) => {
      for (const m of hubMigrations.slice(0, version)) await exec(m.sqlite);
      await exec(`PRAGMA user_version = ${version}`);
    },
    drop: async () => {},
  };
};

const postgresDatabase = async (): Promise<TestDatabase> => {
  const database = await createTempPostgresDatabase();
  const exec = async (sql: string) => {
    const client = new pg.Client(database.url);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    open: () => PostgresHubStore.open(database.url),
    exec,
    migrateTo: async (version) => {
      await exec(
        'CREATE TABLE hub_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
      );
      for (const [i, m] of hubMigrations.slice(0, version).entries()) {
        await exec(m.postgres);
        await exec(`INSERT INTO hub_schema_migrations VALUES (${i + 1}, now())`);
      }
    },
    drop: database.drop,
  };
};

const STORE = 'S-DAYS';
const E = 'da1da1da1da1da1d';
const F = 'fa2fa2fa2fa2fa2f';
const G = '9a3a9a3a9a3a9a3a';
const AT = Date.parse('2026-11-24T01:00:00Z');

/** Event ids are unique across stores and epochs (the hub counts a repeated one as a duplicate). */
const idOf = (epoch: string, seq: number, storeId = STORE) =>
  `01${storeId.replace(/[^A-Z]/g, '')}${epoch.slice(0, 6).toUpperCase()}${String(seq).padStart(12, '0')}`;

type Body = Record<string, unknown> | DayClose;

/** Events exactly as ingest hands them to the store: each body judged by parse-event-batch.ts. */
function batch(epoch: string, firstSeq: number, bodies: readonly Body[], storeId = STORE): IncomingEvent[] {
  const message = {
    v: 1,
    storeId,
    epoch,
    events: bodies.map((body, i) => ({
      seq: firstSeq + i,
      eventId: idOf(epoch, firstSeq + i, storeId),
      type: (body as { type: string }).type,
      capturedAt: '2026-11-23T21:00:00.000Z',
      body: JSON.stringify(body),
    })),
  };
  const parsed = parseStoreMessage(storeId, Buffer.from(JSON.stringify(message)));
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error(`not a batch: ${JSON.stringify(parsed)}`);
  return parsed.events;
}

const sales = (terminalId: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => tillSale(terminalId, from + i));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.each([
  ['sqlite', sqliteDatabase],
  ['postgres', postgresDatabase],
] as const)('%s hub store: business days', (_kind, createDatabase) => {
  async function fresh(prepare?: (db: TestDatabase) => Promise<void>) {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    await prepare?.(database);
    const store = await database.open();
    cleanups.push(() => store.close());
    return { store, database };
  }

  it('confirms a till whose close matches what the hub holds, in the commit that stores the close', async () => {
    const { store } = await fresh();
    expect((await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 3)), AT)).days).toBeUndefined();
    const outcome = await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 4, [tillClose('T1', { sales: 3, zNumber: 'Z-17' })]),
      AT + 1,
    );
    expect(outcome).toMatchObject({ stored: 1, ackedThrough: 4 });
    expect(outcome.days).toEqual([
      {
        terminalId: 'T1',
        businessDay: DAY,
        state: 'confirmed',
        at: new Date(AT + 1).toISOString(),
        differences: { missing: [], extra: [], totals: [] },
      },
    ]);

    const day = await store.storeDay(STORE, DAY);
    expect(day.tills).toHaveLength(1);
    expect(day.tills[0]).toMatchObject({
      terminalId: 'T1',
      state: 'confirmed',
      headOffice: [{ type: 'sale', currency: 'EUR', count: 3, amount: 3 * SALE_TOTAL }],
      close: { epoch: E, seq: 4, eventId: idOf(E, 4) },
      judgedAt: new Date(AT + 1).toISOString(),
    });
    // The close is kept as sent, filed under its till and day, and never exported as a transaction.
    expect(JSON.parse(day.tills[0]!.close!.bodyJson)).toMatchObject({ zNumber: 'Z-17' });
    expect((await store.exportDay(STORE, DAY)).map((e) => e.seq)).toEqual([1, 2, 3]);
    // A redelivered close changes nothing and judges nothing again.
    expect(
      (await store.insertEventsOnce(STORE, E, batch(E, 4, [tillClose('T1', { sales: 3 })]), AT + 2)).days,
    ).toBeUndefined();
  });

  it('names the till and the transaction the POS counted but never submitted', async () => {
    const { store } = await fresh();
    // T1-0002 was rung up on the till but never reached the agent.
    await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 1, [tillSale('T1', 1), tillSale('T1', 3), tillSale('T2', 1)]),
      AT,
    );
    const outcome = await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 4, [tillClose('T1', { sales: 3 }), tillClose('T2', { sales: 1 })]),
      AT + 1,
    );
    expect(outcome.days?.map((d) => [d.terminalId, d.state])).toEqual([
      ['T1', 'mismatch'],
      ['T2', 'confirmed'],
    ]);
    expect(outcome.days![0]!.differences).toEqual({
      missing: [txId('T1', 2)],
      extra: [],
      totals: [
        {
          type: 'sale',
          currency: 'EUR',
          till: { count: 3, amount: 3 * SALE_TOTAL },
          headOffice: { count: 2, amount: 2 * SALE_TOTAL },
        },
      ],
    });
    expect(await store.chainDay(DAY)).toEqual(
      expect.arrayContaining([
        { storeId: STORE, terminalId: 'T1', state: 'mismatch' },
        { storeId: STORE, terminalId: 'T2', state: 'confirmed' },
      ]),
    );
  });

  it('judges a close that came before the last sales again as they arrive, until confirmed', async () => {
    const { store } = await fresh();
    await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 2)), AT);
    const early = await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 3, [tillClose('T1', { sales: 4 })]),
      AT + 1,
    );
    expect(early.days?.[0]).toMatchObject({
      state: 'mismatch',
      differences: { missing: [txId('T1', 3), txId('T1', 4)] },
    });

    // A late sale of another day or till changes nothing of T1's verdict.
    expect(
      (await store.insertEventsOnce(STORE, E, batch(E, 4, [tillSale('T2', 1)]), AT + 2)).days,
    ).toBeUndefined();
    const third = await store.insertEventsOnce(STORE, E, batch(E, 5, [tillSale('T1', 3)]), AT + 3);
    expect(third.days?.[0]).toMatchObject({ state: 'mismatch', differences: { missing: [txId('T1', 4)] } });
    // The last one comes under a new epoch of the store (a re-installed PC): judged all the same.
    const last = await store.insertEventsOnce(STORE, F, batch(F, 1, [tillSale('T1', 4)]), AT + 4);
    expect(last.days).toEqual([
      expect.objectContaining({ terminalId: 'T1', state: 'confirmed', at: new Date(AT + 4).toISOString() }),
    ]);
    expect((await store.storeDay(STORE, DAY)).tills.map((t) => [t.terminalId, t.state])).toEqual([
      ['T1', 'confirmed'],
      ['T2', 'not-closed'],
    ]);
  });

  it('counts each transaction once: a duplicate or a quarantined copy adds nothing to the tally', async () => {
    const { store } = await fresh();
    await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 2)), AT);
    // Re-captured after a restore (same POS transaction under another seq), and a different body under an id it holds.
    const again = batch(E, 3, [tillSale('T1', 2), { ...tillSale('T1', 1), operatorId: 'op-9' }]);
    expect(await store.insertEventsOnce(STORE, E, again, AT + 1)).toMatchObject({ stored: 0, duplicates: 1 });
    const outcome = await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 5, [tillClose('T1', { sales: 2 })]),
      AT + 2,
    );
    expect(outcome.days?.[0]?.state).toBe('confirmed');
    expect((await store.storeDay(STORE, DAY)).tills[0]!.headOffice).toEqual([
      { type: 'sale', currency: 'EUR', count: 2, amount: 2 * SALE_TOTAL },
    ]);
  });

  it('lets a corrected Z-report replace the first, keeps the history, and ignores an older one arriving late', async () => {
    const { store } = await fresh();
    await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 3)), AT);
    // The first close miscounted; the correction (closed later) matches.
    const wrong = tillClose('T1', { sales: 2, closedAt: `${DAY}T22:00:00+01:00` });
    const right = tillClose('T1', { sales: 3, closedAt: `${DAY}T22:30:00+01:00`, listIds: true });
    expect((await store.insertEventsOnce(STORE, E, batch(E, 4, [wrong]), AT + 1)).days?.[0]?.state).toBe(
      'mismatch',
    );
    expect((await store.insertEventsOnce(STORE, E, batch(E, 5, [right]), AT + 2)).days?.[0]?.state).toBe(
      'confirmed',
    );
    // A copy of the first one captured again later (another seq) is history, not in force.
    const stale = { ...wrong, zNumber: 'late-copy' };
    expect((await store.insertEventsOnce(STORE, E, batch(E, 6, [stale]), AT + 3)).days).toBeUndefined();

    const till = (await store.storeDay(STORE, DAY)).tills[0]!;
    expect(till.state).toBe('confirmed');
    expect(till.close?.seq).toBe(5);
    expect(till.history.map((c) => c.seq)).toEqual([4, 5, 6]);
  });

  it('keeps verdicts unsent until marked, and hands a store its recent ones again', async () => {
    const { store } = await fresh();
    await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 1, [...sales('T1', 1, 1), tillClose('T1', { sales: 1 })]),
      AT,
    );
    await store.insertEventsOnce(STORE, E, batch(E, 3, [tillClose('T2', { sales: 1 })]), AT + 10);
    const unsent = await store.unsentDayVerdicts(AT + 11, 10);
    expect(unsent.map((v) => [v.storeId, v.result.terminalId, v.result.state])).toEqual([
      [STORE, 'T1', 'confirmed'],
      [STORE, 'T2', 'mismatch'],
    ]);
    // Judged at AT + 10: not yet due for a sweep that looks before it.
    expect((await store.unsentDayVerdicts(AT + 5, 10)).map((v) => v.result.terminalId)).toEqual(['T1']);
    await store.markDayVerdictsSent(STORE, [unsent[0]!.result], AT + 20);
    expect((await store.unsentDayVerdicts(AT + 30, 10)).map((v) => v.result.terminalId)).toEqual(['T2']);
    // A mark for an older judgement leaves a newer one unsent.
    await store.markDayVerdictsSent(
      STORE,
      [{ ...unsent[1]!.result, at: new Date(AT).toISOString() }],
      AT + 20,
    );
    expect(await store.unsentDayVerdicts(AT + 30, 10)).toHaveLength(1);

    expect((await store.recentDayVerdicts(STORE, AT + 5, 10)).map((r) => r.terminalId)).toEqual(['T2']);
    expect(await store.recentDayVerdicts('S-OTHER', 0, 10)).toEqual([]);
  });

  it('counts, per store, the days of a period that are not confirmed', async () => {
    const { store } = await fresh();
    // The till numbers its transactions on across days: T1-0001 on the 20th, T1-0002 on the 21st, …
    await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 1, [
        tillSale('T1', 1, '2026-11-20'),
        tillSale('T1', 2, '2026-11-21'),
        tillSale('T1', 3, '2026-11-22'),
      ]),
      AT,
    );
    await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 4, [
        tillClose('T1', { sales: 1, businessDay: '2026-11-20' }),
        // Claims T1-0001 too: a mismatch.
        tillClose('T1', { sales: 2, businessDay: '2026-11-21' }),
      ]),
      AT + 1,
    );
    await store.insertEventsOnce('S-CALM', E, batch(E, 1, [tillSale('T1', 1, '2026-11-21')], 'S-CALM'), AT);
    await store.insertEventsOnce(
      'S-CALM',
      E,
      batch(E, 2, [tillClose('T1', { sales: 1, businessDay: '2026-11-21' })], 'S-CALM'),
      AT,
    );
    expect(await store.unconfirmedDays('2026-11-20', '2026-11-22')).toEqual([
      { storeId: 'S-CALM', mismatched: 0, notClosed: 0 },
      { storeId: STORE, mismatched: 1, notClosed: 1 },
    ]);
    expect(await store.unconfirmedDays('2026-11-20', '2026-11-20')).toEqual([
      { storeId: STORE, mismatched: 0, notClosed: 0 },
    ]);
  });

  it("keeps what the store's status says of its unsent events and acknowledgements, through its last will", async () => {
    const { store } = await fresh();
    const online = {
      v: 1 as const,
      state: 'online' as const,
      epoch: E,
      backlog: 4,
      oldestUnsentAt: '2026-11-23T20:00:00.000Z',
      unsentByDay: [{ businessDay: DAY, count: 4 }],
      acked: [{ epoch: E, through: 12 }],
    };
    expect(await store.recordStoreStatus(STORE, online, AT)).toEqual({ cameOnline: true });
    expect(await store.recordStoreStatus(STORE, online, AT + 1)).toEqual({ cameOnline: false });
    expect(await store.recordStoreStatus(STORE, { v: 1, state: 'offline' }, AT + 2)).toEqual({
      cameOnline: false,
    });
    const [summary] = await store.listStores(STORE);
    expect(summary).toMatchObject({
      online: false,
      oldestUnsentAt: '2026-11-23T20:00:00.000Z',
      unsentByDay: [{ businessDay: DAY, count: 4 }],
      acked: [{ epoch: E, through: 12 }],
    });
    expect(await store.recordStoreStatus(STORE, { v: 1, state: 'online', backlog: 0 }, AT + 3)).toEqual({
      cameOnline: true,
    });
    expect((await store.listStores(STORE))[0]).toMatchObject({
      oldestUnsentAt: null,
      unsentByDay: null,
      acked: null,
    });
    expect(await store.listStores('S-UNKNOWN')).toEqual([]);
  });

  it('fills the day tallies from the stored sales when an older hub database is upgraded', async () => {
    const { store } = await fresh(async (db) => {
      await db.migrateTo(3);
      const row = (seq: number, body: Record<string, unknown>, status = 'stored') =>
        `('${STORE}', '${E}', ${seq}, '${idOf(E, seq)}', 'sale', '${status}', 'T1', '${String(body.transactionId)}', '${DAY}', '2026-11-23T21:00:00Z', ${AT}, 'h${seq}', '${JSON.stringify(body).replaceAll("'", "''")}')`;
      await db.exec(`
        INSERT INTO hub_events (store_id, epoch, seq, event_id, type, status, terminal_id, transaction_id, business_day,
          captured_at, received_at, body_hash, body) VALUES
          ${row(1, tillSale('T1', 1))}, ${row(2, tillSale('T1', 2))}, ${row(3, tillSale('T1', 2), 'duplicate')};
        INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
          VALUES ('${STORE}', '${E}', ${AT}, ${AT}, 3, 3);
        INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ('${STORE}', '${E}', ${AT}, 0);
      `);
    });
    expect((await store.storeDay(STORE, DAY)).tills).toEqual([
      expect.objectContaining({
        terminalId: 'T1',
        state: 'not-closed',
        headOffice: [{ type: 'sale', currency: 'EUR', count: 2, amount: 2 * SALE_TOTAL }],
      }),
    ]);
    const outcome = await store.insertEventsOnce(
      STORE,
      E,
      batch(E, 4, [tillClose('T1', { sales: 2 })]),
      AT + 1,
    );
    expect(outcome.days?.[0]?.state).toBe('confirmed');
  });
});

describe.each([
  ['sqlite', sqliteDatabase],
  ['postgres', postgresDatabase],
] as const)('%s hub store: resync', (_kind, createDatabase) => {
  async function fresh() {
    const database = await createDatabase();
    cleanups.push(() => database.drop());
    const store = await database.open();
    cleanups.push(() => store.close());
    return store;
  }
  const hub = (hubId: string, now: number, requestId = `req-${hubId}-${now}`) => ({
    hubId,
    now,
    reaskAfterMs: 60_000,
    requestId,
  });

  it('asks once per (store, epoch, fromSeq) across hubs, again only after the bound, and not once the events are back', async () => {
    const store = await fresh();
    await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 10)), AT);
    // The store says head office acknowledged through 25: seqs 11–25 are gone from this database.
    expect(await store.planResend(STORE, E, 10, hub('hub-1', AT))).toBeUndefined();
    expect(await store.planResend(STORE, E, 25, hub('hub-1', AT))).toEqual({
      requestId: `req-hub-1-${AT}`,
      fromSeq: 11,
      asks: 1,
    });
    expect(await store.planResend(STORE, E, 25, hub('hub-2', AT + 1))).toBeUndefined();
    expect(await store.planResend(STORE, E, 25, hub('hub-2', AT + 59_000))).toBeUndefined();
    // Unanswered past the bound: one hub asks again, with the same request id.
    const [first, second] = await Promise.all([
      store.planResend(STORE, E, 25, hub('hub-1', AT + 61_000)),
      store.planResend(STORE, E, 25, hub('hub-2', AT + 61_000)),
    ]);
    expect([first, second].filter(Boolean)).toEqual([{ requestId: `req-hub-1-${AT}`, fromSeq: 11, asks: 2 }]);
    // Only stores online are swept.
    expect(await store.dueResends(AT + 200_000, 10)).toEqual([]);
    await store.recordStoreStatus(STORE, { v: 1, state: 'online', acked: [{ epoch: E, through: 25 }] }, AT);
    expect(await store.dueResends(AT + 200_000, 10)).toEqual([
      { storeId: STORE, epoch: E, ackedThrough: 25 },
    ]);

    const [summary] = await store.listStores(STORE);
    expect(summary!.epochs[0]).toMatchObject({
      contiguousThrough: 10,
      unrecoverable: [],
      resend: { fromSeq: 11, ackedThrough: 25, asks: 2, answeredAt: null },
    });

    // It answers that it has them all, but what it re-sent never arrives: asked again past the bound.
    await store.recordResendReport(
      STORE,
      E,
      { requestId: `req-hub-1-${AT}`, fromSeq: 11, availableFrom: 11, through: 25 },
      AT + 62_000,
    );
    expect(await store.planResend(STORE, E, 25, hub('hub-2', AT + 100_000))).toBeUndefined();
    expect(await store.planResend(STORE, E, 25, hub('hub-2', AT + 122_000))).toEqual({
      requestId: `req-hub-1-${AT}`,
      fromSeq: 11,
      asks: 3,
    });

    // The store re-sends all of them (it answers too, but the events alone settle the request).
    await store.insertEventsOnce(STORE, E, batch(E, 11, sales('T1', 11, 25)), AT + 70_000);
    expect(await store.planResend(STORE, E, 25, hub('hub-1', AT + 300_000))).toBeUndefined();
    expect(await store.dueResends(AT + 400_000, 10)).toEqual([]);
  });

  it('records what the store no longer had as unrecoverable, not as a gap, and asks no more for it', async () => {
    const store = await fresh();
    await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 10)), AT);
    const ask = await store.planResend(STORE, E, 30, hub('hub-1', AT));
    expect(ask?.fromSeq).toBe(11);
    // It pruned 11–19; it re-sends 20–30, and says so.
    await store.insertEventsOnce(STORE, E, batch(E, 20, sales('T1', 20, 30)), AT + 1000);
    expect(
      await store.recordResendReport(
        STORE,
        E,
        { requestId: ask!.requestId, fromSeq: 11, availableFrom: 20, through: 31 },
        AT + 1001,
      ),
    ).toEqual({ unrecoverable: { from: 11, to: 19 }, asked: true });
    const [summary] = await store.listStores(STORE);
    expect(summary!.epochs[0]).toMatchObject({
      contiguousThrough: 10,
      lastSeq: 30,
      gaps: [],
      unrecoverable: [{ from: 11, to: 19 }],
      resend: {
        fromSeq: 11,
        availableFrom: 20,
        storeThrough: 31,
        answeredAt: new Date(AT + 1001).toISOString(),
      },
    });
    // The store still says 30 was acknowledged: the hub holds everything it can, and asks nothing.
    expect(await store.planResend(STORE, E, 30, hub('hub-2', AT + 500_000))).toBeUndefined();
    // Beyond it, a new loss is a new question, from the first seq after what it holds.
    expect((await store.planResend(STORE, E, 33, hub('hub-2', AT + 500_000)))?.fromSeq).toBe(31);
  });

  it('shows seqs lost above the highest one held, when the store had none of them left', async () => {
    const store = await fresh();
    await store.insertEventsOnce(STORE, E, batch(E, 1, sales('T1', 1, 5)), AT);
    await store.planResend(STORE, E, 9, hub('hub-1', AT));
    expect(
      await store.recordResendReport(
        STORE,
        E,
        { requestId: 'any', fromSeq: 6, availableFrom: 10, through: 9 },
        AT + 1,
      ),
    ).toMatchObject({ unrecoverable: { from: 6, to: 9 } });
    expect((await store.listStores(STORE))[0]!.epochs[0]).toMatchObject({
      lastSeq: 5,
      gaps: [],
      unrecoverable: [{ from: 6, to: 9 }],
    });
    // An epoch the restored hub never heard of (it began after the backup), whose events the store pruned.
    expect((await store.planResend(STORE, F, 7, hub('hub-1', AT + 3)))?.fromSeq).toBe(1);
    await store.recordResendReport(
      STORE,
      F,
      { requestId: 'r', fromSeq: 1, availableFrom: 8, through: 7 },
      AT + 4,
    );
    expect((await store.listStores(STORE))[0]!.epochs.find((e) => e.epoch === F)).toMatchObject({
      lastSeq: 0,
      unrecoverable: [{ from: 1, to: 7 }],
      resend: { fromSeq: 1, asks: 1 },
    });
    // An answer no hub of this database asked for (asked before a second restore) is recorded all the same.
    expect(
      await store.recordResendReport(
        STORE,
        G,
        { requestId: 'old', fromSeq: 1, availableFrom: 3, through: 4 },
        AT + 2,
      ),
    ).toEqual({ unrecoverable: { from: 1, to: 2 }, asked: false });
  });
});
