import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { eventBatchSchema } from '../../src/contracts/sync-messages.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { StorageUnavailableError } from '../../src/lib/errors.js';
import { migrateSqlite } from '../../src/lib/sqlite-migrations.js';
import {
  appliedRecord,
  CatalogueOrderError,
  createCatalogueStore,
  createPromotionSigner,
  decideReceivedPromotion,
  createTrustedKeyring,
  generateSigningKeyPair,
  type ApplyDecision,
  type CatalogueWrite,
} from '../../src/promotions/index.js';
import { inThreadDeliveryStore, Outbox, type CaptureInput } from '../../src/sync/index.js';
import { outboxMigrations } from '../../src/sync/outbox-migrations.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The outbox beyond sales: the migration that lets the store's own records in (a table rebuild that must
 * keep every row), records sequenced and delivered with the sales, and promotion writes that commit with
 * their records or not at all.
 */

const opened: { close(): void }[] = [];
afterEach(() => {
  for (const o of opened.splice(0)) o.close();
});

const fileIn = (label: string) => path.join(makeTempDir(label), 'outbox.sqlite');

function open(file: string): Outbox {
  const outbox = new Outbox({ file, storeId: 'S042' });
  opened.push(outbox);
  return outbox;
}

function sale(transactionId: string, state = 'pending'): { input: CaptureInput; state: string } {
  const body = JSON.stringify({ transactionId, note: 'exact text  kept' });
  return {
    state,
    input: {
      terminalId: 'T1',
      transactionId,
      type: 'sale',
      currency: 'EUR',
      signedTotal: 250,
      body,
      bodyHash: textDigest(body),
    },
  };
}

