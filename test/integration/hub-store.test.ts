import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { hubMigrations } from '../../src/hub/hub-migrations.js';
import type { HubStore, IncomingEvent, InsertOutcome } from '../../src/hub/hub-store.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import { canonicalHash } from '../../src/lib/canonical-hash.js';
import { sale } from '../support/pos-payloads.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { makeTempDir } from '../support/temp-dir.js';

/** An empty hub database of one kind; `open` connects a store to it, as a (re)starting hub would. */
interface TestDatabase {
  open(): Promise<HubStore>;
  /** Records a schema version, as a newer Outpost would have left the database. */
  setSchemaVersion(version: number): Promise<void>;
  drop(): Promise<void>;
}

const sqliteDatabase = async (): Promise<TestDatabase> => {
  const file = path.join(makeTempDir('hub-store'), 'hub.db');
  return {
    open: async () => new SqliteHubStore(file),
    setSchemaVersion: async (version) => {
      const db = new Database(file);
      db.pragma(`user_version = ${version}`);
      db.close();
    },
    drop: async () => {},
  };
};

const postgresDatabase = async (): Promise<TestDatabase> => {
  const database = await createTempPostgresDatabase();
  return {
    open: () => PostgresHubStore.open(database.url),
    setSchemaVersion: async (version) => {
      const client = new pg.Client(database.url);
      await client.connect();
      try {
        await client.query('INSERT INTO hub_schema_migrations (version, applied_at) VALUES ($1, now())', [
          version,
        ]);
      } finally {
        await client.end();
      }
    },
    drop: database.drop,
  };
};

const STORE = 'store-0042';
const EPOCH_A = '0a0a0a0a0a0a0a0a';
const EPOCH_B = '0b0b0b0b0b0b0b0b';
const AT = Date.parse('2026-11-23T12:00:00Z');

const eventIdOf = (seq: number, prefix = 'EV') => `01${prefix}${String(seq).padStart(20, '0')}`;

/**
 * An event as parse-event-batch.ts hands it to the store. Validation happened before, so the body
 * is any JSON and `invalidReason` says whether the hub refuses it.
 */
function incoming(
  seq: number,
  options: { body?: Record<string, unknown>; eventId?: string; invalidReason?: string } = {},
): IncomingEvent {
  const body = options.body ?? sale({}, seq);
  const text = (name: string) => {
    const value = body[name];
    return typeof value === 'string' ? value : null;
  };
  return {
    seq,
    eventId: options.eventId ?? eventIdOf(seq),
    type: text('type') ?? 'sale',
    capturedAt: '2026-11-23T10:15:01+01:00',
    terminalId: text('terminalId'),
    transactionId: text('transactionId'),
    businessDay: text('businessDay'),
    bodyText: JSON.stringify(body),
    bodyHash: canonicalHash(body),
    invalidReason: options.invalidReason,
  };
}

const seqs = (from: number, to: number, make: (seq: number) => IncomingEvent = (seq) => incoming(seq)) =>
  Array.from({ length: to - from + 1 }, (_, i) => make(from + i));

const seqRange = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const nothingNew = (ackedThrough: number): InsertOutcome => ({
  ackedThrough,
  highestSeq: ackedThrough,
  rejected: [],
  conflicts: [],
  stored: 0,
  duplicates: 0,
});

/** Closes every store and drops every database a test opened, stores first. */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function track(created: Promise<TestDatabase>) {
  const database = await created;
  cleanups.push(() => database.drop());
  const open = async () => {
    const store = await database.open();
    cleanups.push(() => store.close());
    return store;
  };
  return { database, open };
}

