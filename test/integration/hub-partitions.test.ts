import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { hubMigrations } from '../../src/hub/hub-migrations.js';
import type { IncomingEvent } from '../../src/hub/hub-store.js';
import { parseStoreMessage } from '../../src/hub/parse-event-batch.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { tillClose, tillSale, txId } from '../support/day-close-fixtures.js';
import { createTempPostgresDatabase, type TempPostgresDatabase } from '../support/postgres.js';

/**
 * PostgreSQL's month partitions of hub_events (hub-migrations.ts, migration 6; postgres-partitions.ts):
 * a database of the previous schema converted with every row kept, the coming months made ahead, and
 * retention dropping a month only when nothing needs it.
 */

const STORE = 'S-PART';
const EPOCH = 'a1a1a1a1a1a1a1a1';
const NEXT = 'b2b2b2b2b2b2b2b2';
const AT = Date.parse('2026-11-23T12:00:00Z');
const eventId = (seq: number, prefix = 'PA') => `01${prefix}${String(seq).padStart(20, '0')}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<
  TempPostgresDatabase & { sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]> }
> {
  const db = await createTempPostgresDatabase();
  cleanups.push(() => db.drop());
  const sql = async <T>(text: string, values: unknown[] = []) => {
    const client = new pg.Client(db.url);
    await client.connect();
    try {
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.end();
    }
  };
  return { ...db, sql };
}

async function open(url: string): Promise<PostgresHubStore> {
  const store = await PostgresHubStore.open(url);
  cleanups.push(() => store.close());
  return store;
}

/** Events as the hub's parser judges them from a store's batch (the real path). */
function events(
  bodies: { type: string; body: unknown; seq: number; id?: string; text?: string }[],
): IncomingEvent[] {
  const parsed = parseStoreMessage(
    STORE,
    Buffer.from(
      JSON.stringify({
        v: 1,
        storeId: STORE,
        epoch: EPOCH,
        events: bodies.map((b) => ({
          seq: b.seq,
          eventId: b.id ?? eventId(b.seq),
          type: b.type,
          capturedAt: '2026-11-23T10:00:00.000Z',
          body: b.text ?? JSON.stringify(b.body),
        })),
      }),
    ),
  );
  if (!parsed.ok || parsed.kind !== 'batch') throw new Error(JSON.stringify(parsed));
  return parsed.events;
}

const sales = (terminalId: string, from: number, to: number, businessDay: string, firstSeq = from) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    type: 'sale',
    seq: firstSeq + i,
    body: tillSale(terminalId, from + i, businessDay),
  }));

describe('postgres hub events partitioned by month', () => {
  it('converts a database of the previous schema: every row kept, each filed under its month, earlier copies still found', async () => {
    const db = await database();
    for (const m of hubMigrations.slice(0, 5)) await db.sql(m.postgres);
    await db.sql(
      'CREATE TABLE hub_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
    );
    await db.sql('INSERT INTO hub_schema_migrations SELECT v, now() FROM generate_series(1, 5) v');
    const september = JSON.stringify(tillSale('T1', 1, '2026-09-30'));
    const october = JSON.stringify(tillSale('T1', 2, '2026-10-01'));
    await db.sql(
      `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ($1, $2, $3, 0);
       INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq, stored, rejected, moved)
         VALUES ($1, $2, $3, $3, 4, 4, 2, 1, 1)`
        .replaceAll('$1', `'${STORE}'`)
        .replaceAll('$2', `'${EPOCH}'`)
        .replaceAll('$3', String(AT)),
    );
    await db.sql(
      `INSERT INTO hub_events (store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
          business_day, captured_at, received_at, body_hash, body, moved_to_epoch, moved_to_seq) VALUES
        ($1, $2, 1, $3, 'sale', 'stored', NULL, 'T1', $4, '2026-09-30', '2026-10-01T01:00:00+02:00', $5, 'h1', $6, NULL, NULL),
        ($1, $2, 2, $7, 'sale', 'stored', NULL, 'T1', $8, '2026-10-01', '2026-10-01T09:00:00+02:00', $5, 'h2', $9, NULL, NULL),
        ($1, $2, 3, $10, 'sale', 'rejected', 'bad', 'T1', 'x', 'not-a-day', '2026-08-15T10:00:00Z', $5, 'h3', '{}', NULL, NULL),
        ($1, $2, 4, $11, NULL, 'moved', 'moved to seq 1', NULL, NULL, NULL, NULL, $5, NULL, NULL, $12, 1)`,
      [
        STORE,
        EPOCH,
        eventId(1),
        txId('T1', 1),
        AT,
        september,
        eventId(2),
        txId('T1', 2),
        october,
        eventId(3),
        eventId(4),
        NEXT,
      ],
    );

    const store = await open(db.url);
    const filed = await db.sql<{ seq: string; partition: string; filed_on: string }>(
      `SELECT seq, tableoid::regclass::text AS partition, to_char(filed_on, 'YYYY-MM-DD') AS filed_on
       FROM hub_events ORDER BY seq`,
    );
    // Stored sales under their business day; a refused one under its capture day; a moved row under the
    // day the close was received.
    expect(filed).toEqual([
      { seq: '1', partition: 'hub_events_2026_09', filed_on: '2026-09-30' },
      { seq: '2', partition: 'hub_events_2026_10', filed_on: '2026-10-01' },
      { seq: '3', partition: 'hub_events_2026_08', filed_on: '2026-08-15' },
      { seq: '4', partition: 'hub_events_2026_11', filed_on: '2026-11-23' },
    ]);
    const { events: listed } = await store.listTransactions(STORE, { limit: 10 });
    expect(listed.map((e) => [e.seq, e.status, e.bodyJson])).toEqual([
      [1, 'stored', september],
      [2, 'stored', october],
      [3, 'rejected', '{}'],
      [4, 'moved', null],
    ]);
    expect((await store.exportDay(STORE, '2026-09-30')).map((e) => e.seq)).toEqual([1]);
    // The same September sale again under another epoch is found in September's partition: a duplicate.
    const again = events([{ type: 'sale', seq: 1, id: eventId(1), body: JSON.parse(september) }]);
    const outcome = await store.insertEventsOnce(STORE, NEXT, again, AT + 1000);
    expect(outcome).toMatchObject({ stored: 0, duplicates: 1 });
  });

  it('finds earlier copies of a batch whose sales span two months, each in its own month', async () => {
    const db = await database();
    const store = await open(db.url);
    await store.maintain({ now: Date.parse('2026-10-15T00:00:00Z'), retentionMonths: null });
    const october = { type: 'sale', seq: 1, body: tillSale('T1', 1, '2026-10-31') };
    const november = { type: 'sale', seq: 2, body: tillSale('T1', 2, '2026-11-01') };
    expect(await store.insertEventsOnce(STORE, EPOCH, events([october, november]), AT)).toMatchObject({
      stored: 2,
    });
    // Re-sent under the next epoch (same events), with a third sale reusing October's transaction id.
    const altered = {
      type: 'sale',
      seq: 3,
      id: eventId(3, 'ALT'),
      body: { ...tillSale('T1', 1, '2026-10-31'), operatorId: 'op-9' },
    };
    const outcome = await store.insertEventsOnce(STORE, NEXT, events([october, november, altered]), AT);
    expect(outcome).toMatchObject({ stored: 0, duplicates: 2 });
    expect(outcome.quarantined).toEqual([
      { seq: 3, reason: expect.stringContaining('different body') as string, alreadyHeld: false },
    ]);
  });

  it('makes the coming months ahead of their rows, moving into a new month what the default partition caught', async () => {
    const db = await database();
    const store = await open(db.url);
    const now = Date.now();
    const month = (ahead: number) => {
      const d = new Date(now);
      d.setUTCDate(1);
      d.setUTCMonth(d.getUTCMonth() + ahead);
      return d.toISOString().slice(0, 10);
    };
    // A till whose clock runs three months ahead: no partition yet, the default one takes the sale.
    const early = month(3).replace(/-01$/, '-15');
    await store.insertEventsOnce(STORE, EPOCH, events(sales('T9', 1, 1, early)), now);
    const inDefault = async () =>
      (await db.sql<{ n: string }>('SELECT count(*) AS n FROM hub_events_default'))[0]!.n;
    expect(await inDefault()).toBe('1');

    const report = await store.maintain({ now: Date.parse(`${month(1)}T00:00:00Z`), retentionMonths: null });
    expect(report).toMatchObject({
      created: [month(2), month(3)],
      movedFromDefault: 1,
      dropped: [],
      failed: [],
    });
    expect(await inDefault()).toBe('0');
    expect((await store.exportDay(STORE, early)).map((e) => e.transactionId)).toEqual([txId('T9', 1)]);
    // A second pass finds every month there.
    expect(
      (await store.maintain({ now: Date.parse(`${month(1)}T00:00:00Z`), retentionMonths: null })).created,
    ).toEqual([]);
  });

  it('drops a month past retention only once every till-day of it is confirmed and no epoch needs its rows', async () => {
    const db = await database();
    const store = await open(db.url);
    const old = '2025-03';
    await store.maintain({ now: Date.parse(`${old}-10T00:00:00Z`), retentionMonths: null });
    const day = `${old}-10`;
    // Four sales of an old day at seqs 1–3 and 5: seq 4 has not arrived, a gap.
    await store.insertEventsOnce(STORE, EPOCH, events(sales('T1', 1, 3, day)), AT);
    await store.insertEventsOnce(STORE, EPOCH, events(sales('T1', 4, 4, day, 5)), AT);
    const retention = { now: AT, retentionMonths: 2 };

    const notClosed = await store.maintain(retention);
    // The months made ahead back then hold nothing: they go; the day's month stays, its till not closed.
    expect(notClosed.dropped).toEqual(['2025-04-01', '2025-05-01']);
    expect(notClosed.kept).toEqual([
      { month: `${old}-01`, reason: expect.stringContaining(`${STORE} ${day} T1 not-closed`) as string },
    ]);

    // The till closes its day with its four sales: confirmed, but seqs 5 and 6 still wait above the gap.
    const close = { type: 'day-close', seq: 6, body: tillClose('T1', { sales: 4, businessDay: day }) };
    await store.insertEventsOnce(STORE, EPOCH, events([close]), AT);
    expect((await store.storeDay(STORE, day)).tills[0]!.state).toBe('confirmed');
    const gap = await store.maintain(retention);
    expect(gap.dropped).toEqual([]);
    expect(gap.kept).toEqual([
      {
        month: `${old}-01`,
        reason: expect.stringContaining(`${STORE} epoch ${EPOCH} (contiguous through 3)`) as string,
      },
    ]);

    // Seq 4 arrives (an event the hub refuses, filed elsewhere): nothing needs the old month any more.
    await store.insertEventsOnce(
      STORE,
      EPOCH,
      events([{ type: 'sale', seq: 4, body: null, text: '{}' }]),
      AT,
    );
    const dropped = await store.maintain(retention);
    expect(dropped).toMatchObject({ dropped: [`${old}-01`], kept: [], failed: [] });
    expect(await store.exportDay(STORE, day)).toEqual([]);
    expect((await store.listStores(STORE))[0]!.epochs[0]).toMatchObject({
      contiguousThrough: 6,
      stored: 5,
      rejected: 1,
    });
    expect((await store.storeDay(STORE, day)).tills[0]!.state).toBe('confirmed');
    // A copy of a dropped sale at its old seq can no longer be compared: refused, never stored twice.
    const late = await store.insertEventsOnce(STORE, EPOCH, events(sales('T1', 2, 2, day)), AT + 1000);
    expect(late).toMatchObject({
      stored: 0,
      conflicts: [{ seq: 2, reason: expect.stringContaining('retention') as string }],
    });
    expect((await store.counts()).stored).toBe(5);
  });
});