/** A database as version 3 of the schema left it, holding events in every state. */
function version3Database(file: string, foreignKeys = true): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  migrateSqlite(db, outboxMigrations.slice(0, 3), () => 'too new');
  db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', 'e0e0e0e0'), ('store_id', 'S042')").run();
  db.prepare(
    "INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES ('e0e0e0e0', 1, 6, 'new')",
  ).run();
  const insert = db.prepare(
    `INSERT INTO events (id, epoch, seq, event_id, terminal_id, transaction_id, type, captured_at, currency,
                         signed_total, body_hash, state, acked_at, dead_reason)
     VALUES (?, 'e0e0e0e0', ?, ?, 'T1', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const body = db.prepare('INSERT INTO event_bodies (id, body) VALUES (?, ?)');
  const rows = [
    ['sale', 'EUR', 250, 'acked', 1000, null],
    ['sale', 'EUR', 199, 'pending', null, null],
    ['return', 'EUR', -50, 'pending', null, null],
    ['void', 'EUR', 0, 'dead', null, 'refused: invalid'],
    ['sale', 'USD', 999, 'discarded', null, 'refused | discarded: by IT'],
    ['sale', 'USD', 120, 'pending', null, null],
  ] as const;
  // Ids with gaps (pruned rows), which the rebuild must keep: event_bodies refers to them.
  rows.forEach(([type, currency, total, state, ackedAt, reason], i) => {
    const id = 10 + i * 7;
    const text = `{"n": ${i},  "kept": "as sent"}`;
    insert.run(
      id,
      i + 1,
      `01EVENT${String(i).padStart(19, '0')}`,
      `tx-${i}`,
      type,
      100 + i,
      currency,
      total,
      textDigest(text),
      state,
      ackedAt,
      reason,
    );
    body.run(id, text);
  });
  db.close();
}

const everything = (db: Database.Database) => ({
  events: db.prepare('SELECT * FROM event_log ORDER BY id').all(),
  counts: db
    .prepare(
      'SELECT state, currency, sum(events) AS events, sum(amount) AS amount FROM event_counts WHERE events <> 0 GROUP BY state, currency ORDER BY state, currency',
    )
    .all(),
});

describe('outbox migration 4: events beyond sales', () => {
  it('keeps every event with its id and exact body, its indexes, the event_log view and the counts', () => {
    const file = fileIn('outbox-v3');
    version3Database(file);
    const before = new Database(file, { readonly: true });
    const { events: eventsBefore, counts: countsBefore } = everything(before);
    before.close();

    const outbox = open(file);
    const db = outbox.database;
    expect(db.pragma('user_version', { simple: true })).toBe(outboxMigrations.length);
    const after = everything(db);
    // Later migrations add columns (migration 6: each event's business day, read from its body; these
    // bodies name none, and no event here is a day close).
    expect(after.events).toEqual(
      eventsBefore.map((e) => ({ ...(e as object), business_day: null, closed_at: null })),
    );
    expect(after.events).toHaveLength(6);
    expect(after.counts).toEqual(countsBefore);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const indexes = db
      .prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
      )
      .pluck()
      .all();
    expect(indexes.sort()).toEqual([
      'events_acked_at',
      'events_day_close_once',
      'events_dead',
      'events_unsent',
      'events_unsent_age',
    ]);
    // What the status shows did not move: 3 transactions unsent, money per currency (dead ones included).
    expect(outbox.stats()).toMatchObject({
      total: 6,
      deadLetters: 1,
      unsent: {
        count: 3,
        records: 0,
        oldestCapturedAt: 101,
        atRisk: [
          { currency: 'EUR', amount: 149 },
          { currency: 'USD', amount: 120 },
        ],
      },
    });
    // Bodies still belong to their events: deleting an event takes its body along.
    db.prepare('DELETE FROM events WHERE id = 10').run();
    expect(db.prepare('SELECT count(*) FROM event_bodies WHERE id = 10').pluck().get()).toBe(0);
  });

  it('would lose every body if it ran with foreign keys on, which is why the outbox turns them off for it', () => {
    const file = fileIn('outbox-v3-fk');
    version3Database(file);
    const db = new Database(file);
    db.pragma('foreign_keys = ON');
    db.transaction(() => db.exec(outboxMigrations[3]!))();
    expect(db.prepare('SELECT count(*) FROM event_bodies').pluck().get()).toBe(0);
    db.close();
  });

  it('still requires a terminal, a transaction and a currency of every sale, return and void', () => {
    const outbox = open(fileIn('outbox-check'));
    expect(() =>
      outbox.database
        .prepare(
          `INSERT INTO events (epoch, seq, event_id, type, captured_at, signed_total, body_hash)
           VALUES ((SELECT value FROM meta WHERE key = 'epoch'), 99, 'E-NO-TERMINAL', 'sale', 1, 0, 'h')`,
        )
        .run(),
    ).toThrow(/CHECK constraint failed/);
    expect(() =>
      outbox.database
        .prepare(
          `INSERT INTO events (epoch, seq, event_id, type, captured_at, signed_total, body_hash, terminal_id, transaction_id, currency)
           VALUES ((SELECT value FROM meta WHERE key = 'epoch'), 99, 'E-BAD-TYPE', 'refund', 1, 0, 'h', 'T', 'X', 'EUR')`,
        )
        .run(),
    ).toThrow(/CHECK constraint failed/);
  });
});

describe("the store's own records in the outbox", () => {
  it('take the next seq between sales, travel in the same batches with their type, and are acknowledged alike', async () => {
    const file = fileIn('outbox-records');
    const outbox = open(file);
    outbox.appendBatch([sale('tx-1').input]);
    const appended = outbox.transactWithRecords((append) =>
      append({ type: 'promotion-applied', body: '{"v":1,"type":"promotion-applied"}' }),
    );
    outbox.appendBatch([sale('tx-2').input]);
    expect(appended.seq).toBe(2);

    expect(outbox.stats().unsent).toMatchObject({
      count: 2,
      records: 1,
      atRisk: [{ currency: 'EUR', amount: 500 }],
    });
    expect(outbox.unsentCount()).toBe(3);

    const delivery = inThreadDeliveryStore(file, 'S042');
    opened.push({ close: () => void delivery.close() });
    const next = await delivery.nextBatch(null, {
      maxEvents: 10,
      maxBytes: 1 << 20,
      maxMessageBytes: 1 << 20,
    });
    const message = next.message;
    if (message?.kind !== 'batch') throw new Error('expected a batch');
    const batch = eventBatchSchema.parse(JSON.parse(String(message.payload)));
    expect(batch.events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'sale'],
      [2, 'promotion-applied'],
      [3, 'sale'],
    ]);
    expect(batch.events[1]!.body).toBe('{"v":1,"type":"promotion-applied"}');

    await delivery.recordBatchAck(
      {
        v: 1,
        kind: 'batch',
        epoch: batch.epoch,
        ackedThrough: 3,
        highestSeq: 3,
        batch: { firstSeq: 1, lastSeq: 3, lastEventId: batch.events[2]!.eventId },
        rejected: [{ seq: 2, reason: 'invalid promotion-applied record' }],
        conflicts: [],
      },
      2_000,
    );
    expect(outbox.stats().unsent).toMatchObject({ count: 0, records: 0 });
    // A refused record is a dead letter like any event, named as the store's own.
    expect(outbox.deadLetters()).toMatchObject([
      { seq: 2, terminalId: '(store)', transactionId: 'promotion-applied', state: 'dead' },
    ]);
  });

  it('are appended only inside a write transaction', () => {
    const outbox = open(fileIn('outbox-records-tx'));
    let append: Parameters<Parameters<Outbox['transactWithRecords']>[0]>[0] | undefined;
    outbox.transactWithRecords((a) => (append = a));
    expect(() => append!({ type: 'promotion-refused', body: '{}' })).toThrow(/inside a write transaction/);
  });
});

describe('promotion writes', () => {
  const keys = generateSigningKeyPair();
  const signer = createPromotionSigner(keys.privateKeyPem);
  const keyring = createTrustedKeyring([keys.publicKeyBase64]);
  const store = { storeId: 'S042' };

  function applyWrite(
    overrides: Record<string, unknown>,
    held?: { version: number; digest: string },
  ): CatalogueWrite {
    const signed = signer.sign(promotionDraft(overrides));
    const decision = decideReceivedPromotion(signed, { store, keyring, held: () => held }) as ApplyDecision;
    expect(decision.outcome).toBe('apply');
    return {
      kind: 'apply',
      promotionId: decision.promotion.promotionId,
      version: decision.promotion.version,
      state: decision.promotion.state,
      change: decision.change,
      digest: decision.digest,
      keyId: keys.keyId,
      previousVersion: decision.previousVersion,
      signedText: JSON.stringify(signed),
      topic: 'outpost/v1/promotions/stores/S042/X',
      record: appliedRecord(decision, 1_000),
      at: 1_000,
    };
  }

  const state = (outbox: Outbox) => ({
    catalogue: outbox.database.prepare('SELECT promotion_id, version FROM promotion_catalogue').all(),
    history: outbox.database.prepare('SELECT count(*) FROM promotion_history').pluck().get(),
    lastSeq: outbox.stats().lastSeq,
  });

  it('commit with their rollout records or not at all', () => {
    const outbox = open(fileIn('promotion-writes'));
    const catalogue = createCatalogueStore(outbox);
    catalogue.record([applyWrite({ promotionId: 'A', version: 5 })]);
    const before = state(outbox);

    // B is fine, but A version 4 would move A backwards: the whole batch is refused, B included.
    expect(() =>
      catalogue.record([
        applyWrite({ promotionId: 'B', version: 1 }),
        applyWrite({ promotionId: 'A', version: 4 }),
      ]),
    ).toThrow(CatalogueOrderError);
    expect(state(outbox)).toEqual(before);

    // A storage failure half-way (the record of the second write cannot be appended) leaves nothing either.
    const failing: Parameters<typeof createCatalogueStore>[0] = {
      database: outbox.database,
      transactWithRecords: (write) =>
        outbox.transactWithRecords((append) => {
          let n = 0;
          return write((record) => {
            if (++n === 2) throw new StorageUnavailableError('the disk is full', 'disk-full');
            return append(record);
          });
        }),
    };
    expect(() =>
      createCatalogueStore(failing).record([
        applyWrite({ promotionId: 'B', version: 1 }),
        applyWrite({ promotionId: 'C', version: 1 }),
      ]),
    ).toThrow(StorageUnavailableError);
    expect(state(outbox)).toEqual(before);
    expect(before).toEqual({ catalogue: [{ promotion_id: 'A', version: 5 }], history: 1, lastSeq: 1 });
  });
});