describe.each([
  ['sqlite', sqliteDatabase],
  ['postgres', postgresDatabase],
] as const)('%s hub store', (_kind, createDatabase) => {
  async function freshStore() {
    const { database, open } = await track(createDatabase());
    return { database, open, store: await open() };
  }

  it('stores a batch and acknowledges the contiguous seqs', async () => {
    const { store } = await freshStore();
    const outcome = await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 5), AT);
    expect(outcome).toEqual({
      ackedThrough: 5,
      highestSeq: 5,
      rejected: [],
      conflicts: [],
      stored: 5,
      duplicates: 0,
    });

    const { epoch, events } = await store.listTransactions(STORE, { limit: 100 });
    expect(epoch).toBe(EPOCH_A);
    expect(events.map((e) => [e.seq, e.status])).toEqual(seqRange(1, 5).map((seq) => [seq, 'stored']));
    expect(events[0]).toEqual({
      storeId: STORE,
      epoch: EPOCH_A,
      seq: 1,
      eventId: eventIdOf(1),
      type: 'sale',
      status: 'stored',
      reason: null,
      terminalId: 'T1',
      transactionId: 'sale-1',
      businessDay: '2026-11-23',
      capturedAt: '2026-11-23T10:15:01+01:00',
      receivedAt: new Date(AT).toISOString(),
      body: sale({}, 1),
    });
    expect(await store.counts()).toEqual({ stored: 5, rejected: 0, duplicates: 0, quarantined: 0 });
  });

  it('acknowledges a redelivered batch again and changes nothing', async () => {
    const { store } = await freshStore();
    await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 5), AT);
    const before = await store.listTransactions(STORE, { limit: 100 });

    expect(await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 5), AT + 1000)).toEqual(nothingNew(5));
    expect(await store.listTransactions(STORE, { limit: 100 })).toEqual(before);
    expect(await store.counts()).toEqual({ stored: 5, rejected: 0, duplicates: 0, quarantined: 0 });
  });

  it('holds out-of-order batches, reports the gap and acknowledges once it is filled', async () => {
    const { store } = await freshStore();
    expect(await store.insertEventsOnce(STORE, EPOCH_A, seqs(6, 10), AT)).toMatchObject({
      ackedThrough: 0,
      highestSeq: 10,
      stored: 5,
    });
    const [summary] = await store.listStores();
    expect(summary).toMatchObject({ storeId: STORE, currentEpoch: EPOCH_A, quarantined: 0 });
    expect(summary!.epochs).toEqual([
      {
        epoch: EPOCH_A,
        firstSeen: new Date(AT).toISOString(),
        lastSeen: new Date(AT).toISOString(),
        lastSeq: 10,
        contiguousThrough: 0,
        gaps: [{ from: 1, to: 5 }],
        stored: 5,
        rejected: 0,
        duplicates: 0,
      },
    ]);

    expect(await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 5), AT + 1000)).toMatchObject({
      ackedThrough: 10,
      highestSeq: 10,
      stored: 5,
    });
    const [after] = await store.listStores();
    expect(after!.epochs[0]).toMatchObject({ contiguousThrough: 10, lastSeq: 10, gaps: [], stored: 10 });
  });

  it('quarantines a different body under a held seq, keeps the original and reports the conflict', async () => {
    const { store } = await freshStore();
    await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 3), AT);
    const imposter = sale({ operatorId: 'op-9', transactionId: 'clone-2' }, 2);
    const clash = incoming(2, { body: imposter, eventId: eventIdOf(2, 'CL') });

    const outcome = await store.insertEventsOnce(STORE, EPOCH_A, [clash], AT + 1000);
    expect(outcome).toEqual({
      ackedThrough: 3,
      highestSeq: 3,
      rejected: [],
      conflicts: [{ seq: 2, reason: expect.stringContaining('seq 2') as string }],
      stored: 0,
      duplicates: 0,
    });
    const { events } = await store.listTransactions(STORE, { limit: 100 });
    expect(events[1]).toMatchObject({ seq: 2, eventId: eventIdOf(2), status: 'stored', body: sale({}, 2) });
    const quarantine = await store.listQuarantine(STORE, 10);
    expect(quarantine).toEqual([
      {
        storeId: STORE,
        epoch: EPOCH_A,
        seq: 2,
        eventId: eventIdOf(2, 'CL'),
        reason: outcome.conflicts[0]!.reason,
        receivedAt: new Date(AT + 1000).toISOString(),
        body: imposter,
      },
    ]);

    // The clone retransmits before it hears back: told again, but it is one incident, not two.
    expect((await store.insertEventsOnce(STORE, EPOCH_A, [clash], AT + 2000)).conflicts).toEqual(
      outcome.conflicts,
    );
    expect(await store.listQuarantine(STORE, 10)).toEqual(quarantine);
    expect(await store.counts()).toEqual({ stored: 3, rejected: 0, duplicates: 0, quarantined: 1 });
    expect((await store.listStores())[0]!.quarantined).toBe(1);
  });

  it('keeps an invalid event as rejected, counts it toward contiguity and reports it on every redelivery', async () => {
    const { store } = await freshStore();
    const reason = 'invalid transaction: totals.total: does not add up';
    const batch = seqs(1, 3, (seq) =>
      seq === 2 ? incoming(2, { body: { nonsense: true }, invalidReason: reason }) : incoming(seq),
    );

    expect(await store.insertEventsOnce(STORE, EPOCH_A, batch, AT)).toEqual({
      ackedThrough: 3,
      highestSeq: 3,
      rejected: [{ seq: 2, reason }],
      conflicts: [],
      stored: 2,
      duplicates: 0,
    });
    expect(await store.insertEventsOnce(STORE, EPOCH_A, batch, AT + 1000)).toEqual({
      ...nothingNew(3),
      rejected: [{ seq: 2, reason }],
    });
    const { events } = await store.listTransactions(STORE, { limit: 100 });
    expect(events[1]).toMatchObject({
      seq: 2,
      status: 'rejected',
      reason,
      terminalId: null,
      transactionId: null,
      businessDay: null,
      body: { nonsense: true },
    });
    expect(await store.counts()).toEqual({ stored: 2, rejected: 1, duplicates: 0, quarantined: 0 });
  });

  it('stores an event once across epochs: the same eventId under another epoch is a duplicate', async () => {
    const { store } = await freshStore();
    await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 3), AT);

    expect(await store.insertEventsOnce(STORE, EPOCH_B, seqs(1, 3), AT + 1000)).toEqual({
      ...nothingNew(3),
      duplicates: 3,
    });
    const { events } = await store.listTransactions(STORE, { epoch: EPOCH_B, limit: 100 });
    expect(events.map((e) => e.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(events[0]!.reason).toContain(`epoch ${EPOCH_A} seq 1`);
    expect(await store.counts()).toEqual({ stored: 3, rejected: 0, duplicates: 3, quarantined: 0 });
    const epochs = (await store.listStores())[0]!.epochs;
    expect(epochs.map((e) => [e.epoch, e.contiguousThrough, e.stored, e.duplicates])).toEqual([
      [EPOCH_A, 3, 3, 0],
      [EPOCH_B, 3, 0, 3],
    ]);
  });

  it('keeps a POS transaction re-sent under another seq as a duplicate, or quarantines it if its body differs', async () => {
    const { store } = await freshStore();
    await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 2), AT);
    const altered = sale({ operatorId: 'op-9' }, 2);
    const outcome = await store.insertEventsOnce(
      STORE,
      EPOCH_A,
      [
        incoming(3, { body: sale({}, 1), eventId: eventIdOf(3, 'RS') }),
        incoming(4, { body: altered, eventId: eventIdOf(4, 'RS') }),
      ],
      AT + 1000,
    );
    expect(outcome).toEqual({ ...nothingNew(4), duplicates: 1 });

    const { events } = await store.listTransactions(STORE, { after: 2, limit: 100 });
    expect(events.map((e) => [e.seq, e.status])).toEqual([
      [3, 'duplicate'],
      [4, 'quarantined'],
    ]);
    expect(events[1]!.reason).toContain('different body');
    expect(await store.listQuarantine(STORE, 10)).toMatchObject([{ seq: 4, body: altered }]);
    expect(await store.counts()).toEqual({ stored: 2, rejected: 0, duplicates: 1, quarantined: 1 });
  });

  it("lists transactions of the store's current epoch unless told otherwise, in pages", async () => {
    const { store } = await freshStore();
    expect(await store.listTransactions(STORE, { limit: 10 })).toEqual({ epoch: null, events: [] });
    await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 10), AT);
    await store.insertEventsOnce(
      STORE,
      EPOCH_B,
      seqs(1, 2, (seq) => incoming(seq, { body: sale({}, 100 + seq), eventId: eventIdOf(seq, 'EB') })),
      AT + 1000,
    );

    const page = await store.listTransactions(STORE, { after: 3, limit: 4 });
    expect(page.epoch).toBe(EPOCH_A);
    expect(page.events.map((e) => e.seq)).toEqual([4, 5, 6, 7]);
    expect((await store.listTransactions(STORE, { after: 7, limit: 4 })).events.map((e) => e.seq)).toEqual([
      8, 9, 10,
    ]);
    const other = await store.listTransactions(STORE, { epoch: EPOCH_B, limit: 10 });
    expect(other.events.map((e) => [e.epoch, e.seq])).toEqual([
      [EPOCH_B, 1],
      [EPOCH_B, 2],
    ]);

    // The agent announces its new epoch in its status: that becomes the default.
    await store.recordStoreStatus(STORE, { v: 1, state: 'online', epoch: EPOCH_B }, AT + 2000);
    expect((await store.listTransactions(STORE, { limit: 10 })).epoch).toBe(EPOCH_B);
  });

  it('exports the stored transactions of one business day, across epochs, in capture order', async () => {
    const { store } = await freshStore();
    const nextDay = (seq: number) => sale({ businessDay: '2026-11-24' }, seq);
    await store.insertEventsOnce(
      STORE,
      EPOCH_A,
      [
        incoming(1),
        incoming(2, { body: nextDay(2) }),
        incoming(3, {
          body: { businessDay: '2026-11-23' },
          invalidReason: 'invalid transaction: v: required',
        }),
        incoming(4),
      ],
      AT,
    );
    await store.insertEventsOnce(
      STORE,
      EPOCH_B,
      [
        incoming(1, { body: sale({}, 11), eventId: eventIdOf(11) }),
        // Re-sent under the new epoch: a duplicate, which the export must not repeat.
        incoming(2, { body: sale({}, 4), eventId: eventIdOf(4) }),
        incoming(3, { body: nextDay(13), eventId: eventIdOf(13) }),
      ],
      AT + 1000,
    );

    const day = await store.exportDay(STORE, '2026-11-23');
    expect(day.map((e) => [e.epoch, e.seq, e.transactionId])).toEqual([
      [EPOCH_A, 1, 'sale-1'],
      [EPOCH_A, 4, 'sale-4'],
      [EPOCH_B, 1, 'sale-11'],
    ]);
    expect(day.every((e) => e.status === 'stored' && e.businessDay === '2026-11-23')).toBe(true);
    expect((await store.exportDay(STORE, '2026-11-24')).map((e) => e.transactionId)).toEqual([
      'sale-2',
      'sale-13',
    ]);
    expect(await store.exportDay(STORE, '2026-11-25')).toEqual([]);
    expect(await store.exportDay('store-other', '2026-11-23')).toEqual([]);
  });

  it("reflects the agent's status reports: online, offline, backlog, epoch and version", async () => {
    const { store } = await freshStore();
    await store.recordStoreStatus(
      STORE,
      { v: 1, state: 'online', epoch: EPOCH_B, backlog: 12, version: '0.1.0' },
      AT,
    );
    expect(await store.listStores()).toEqual([
      {
        storeId: STORE,
        currentEpoch: EPOCH_B,
        online: true,
        lastSeen: new Date(AT).toISOString(),
        reportedBacklog: 12,
        agentVersion: '0.1.0',
        quarantined: 0,
        epochs: [],
      },
    ]);

    // The broker's last will carries no epoch or backlog: what the agent said last still stands.
    await store.recordStoreStatus(STORE, { v: 1, state: 'offline' }, AT + 5000);
    expect((await store.listStores())[0]).toMatchObject({
      online: false,
      currentEpoch: EPOCH_B,
      reportedBacklog: 12,
      agentVersion: '0.1.0',
      lastSeen: new Date(AT + 5000).toISOString(),
    });

    await store.insertEventsOnce(STORE, EPOCH_B, seqs(1, 2), AT + 6000);
    await store.recordStoreStatus(STORE, { v: 1, state: 'online', backlog: 0 }, AT + 7000);
    expect((await store.listStores())[0]).toMatchObject({
      online: true,
      currentEpoch: EPOCH_B,
      reportedBacklog: 0,
      epochs: [{ epoch: EPOCH_B, contiguousThrough: 2 }],
    });
  });

  it('migrates once: two hubs starting together and a restart keep the schema and the data', async () => {
    const { open } = await track(createDatabase());
    const [first, second] = await Promise.all([open(), open()]);
    await first.insertEventsOnce(STORE, EPOCH_A, seqs(1, 3), AT);
    expect((await second.listTransactions(STORE, { limit: 10 })).events).toHaveLength(3);
    await first.close();
    await second.close();

    const reopened = await open();
    expect((await reopened.listTransactions(STORE, { limit: 10 })).events).toHaveLength(3);
    expect(await reopened.insertEventsOnce(STORE, EPOCH_A, seqs(4, 5), AT + 1000)).toMatchObject({
      ackedThrough: 5,
      stored: 2,
    });
  });

  it('refuses to open a database written by a newer Outpost', async () => {
    const { database, store } = await freshStore();
    await store.close();
    const newer = hubMigrations.length + 1;
    await database.setSchemaVersion(newer);
    await expect(database.open()).rejects.toThrow(
      `the hub database is at schema version ${newer}, newer than this Outpost (${hubMigrations.length}); upgrade the hub`,
    );
  });
});

