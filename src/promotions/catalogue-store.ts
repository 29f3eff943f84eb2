import type Database from 'better-sqlite3';
import type { PromotionRefusalReason, PromotionState } from '../contracts/promotion.js';
import type { PromotionAppliedBody, PromotionRefusedBody } from '../contracts/promotion-sync.js';
import type { RecordAppender } from '../sync/index.js';
import type { CatalogueChange } from './catalogue-rules.js';

/**
 * The store's promotions in its outbox database (outbox migration 5): the catalogue (per promotion, the
 * latest version taken, with its signed envelope exactly as received) and the history of every version
 * applied or refused. Every write goes through `record`, one transaction that also appends the outbox
 * events reporting it to head office: a till never sees half a change, and the proof of rollout can
 * never disagree with what the store holds, whatever crashes when.
 */

/** The outbox as this repository uses it (Outbox satisfies it). */
export interface OutboxWriter {
  /** The connection the outbox captures on; statements are prepared on it, so they join its transactions. */
  readonly database: Database.Database;
  transactWithRecords<T>(write: (append: RecordAppender) => T): T;
}

/** A catalogue row: the latest version of one promotion this store took. */
export interface StoredPromotion {
  promotionId: string;
  version: number;
  state: PromotionState;
  change: CatalogueChange;
  digest: string;
  keyId: string;
  signedText: string;
  appliedAt: number;
}

export interface StoredRefusal {
  at: number;
  promotionId: string | null;
  version: number | null;
  digest: string | null;
  reason: PromotionRefusalReason;
  message: string;
}

export interface ApplyWrite {
  kind: 'apply';
  promotionId: string;
  version: number;
  state: PromotionState;
  change: CatalogueChange;
  digest: string;
  keyId: string;
  previousVersion: number | undefined;
  /** The signed envelope exactly as received. */
  signedText: string;
  topic: string;
  record: PromotionAppliedBody;
  at: number;
}

export interface RefuseWrite {
  kind: 'refuse';
  refusalKey: string;
  settingsKey: string;
  topic: string;
  /** What arrived, kept for support (cut short: a refusal may be anything). */
  receivedText: string;
  record: PromotionRefusedBody;
  at: number;
}

export type CatalogueWrite = ApplyWrite | RefuseWrite;

/** Per write: recorded with its outbox event, or not (the same refusal was recorded before). */
export type WriteOutcome =
  { recorded: true; eventId: string; epoch: string; seq: number } | { recorded: false };

/** A version taken over one this store does not hold as the previous one: a fault in the caller, never written. */
export class CatalogueOrderError extends Error {
  override readonly name = 'CatalogueOrderError';
}

/** Refused texts longer than this are kept cut short (the outbox event carries the refusal, not the text). */
const KEPT_REFUSED_TEXT = 64 * 1024;

export interface CatalogueStore {
  loadCatalogue(): StoredPromotion[];
  /** Refusals judged under these settings that name a version and document, newest first. */
  refusalsUnder(settingsKey: string, limit: number): StoredRefusal[];
  lastRefusal(): StoredRefusal | undefined;
  refusalCount(): number;
  /** promotion-applied and promotion-refused events head office has not acknowledged yet. */
  unsentReports(): number;
  /** Writes the batch in one durable transaction, in order; throws (writing nothing) if any write fails. */
  record(writes: readonly CatalogueWrite[]): WriteOutcome[];
}

interface CatalogueRow {
  promotion_id: string;
  version: number;
  state: PromotionState;
  change: CatalogueChange;
  digest: string;
  key_id: string;
  signed_text: string;
  applied_at: number;
}

interface RefusalRow {
  at: number;
  promotion_id: string | null;
  version: number | null;
  digest: string | null;
  reason: PromotionRefusalReason;
  message: string;
}

const refusalOf = (row: RefusalRow): StoredRefusal => ({
  at: row.at,
  promotionId: row.promotion_id,
  version: row.version,
  digest: row.digest,
  reason: row.reason,
  message: row.message,
});

