import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { hubMigrations } from '../../src/hub/hub-migrations.js';
import type { EpochClose } from '../../src/contracts/sync-messages.js';
import { withheldDigest } from '../../src/hub/classify-events.js';
import type { HubStore, IncomingEvent, InsertOutcome } from '../../src/hub/hub-store.js';
import { PostgresHubStore } from '../../src/hub/postgres-hub-store.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { exactSaleText } from '../support/exact-bodies.js';
import { sale } from '../support/pos-payloads.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { makeTempDir } from '../support/temp-dir.js';

/** An empty hub database of one kind; `open` connects a store to it, as a (re)starting hub would. */
interface TestDatabase {
  readonly kind: 'sqlite' | 'postgres';
  open(): Promise<HubStore>;
  /** Records a schema version, as a newer Outpost would have left the database. */
  setSchemaVersion(version: number): Promise<void>;
  /** Runs SQL on the database behind the store's back (an older Outpost, an operator). */
  exec(sql: string): Promise<void>;
  drop(): Promise<void>;
}

const sqliteDatabase = async (): Promise<TestDatabase> => {
  const file = path.join(makeTempDir('hub-store'), 'hub.db');
  return {
    kind: 'sqlite',
    open: async () => new SqliteHubStore(file),
    setSchemaVersion: async (version) => {
      const db = new Database(file);
      db.pragma(`user_version = ${version}`);
      db.close();
    },
    exec: async (sql) => {
      const db = new Database(file);
      db.exec(sql);
      db.close();
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
    kind: 'postgres',
    exec,
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
/** The epochs a closing writer moves on to. */
const EPOCH_F = '0f0f0f0f0f0f0f0f';
const EPOCH_G = '0c0c0c0c0c0c0c0c';
const AT = Date.parse('2026-11-23T12:00:00Z');

const eventIdOf = (seq: number, prefix = 'EV') => `01${prefix}${String(seq).padStart(20, '0')}`;

/**
 * An event as parse-event-batch.ts hands it to the store. Validation happened before, so the body
 * is any text (`text`, or `body` serialised) and `invalidReason` says whether the hub refuses it.
 */
function incoming(
  seq: number,
  options: { body?: Record<string, unknown>; text?: string; eventId?: string; invalidReason?: string } = {},
): IncomingEvent {
  const bodyText = options.text ?? JSON.stringify(options.body ?? sale({}, seq));
  let body: Record<string, unknown> = {};
  let bodyIsJson = true;
  try {
    body = JSON.parse(bodyText) as Record<string, unknown>;
  } catch {
    bodyIsJson = false;
  }
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
    bodyText,
    bodyIsJson,
    bodyHash: textDigest(bodyText),
    invalidReason: options.invalidReason,
  };
}

const bodyOf = (seq: number) => JSON.stringify(sale({}, seq));
const counts = (c: Partial<Awaited<ReturnType<HubStore['counts']>>>) => ({
  stored: 0,
  rejected: 0,
  duplicates: 0,
  moved: 0,
  quarantined: 0,
  ...c,
});

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
      bodyJson: bodyOf(1),
      movedTo: null,
    });
    expect(await store.counts()).toEqual(counts({ stored: 5 }));
  });

  it('acknowledges a redelivered batch again and changes nothing', async () => {
    const { store } = await freshStore();
    await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 5), AT);
    const before = await store.listTransactions(STORE, { limit: 100 });

    expect(await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 5), AT + 1000)).toEqual(nothingNew(5));
    expect(await store.listTransactions(STORE, { limit: 100 })).toEqual(before);
    expect(await store.counts()).toEqual(counts({ stored: 5 }));
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
        moved: 0,
        closed: null,
        complete: false,
        unrecoverable: [],
        resend: null,
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
      quarantined: [{ seq: 2, reason: expect.stringContaining('seq 2') as string, alreadyHeld: false }],
    });
    const { events } = await store.listTransactions(STORE, { limit: 100 });
    expect(events[1]).toMatchObject({ seq: 2, eventId: eventIdOf(2), status: 'stored', bodyJson: bodyOf(2) });
    const quarantine = await store.listQuarantine(STORE, 10);
    expect(quarantine).toEqual([
      {
        storeId: STORE,
        epoch: EPOCH_A,
        seq: 2,
        eventId: eventIdOf(2, 'CL'),
        reason: outcome.conflicts[0]!.reason,
        receivedAt: new Date(AT + 1000).toISOString(),
        bodyJson: JSON.stringify(imposter),
        movedTo: null,
      },
    ]);

    // The clone retransmits before it hears back: told again, but it is one incident, not two.
    const again = await store.insertEventsOnce(STORE, EPOCH_A, [clash], AT + 2000);
    expect(again.conflicts).toEqual(outcome.conflicts);
    expect(again.quarantined).toEqual([{ ...outcome.conflicts[0]!, alreadyHeld: true }]);
    expect(await store.listQuarantine(STORE, 10)).toEqual(quarantine);
    expect(await store.counts()).toEqual(counts({ stored: 3, quarantined: 1 }));
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
      bodyJson: '{"nonsense":true}',
    });
    expect(await store.counts()).toEqual(counts({ stored: 2, rejected: 1 }));
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
    expect(await store.counts()).toEqual(counts({ stored: 3, duplicates: 3 }));
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
    expect(outcome).toEqual({
      ...nothingNew(4),
      duplicates: 1,
      quarantined: [
        { seq: 4, reason: expect.stringContaining('different body') as string, alreadyHeld: false },
      ],
    });

    const { events } = await store.listTransactions(STORE, { after: 2, limit: 100 });
    expect(events.map((e) => [e.seq, e.status])).toEqual([
      [3, 'duplicate'],
      [4, 'quarantined'],
    ]);
    expect(events[1]!.reason).toContain('different body');
    expect(await store.listQuarantine(STORE, 10)).toMatchObject([
      { seq: 4, bodyJson: JSON.stringify(altered) },
    ]);
    expect(await store.counts()).toEqual(counts({ stored: 2, duplicates: 1, quarantined: 1 }));
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
        oldestUnsentAt: null,
        unsentByDay: null,
        acked: null,
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

  it('keeps each body byte for byte (big integers, integer-like keys, escapes, whitespace), and a text that is not JSON as a JSON string of it', async () => {
    const { store } = await freshStore();
    const exact = exactSaleText(1);
    const notJson = 'not json \u0000 at all \ud800';
    const reason = 'body is not JSON: Unexpected token';
    const batch = [incoming(1, { text: exact }), incoming(2, { text: notJson, invalidReason: reason })];
    expect(await store.insertEventsOnce(STORE, EPOCH_A, batch, AT)).toMatchObject({
      stored: 1,
      ackedThrough: 2,
    });

    const { events } = await store.listTransactions(STORE, { limit: 10 });
    expect(events[0]!.bodyJson).toBe(exact);
    expect(events[1]!.bodyJson).toBe(JSON.stringify(notJson));
    expect(JSON.parse(events[1]!.bodyJson!)).toBe(notJson);
    expect((await store.exportDay(STORE, '2026-11-23')).map((e) => e.bodyJson)).toEqual([exact]);
    // The very same texts again (a redelivery): the digest is over the text, so nothing changes.
    expect(await store.insertEventsOnce(STORE, EPOCH_A, batch, AT + 1000)).toEqual({
      ...nothingNew(2),
      rejected: [{ seq: 2, reason }],
    });
  });

  describe('epoch close', () => {
    const move = (seq: number, toSeq: number, prefix = 'EV') => ({
      seq,
      eventId: eventIdOf(seq, prefix),
      toSeq,
    });
    const closeOf = (
      lastSeq: number,
      moved: ReturnType<typeof move>[],
      extra: Partial<EpochClose['close']> = {},
    ) => ({
      lastSeq,
      nextEpoch: EPOCH_F,
      reason: 'the hub holds seqs this database never handed out',
      part: 1,
      parts: 1,
      moved,
      ...extra,
    });
    const epochOf = async (store: HubStore, epoch: string) =>
      (await store.listStores())[0]!.epochs.find((e) => e.epoch === epoch)!;
    /** The events a closing writer re-sends under its next epoch: same eventIds and bodies, new seqs. */
    const resent = (from: number, to: number, offset: number, prefix = 'EV') =>
      seqRange(from, to).map((seq) =>
        incoming(seq - offset, { body: sale({}, seq), eventId: eventIdOf(seq, prefix) }),
      );

    it('records a move into a hole as a moved row, so the closed epoch is complete', async () => {
      const { store } = await freshStore();
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 60), AT);
      expect(await epochOf(store, EPOCH_A)).toMatchObject({
        contiguousThrough: 60,
        closed: null,
        complete: false,
      });

      const outcome = await store.closeEpoch(
        STORE,
        EPOCH_A,
        closeOf(
          90,
          seqRange(61, 90).map((seq) => move(seq, seq - 60)),
        ),
        AT + 1000,
      );
      expect(outcome).toEqual({
        ackedThrough: 90,
        highestSeq: 90,
        moved: 30,
        markedInQuarantine: 0,
        alreadyHeld: 0,
        unmatched: [],
        closedAtSeq: 90,
      });
      expect(await epochOf(store, EPOCH_A)).toMatchObject({
        lastSeq: 90,
        contiguousThrough: 90,
        gaps: [],
        stored: 60,
        moved: 30,
        closed: { lastSeq: 90, nextEpoch: EPOCH_F, at: new Date(AT + 1000).toISOString() },
        complete: true,
      });
      const { events } = await store.listTransactions(STORE, { epoch: EPOCH_A, after: 60, limit: 100 });
      expect(events).toHaveLength(30);
      expect(events[0]).toEqual({
        storeId: STORE,
        epoch: EPOCH_A,
        seq: 61,
        eventId: eventIdOf(61),
        type: null,
        status: 'moved',
        reason: expect.stringContaining(`moved to seq 1 of epoch ${EPOCH_F}`) as string,
        terminalId: null,
        transactionId: null,
        businessDay: null,
        capturedAt: null,
        receivedAt: new Date(AT + 1000).toISOString(),
        bodyJson: null,
        movedTo: { epoch: EPOCH_F, seq: 1 },
      });

      // The moved events arrive under their new epoch and are stored there, once.
      expect(await store.insertEventsOnce(STORE, EPOCH_F, resent(61, 90, 60), AT + 2000)).toMatchObject({
        ackedThrough: 30,
        stored: 30,
        duplicates: 0,
      });
      expect(await store.counts()).toEqual(counts({ stored: 90, moved: 30 }));
      expect((await store.listStores())[0]!.currentEpoch).toBe(EPOCH_F);
    });

    it("leaves the writer's own stored event where it is (its acknowledgement was lost) and moves the rest", async () => {
      const { store } = await freshStore();
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 65), AT);
      const outcome = await store.closeEpoch(
        STORE,
        EPOCH_A,
        closeOf(
          90,
          seqRange(61, 90).map((seq) => move(seq, seq - 60)),
        ),
        AT + 1000,
      );
      expect(outcome).toMatchObject({ moved: 25, alreadyHeld: 5, unmatched: [], ackedThrough: 90 });
      const { events } = await store.listTransactions(STORE, { epoch: EPOCH_A, after: 63, limit: 4 });
      expect(events.map((e) => [e.seq, e.status])).toEqual([
        [64, 'stored'],
        [65, 'stored'],
        [66, 'moved'],
        [67, 'moved'],
      ]);
      // Re-sent under the new epoch, the five it already had are duplicates: each sale counted once.
      expect(await store.insertEventsOnce(STORE, EPOCH_F, resent(61, 90, 60), AT + 2000)).toMatchObject({
        stored: 25,
        duplicates: 5,
      });
      expect(await store.counts()).toEqual(counts({ stored: 90, duplicates: 5, moved: 25 }));
      expect(await epochOf(store, EPOCH_A)).toMatchObject({ complete: true, stored: 65, moved: 25 });
    });

    it("marks the quarantined copy when another writer's event holds the seq, and says which moves it cannot place", async () => {
      const { store } = await freshStore();
      // Writer A (the original PC) holds 1..70; writer B (a clone) published its own 61..63 and was told of the conflict.
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 70), AT);
      const clone = (seq: number) =>
        incoming(seq, {
          body: sale({ operatorId: 'op-9', transactionId: `clone-${seq}` }, seq),
          eventId: eventIdOf(seq, 'CL'),
        });
      expect(
        (await store.insertEventsOnce(STORE, EPOCH_A, seqs(61, 63, clone), AT + 500)).conflicts,
      ).toHaveLength(3);

      const close = closeOf(
        75,
        seqRange(61, 75).map((seq) => move(seq, seq - 60, 'CL')),
        { nextEpoch: EPOCH_G },
      );
      const outcome = await store.closeEpoch(STORE, EPOCH_A, close, AT + 1000);
      expect(outcome).toMatchObject({
        moved: 5,
        markedInQuarantine: 3,
        alreadyHeld: 0,
        closedAtSeq: 75,
        ackedThrough: 75,
      });
      expect(outcome.unmatched.map((u) => u.seq)).toEqual(seqRange(64, 70));
      expect(outcome.unmatched[0]!.reason).toContain(`holds event ${eventIdOf(64)} of another writer`);
      expect((await store.listQuarantine(STORE, 10)).map((q) => [q.seq, q.eventId, q.movedTo])).toEqual(
        seqRange(61, 63).map((seq) => [seq, eventIdOf(seq, 'CL'), { epoch: EPOCH_G, seq: seq - 60 }]),
      );
      expect(await epochOf(store, EPOCH_A)).toMatchObject({
        closed: { lastSeq: 75, nextEpoch: EPOCH_G },
        contiguousThrough: 75,
        complete: true,
      });
      // Redelivered, the part finds its marks and rows and writes nothing.
      expect(await store.closeEpoch(STORE, EPOCH_A, close, AT + 2000)).toMatchObject({
        moved: 0,
        markedInQuarantine: 0,
        alreadyHeld: 8,
      });

      // Writer A, unaware, goes on under the closed epoch: its events at B's moved seqs are conflicts, and
      // the answer tells it the epoch was closed (so it leaves too)…
      const own = await store.insertEventsOnce(STORE, EPOCH_A, seqs(71, 72), AT + 3000);
      expect(own.conflicts.map((c) => c.seq)).toEqual([71, 72]);
      expect(own.closedTowards).toBe(EPOCH_G);
      // …and a seq beyond a gap makes the epoch incomplete again until the gap is filled.
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(77, 77), AT + 3000);
      expect(await epochOf(store, EPOCH_A)).toMatchObject({
        lastSeq: 77,
        gaps: [{ from: 76, to: 76 }],
        complete: false,
      });
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(76, 76), AT + 3000);
      expect(await epochOf(store, EPOCH_A)).toMatchObject({ contiguousThrough: 77, complete: true });
    });

    it('takes parts in any order and redelivered parts change nothing', async () => {
      const { store } = await freshStore();
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 10), AT);
      const part1 = closeOf(
        20,
        seqRange(11, 15).map((seq) => move(seq, seq - 10)),
        { part: 1, parts: 2 },
      );
      const part2 = closeOf(
        20,
        seqRange(16, 20).map((seq) => move(seq, seq - 10)),
        { part: 2, parts: 2 },
      );

      expect(await store.closeEpoch(STORE, EPOCH_A, part2, AT + 1000)).toMatchObject({
        moved: 5,
        ackedThrough: 10,
      });
      expect(await epochOf(store, EPOCH_A)).toMatchObject({
        closed: { lastSeq: 20 },
        gaps: [{ from: 11, to: 15 }],
        complete: false,
      });
      expect(await store.closeEpoch(STORE, EPOCH_A, part1, AT + 2000)).toMatchObject({
        moved: 5,
        ackedThrough: 20,
      });
      const before = await store.listTransactions(STORE, { epoch: EPOCH_A, limit: 100 });

      for (const part of [part1, part2]) {
        expect(await store.closeEpoch(STORE, EPOCH_A, part, AT + 3000)).toEqual({
          ackedThrough: 20,
          highestSeq: 20,
          moved: 0,
          markedInQuarantine: 0,
          alreadyHeld: 5,
          unmatched: [],
          closedAtSeq: 20,
        });
      }
      expect(await store.listTransactions(STORE, { epoch: EPOCH_A, limit: 100 })).toEqual(before);
      expect(await store.counts()).toEqual(counts({ stored: 10, moved: 10 }));
      expect(await epochOf(store, EPOCH_A)).toMatchObject({
        closed: { lastSeq: 20, at: new Date(AT + 1000).toISOString() },
        complete: true,
      });
    });

    it.each(['before', 'after'] as const)(
      "accounts for every seq when the close arrives %s the next epoch's events, and takes a late copy of a moved event as a redelivery",
      async (when) => {
        const { store } = await freshStore();
        await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 3), AT);
        const close = () =>
          store.closeEpoch(
            STORE,
            EPOCH_A,
            closeOf(
              6,
              seqRange(4, 6).map((seq) => move(seq, seq - 3)),
            ),
            AT + 1000,
          );
        const next = () => store.insertEventsOnce(STORE, EPOCH_F, resent(4, 6, 3), AT + 1000);
        if (when === 'before') {
          expect(await close()).toMatchObject({ moved: 3 });
          expect(await next()).toMatchObject({ stored: 3, ackedThrough: 3 });
        } else {
          expect(await next()).toMatchObject({ stored: 3, ackedThrough: 3 });
          expect(await close()).toMatchObject({ moved: 3 });
        }
        // A batch of the old epoch published before the close, delivered late: nothing to store, no
        // conflict; the answer says where the epoch's writer went (its sender has moved on, and ignores it).
        expect(await store.insertEventsOnce(STORE, EPOCH_A, seqs(4, 6), AT + 2000)).toEqual({
          ...nothingNew(6),
          closedTowards: EPOCH_F,
        });
        expect(await store.counts()).toEqual(counts({ stored: 6, moved: 3 }));
        const epochs = (await store.listStores())[0]!.epochs;
        expect(epochs.map((e) => [e.epoch, e.contiguousThrough, e.complete])).toEqual([
          [EPOCH_A, 6, true],
          [EPOCH_F, 3, false],
        ]);
      },
    );
    it('keeps on each moved row where the event went and a short excerpt of why, not the whole reason again', async () => {
      const { store } = await freshStore();
      const reason = `restored from a backup; ${'details '.repeat(120)}`;
      await store.closeEpoch(
        STORE,
        EPOCH_A,
        closeOf(
          300,
          seqRange(1, 300).map((seq) => move(seq, seq)),
          { reason },
        ),
        AT,
      );
      const { events } = await store.listTransactions(STORE, { epoch: EPOCH_A, limit: 300 });
      expect(events).toHaveLength(300);
      for (const row of events) {
        expect(row.reason).toMatch(
          new RegExp(
            `^moved to seq ${row.seq} of epoch ${EPOCH_F} when its writer closed this epoch: restored from a backup; details`,
          ),
        );
        expect(row.reason!.length).toBeLessThan(300);
      }
    });

    it('tells a writer still publishing under a closed epoch where its closing writer went, and no one before the close', async () => {
      const { store } = await freshStore();
      // Two PCs share epoch A; only the clone is told of a conflict, and it closes A towards F.
      const before = await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 3), AT);
      expect(before).not.toHaveProperty('closedTowards');
      await store.closeEpoch(STORE, EPOCH_A, closeOf(3, []), AT + 1000);
      // The original PC's next sales land at new seqs of A, with no conflict: the answer says A is closed.
      const after = await store.insertEventsOnce(STORE, EPOCH_A, seqs(4, 5), AT + 2000);
      expect(after).toMatchObject({ stored: 2, conflicts: [], closedTowards: EPOCH_F });
      // Other epochs of the store are not concerned.
      expect(await store.insertEventsOnce(STORE, EPOCH_B, seqs(1, 1), AT + 3000)).not.toHaveProperty(
        'closedTowards',
      );
    });

    it("never acknowledges a writer's copy of an event another writer moved away before the hub holds it there", async () => {
      const { store } = await freshStore();
      // Two PCs share epoch A up to seq 3 and both hold event X at seq 4. The clone closes A first and moves
      // X to seq 1 of its epoch F; it may be switched off before it ever delivers F.
      await store.insertEventsOnce(STORE, EPOCH_A, seqs(1, 3), AT);
      expect(await store.closeEpoch(STORE, EPOCH_A, closeOf(4, [move(4, 1)]), AT + 1000)).toMatchObject({
        moved: 1,
      });
      // The original PC's copy of X arrives under A: a conflict (so it keeps X and moves it on), not
      // quarantined (it is no other event), and nothing is stored at seq 4 beyond the moved row.
      const copy = await store.insertEventsOnce(STORE, EPOCH_A, seqs(4, 4), AT + 2000);
      expect(copy).toMatchObject({ stored: 0, duplicates: 0, rejected: [], closedTowards: EPOCH_F });
      expect(copy.conflicts.map((c) => c.seq)).toEqual([4]);
      expect(await store.listQuarantine(STORE, 10)).toEqual([]);
      // The original PC sends X under an epoch of its own: stored there, once; the clone's copy, if it
      // ever comes, is a duplicate.
      expect(
        await store.insertEventsOnce(
          STORE,
          EPOCH_G,
          [incoming(1, { body: sale({}, 4), eventId: eventIdOf(4) })],
          AT + 3000,
        ),
      ).toMatchObject({ stored: 1 });
      expect(await store.insertEventsOnce(STORE, EPOCH_F, resent(4, 4, 3), AT + 4000)).toMatchObject({
        stored: 0,
        duplicates: 1,
      });
      expect(await store.counts()).toEqual(counts({ stored: 4, duplicates: 1, moved: 1 }));
      // Once X is stored, a late copy under A is a plain redelivery.
      expect((await store.insertEventsOnce(STORE, EPOCH_A, seqs(4, 4), AT + 5000)).conflicts).toEqual([]);
    });
  });

  it('keeps a withheld event as refused at its seq, and takes its marker for an event it stores as a redelivery', async () => {
    const { store } = await freshStore();
    const withheld = (seq: number, eventId = eventIdOf(seq)): IncomingEvent => ({
      ...incoming(seq, { eventId }),
      businessDay: null,
      bodyText: 'null',
      bodyIsJson: true,
      bodyHash: withheldDigest(eventId),
      invalidReason: 'withheld by the store: too large to send',
    });
    // Seq 2 is withheld (too large for the broker): refused with the reason, and the epoch has no gap.
    expect(
      await store.insertEventsOnce(STORE, EPOCH_A, [incoming(1), withheld(2), incoming(3)], AT),
    ).toMatchObject({
      ackedThrough: 3,
      stored: 2,
      rejected: [{ seq: 2, reason: 'withheld by the store: too large to send' }],
      conflicts: [],
    });
    const { events } = await store.listTransactions(STORE, { epoch: EPOCH_A, limit: 10 });
    expect(events[1]).toMatchObject({ seq: 2, status: 'rejected', bodyJson: 'null', terminalId: 'T1' });
    // Seq 3 was stored from an earlier connection; a later one withholds it: a redelivery, no conflict.
    expect(await store.insertEventsOnce(STORE, EPOCH_A, [withheld(3)], AT + 1000)).toEqual(nothingNew(3));
    // The withheld marker of an event stored under another epoch is a duplicate: counted once, not refused.
    expect(
      await store.insertEventsOnce(STORE, EPOCH_B, [withheld(1, eventIdOf(3))], AT + 2000),
    ).toMatchObject({
      duplicates: 1,
      rejected: [],
    });
    expect(await store.listQuarantine(STORE, 10)).toEqual([]);
    expect(await store.counts()).toEqual(counts({ stored: 2, rejected: 1, duplicates: 1 }));
  });

  it('keeps per-epoch counters in the ingest transaction: listing stores reads them, not the events', async () => {
    const { database, store } = await freshStore();
    await store.insertEventsOnce(
      STORE,
      EPOCH_A,
      seqs(1, 4, (seq) =>
        seq === 3
          ? incoming(3, { body: { x: 1 }, invalidReason: 'invalid transaction: v: required' })
          : incoming(seq),
      ),
      AT,
    );
    await store.insertEventsOnce(STORE, EPOCH_B, seqs(1, 2), AT + 1000);
    const before = await store.listStores();
    expect(before[0]!.epochs.map((e) => [e.stored, e.rejected, e.duplicates])).toEqual([
      [3, 1, 0],
      [0, 0, 2],
    ]);
    // Rows removed behind the store's back: a count of the events would see it, the counters do not.
    await database.exec(`DELETE FROM hub_events WHERE store_id = '${STORE}' AND status = 'stored'`);
    expect(await store.listStores()).toEqual(before);
    expect(await store.counts()).toEqual(counts({ stored: 3, rejected: 1, duplicates: 2 }));
  });

  it('upgrades a database written by the first release: rows kept, counters filled in, moves possible', async () => {
    const { database, open } = await track(createDatabase());
    const v1 = hubMigrations[0]!;
    if (database.kind === 'postgres') {
      await database.exec(
        `${v1.postgres}; CREATE TABLE hub_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`,
      );
    } else {
      await database.exec(v1.sqlite);
    }
    await database.setSchemaVersion(1);
    const body = JSON.stringify(sale({}, 1)).replaceAll("'", "''");
    await database.exec(`
      INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ('${STORE}', '${EPOCH_A}', ${AT}, 0);
      INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
        VALUES ('${STORE}', '${EPOCH_A}', ${AT}, ${AT}, 2, 3);
      INSERT INTO hub_events (store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
          business_day, captured_at, received_at, body_hash, body) VALUES
        ('${STORE}', '${EPOCH_A}', 1, '${eventIdOf(1)}', 'sale', 'stored', NULL, 'T1', 'sale-1', '2026-11-23', '2026-11-23T10:15:01+01:00', ${AT}, 'h1', '${body}'),
        ('${STORE}', '${EPOCH_A}', 2, '${eventIdOf(2)}', 'sale', 'rejected', 'bad', NULL, NULL, NULL, '2026-11-23T10:15:01+01:00', ${AT}, 'h2', '{}'),
        ('${STORE}', '${EPOCH_A}', 3, '${eventIdOf(3)}', 'sale', 'duplicate', 'dup', NULL, NULL, NULL, '2026-11-23T10:15:01+01:00', ${AT}, 'h3', '{}');
    `);

    const store = await open();
    expect((await store.listStores())[0]!.epochs).toEqual([
      expect.objectContaining({
        epoch: EPOCH_A,
        stored: 1,
        rejected: 1,
        duplicates: 1,
        moved: 0,
        closed: null,
      }),
    ]);
    expect((await store.listTransactions(STORE, { limit: 10 })).events[0]).toMatchObject({
      seq: 1,
      status: 'stored',
      bodyJson: JSON.stringify(sale({}, 1)),
      movedTo: null,
    });
    expect(
      await store.closeEpoch(
        STORE,
        EPOCH_A,
        {
          lastSeq: 4,
          nextEpoch: EPOCH_F,
          reason: '',
          part: 1,
          parts: 1,
          moved: [{ seq: 4, eventId: eventIdOf(4), toSeq: 1 }],
        },
        AT + 1000,
      ),
    ).toMatchObject({ moved: 1, ackedThrough: 4 });
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
    expect(await hubB.counts()).toEqual(counts({ stored: last }));
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
    expect(await hubA.counts()).toEqual(counts({ stored: 500, duplicates: 500 }));
    const epochs = (await hubB.listStores())[0]!.epochs;
    expect(epochs.map((e) => [e.contiguousThrough, e.stored + e.duplicates])).toEqual([
      [500, 500],
      [500, 500],
    ]);
  });
});