describe('postgres hub store shared by several hub processes', () => {
  const union = (outcomes: InsertOutcome[]) => ({
    stored: outcomes.reduce((sum, o) => sum + o.stored, 0),
    duplicates: outcomes.reduce((sum, o) => sum + o.duplicates, 0),
    ackedThrough: Math.max(...outcomes.map((o) => o.ackedThrough)),
  });

  it('stores every seq exactly once when two hubs ingest overlapping batches of one store at once', async () => {
    const { open } = await track(postgresDatabase());
    const [hubA, hubB] = await Promise.all([open(), open()]);
    // Hub A: 20 batches of 60 seqs starting every 50 (each overlaps the next by 10), in order; hub B:
    // the same shifted by 25, newest first. Every seq reaches the store two or three times at once.
    const batchesA = seqRange(0, 19).map((k) => seqs(50 * k + 1, 50 * k + 60));
    const batchesB = seqRange(0, 19)
      .map((k) => seqs(50 * k + 26, 50 * k + 85))
      .reverse();
    const last = 50 * 19 + 85;

    const outcomes = await Promise.all([
      ...batchesA.map((batch) => hubA.insertEventsOnce(STORE, EPOCH_A, batch, AT)),
      ...batchesB.map((batch) => hubB.insertEventsOnce(STORE, EPOCH_A, batch, AT)),
    ]);

    expect(union(outcomes)).toEqual({ stored: last, duplicates: 0, ackedThrough: last });
    const { events } = await hubA.listTransactions(STORE, { limit: 10_000 });
    expect(events.map((e) => e.seq)).toEqual(seqRange(1, last));
    expect(events.every((e) => e.status === 'stored')).toBe(true);
    expect(await hubB.counts()).toEqual({ stored: last, rejected: 0, duplicates: 0, quarantined: 0 });
    expect((await hubB.listStores())[0]!.epochs[0]).toMatchObject({
      contiguousThrough: last,
      lastSeq: last,
      gaps: [],
    });
  });

  it('stores an event once when two hubs ingest it under two epochs of one store at once', async () => {
    const { open } = await track(postgresDatabase());
    const [hubA, hubB] = await Promise.all([open(), open()]);
    // A re-installed store re-sends what its former self sent: same eventIds, new epoch. The epochs'
    // stream locks differ, so only the eventId index stands between the two hubs.
    const batches = seqRange(0, 9).map((k) => seqs(50 * k + 1, 50 * k + 50));

    const outcomes = await Promise.all(
      batches.flatMap((batch) => [
        hubA.insertEventsOnce(STORE, EPOCH_A, batch, AT),
        hubB.insertEventsOnce(STORE, EPOCH_B, batch, AT),
      ]),
    );

    expect(union(outcomes)).toEqual({ stored: 500, duplicates: 500, ackedThrough: 500 });
    expect(await hubA.counts()).toEqual({ stored: 500, rejected: 0, duplicates: 500, quarantined: 0 });
    const epochs = (await hubB.listStores())[0]!.epochs;
    expect(epochs.map((e) => [e.contiguousThrough, e.stored + e.duplicates])).toEqual([
      [500, 500],
      [500, 500],
    ]);
  });
});