export function createCatalogueStore(outbox: OutboxWriter): CatalogueStore {
  const db = outbox.database;
  const stmt = {
    catalogue: db.prepare<[], CatalogueRow>(
      `SELECT promotion_id, version, state, change, digest, key_id, signed_text, applied_at
       FROM promotion_catalogue ORDER BY promotion_id`,
    ),
    refusalsUnder: db.prepare<[string, number], RefusalRow>(
      `SELECT at, promotion_id, version, digest, reason, message FROM promotion_history
       WHERE outcome = 'refused' AND config_key = ?
         AND promotion_id IS NOT NULL AND version IS NOT NULL AND digest IS NOT NULL
       ORDER BY id DESC LIMIT ?`,
    ),
    lastRefusal: db.prepare<[], RefusalRow>(
      `SELECT at, promotion_id, version, digest, reason, message FROM promotion_history
       WHERE outcome = 'refused' ORDER BY id DESC LIMIT 1`,
    ),
    refusalCount: db
      .prepare<[], number>("SELECT count(*) FROM promotion_history WHERE outcome = 'refused'")
      .pluck(),
    unsentReports: db
      .prepare<[], number>(
        `SELECT coalesce(sum(events), 0) FROM event_counts
         WHERE state = 'pending' AND type IN ('promotion-applied', 'promotion-refused')`,
      )
      .pluck(),
    refusedBefore: db
      .prepare<[string], number>(
        "SELECT 1 FROM promotion_history WHERE refusal_key = ? AND outcome = 'refused'",
      )
      .pluck(),
    insertApplied: db.prepare<
      [string, number, string, string, string, number | null, string, string, string, number]
    >(
      `INSERT INTO promotion_history
         (outcome, promotion_id, version, digest, key_id, change, previous_version, topic, received_text, event_id, at)
       VALUES ('applied', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertRefused: db.prepare<
      [
        string | null,
        number | null,
        string | null,
        string | null,
        string,
        string,
        string,
        string,
        string,
        string,
        string,
        number,
      ]
    >(
      `INSERT INTO promotion_history
         (outcome, promotion_id, version, digest, key_id, reason, message, topic, received_text, refusal_key, config_key, event_id, at)
       VALUES ('refused', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    // Only ever forward: a version at or below the one held is never written, whatever the caller decided.
    upsert: db.prepare<[string, number, string, string, string, string, string, number, number | bigint]>(
      `INSERT INTO promotion_catalogue
         (promotion_id, version, state, change, digest, key_id, signed_text, applied_at, history_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (promotion_id) DO UPDATE SET
         version = excluded.version, state = excluded.state, change = excluded.change, digest = excluded.digest,
         key_id = excluded.key_id, signed_text = excluded.signed_text, applied_at = excluded.applied_at,
         history_id = excluded.history_id
       WHERE excluded.version > promotion_catalogue.version`,
    ),
  };

  const apply = (append: RecordAppender, write: ApplyWrite): WriteOutcome => {
    const event = append({ type: 'promotion-applied', body: JSON.stringify(write.record) });
    const history = stmt.insertApplied.run(
      write.promotionId,
      write.version,
      write.digest,
      write.keyId,
      write.change,
      write.previousVersion ?? null,
      write.topic,
      write.signedText,
      event.eventId,
      write.at,
    );
    const changed = stmt.upsert.run(
      write.promotionId,
      write.version,
      write.state,
      write.change,
      write.digest,
      write.keyId,
      write.signedText,
      write.at,
      history.lastInsertRowid,
    ).changes;
    if (changed !== 1) {
      throw new CatalogueOrderError(
        `promotion ${write.promotionId} version ${write.version} is not above the version held; nothing written`,
      );
    }
    return { recorded: true, ...event };
  };

  const refuse = (append: RecordAppender, write: RefuseWrite): WriteOutcome => {
    if (stmt.refusedBefore.get(write.refusalKey) !== undefined) return { recorded: false };
    const event = append({ type: 'promotion-refused', body: JSON.stringify(write.record) });
    const r = write.record;
    stmt.insertRefused.run(
      r.promotionId,
      r.version,
      r.digest,
      r.keyId,
      r.reason,
      r.message,
      write.topic,
      write.receivedText.slice(0, KEPT_REFUSED_TEXT),
      write.refusalKey,
      write.settingsKey,
      event.eventId,
      write.at,
    );
    return { recorded: true, ...event };
  };

  return {
    loadCatalogue: () =>
      stmt.catalogue.all().map((row) => ({
        promotionId: row.promotion_id,
        version: row.version,
        state: row.state,
        change: row.change,
        digest: row.digest,
        keyId: row.key_id,
        signedText: row.signed_text,
        appliedAt: row.applied_at,
      })),
    refusalsUnder: (settingsKey, limit) => stmt.refusalsUnder.all(settingsKey, limit).map(refusalOf),
    lastRefusal: () => {
      const row = stmt.lastRefusal.get();
      return row === undefined ? undefined : refusalOf(row);
    },
    refusalCount: () => stmt.refusalCount.get()!,
    unsentReports: () => stmt.unsentReports.get()!,
    record: (writes) =>
      outbox.transactWithRecords((append) =>
        writes.map((write) => (write.kind === 'apply' ? apply(append, write) : refuse(append, write))),
      ),
  };
}
