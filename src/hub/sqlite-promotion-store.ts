import type Database from 'better-sqlite3';
import type { KnownStore, NewPromotionVersion, PromotionVersionRecord, RolloutRecord } from './hub-store.js';
import {
  IS_LATEST_VERSION,
  ROLLOUT_UPSERT_RULE,
  toKnownStore,
  toPromotionVersionRecord,
  toRolloutRecord,
  type KnownStoreRow,
  type PromotionVersionRow,
  type RolloutRow,
  type RolloutWrite,
} from './promotion-rows.js';
import type { SqliteStatements } from './sqlite-statements.js';

/** The promotion tables of the embedded hub database (hub-migrations.ts, migration 3). */
export class SqlitePromotionStore {
  constructor(private readonly sql: SqliteStatements) {}

  private prepare(sql: string): Database.Statement {
    return this.sql.get(sql);
  }

  /**
   * Writes a batch's rollout rows; called inside the ingest transaction that stores their events, so a
   * store's proof of rollout is recorded exactly when its event is, never one without the other.
   */
  writeRollout(storeId: string, writes: readonly RolloutWrite[], receivedAt: number): void {
    if (writes.length === 0) return;
    const upsert = this.prepare(
      `INSERT INTO hub_promotion_rollout (promotion_id, version, store_id, outcome, change, previous_version, reason,
         message, digest, key_id, at, event_id, received_at)
       VALUES (@promotionId, @version, @storeId, @outcome, @change, @previousVersion, @reason, @message, @digest,
         @keyId, @at, @eventId, @receivedAt)
       ON CONFLICT (promotion_id, version, store_id) DO UPDATE SET outcome = excluded.outcome,
         change = excluded.change, previous_version = excluded.previous_version, reason = excluded.reason,
         message = excluded.message, digest = excluded.digest, key_id = excluded.key_id, at = excluded.at,
         event_id = excluded.event_id, received_at = excluded.received_at
       WHERE ${ROLLOUT_UPSERT_RULE}`,
    );
    for (const w of writes) {
      upsert.run({
        promotionId: w.promotionId,
        version: w.version,
        storeId,
        outcome: w.outcome,
        change: w.change,
        previousVersion: w.previousVersion,
        reason: w.reason,
        message: w.message,
        digest: w.digest,
        keyId: w.keyId,
        at: w.at,
        eventId: w.eventId,
        receivedAt,
      });
    }
  }

  insertPromotionVersion(v: NewPromotionVersion): boolean {
    const result = this.prepare(
      `INSERT INTO hub_promotion_versions (promotion_id, version, name, state, target, signed, digest, key_id,
           origin, created_by, created_at, activate_when_share)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (promotion_id, version) DO NOTHING`,
    ).run(
      v.promotionId,
      v.version,
      v.name,
      v.state,
      JSON.stringify(v.target),
      v.signedText,
      v.digest,
      v.keyId,
      v.origin,
      v.createdBy,
      v.createdAt,
      v.activateWhenShare,
    );
    return result.changes === 1;
  }

  promotionVersions(promotionId: string): PromotionVersionRecord[] {
    const rows = this.prepare(
      'SELECT * FROM hub_promotion_versions WHERE promotion_id = ? ORDER BY version',
    ).all(promotionId) as PromotionVersionRow[];
    return rows.map(toPromotionVersionRecord);
  }

  latestPromotionVersions(): PromotionVersionRecord[] {
    const rows = this.prepare(
      `SELECT * FROM hub_promotion_versions v WHERE ${IS_LATEST_VERSION} ORDER BY v.promotion_id`,
    ).all() as PromotionVersionRow[];
    return rows.map(toPromotionVersionRecord);
  }

  promotionVersionCount(): number {
    return (this.prepare('SELECT count(*) AS n FROM hub_promotion_versions').get() as { n: number }).n;
  }

  markPromotionPublished(promotionId: string, version: number, at: number): void {
    this.prepare(
      'UPDATE hub_promotion_versions SET published_at = ? WHERE promotion_id = ? AND version = ?',
    ).run(at, promotionId, version);
  }

  unpublishedPromotionVersions(): PromotionVersionRecord[] {
    const rows = this.prepare(
      `SELECT * FROM hub_promotion_versions v WHERE v.published_at IS NULL AND ${IS_LATEST_VERSION}
         ORDER BY v.promotion_id`,
    ).all() as PromotionVersionRow[];
    return rows.map(toPromotionVersionRecord);
  }

  promotionRollout(promotionId: string): RolloutRecord[] {
    const rows = this.prepare(
      'SELECT * FROM hub_promotion_rollout WHERE promotion_id = ? ORDER BY version, store_id',
    ).all(promotionId) as RolloutRow[];
    return rows.map(toRolloutRecord);
  }

  latestPromotionRollout(): RolloutRecord[] {
    const rows = this.prepare(
      `SELECT r.* FROM hub_promotion_rollout r JOIN hub_promotion_versions v
           ON v.promotion_id = r.promotion_id AND v.version = r.version
         WHERE ${IS_LATEST_VERSION} ORDER BY r.promotion_id, r.store_id`,
    ).all() as RolloutRow[];
    return rows.map(toRolloutRecord);
  }

  recordStoreCatalogue(storeId: string, region: string | null, at: number): void {
    this.prepare(
      `INSERT INTO hub_stores (store_id, last_seen, region, catalogue_at, quarantined) VALUES (?, ?, ?, ?, 0)
         ON CONFLICT (store_id) DO UPDATE SET region = excluded.region, catalogue_at = excluded.catalogue_at,
           last_seen = max(coalesce(hub_stores.last_seen, 0), excluded.last_seen)`,
    ).run(storeId, at, region, at);
  }

  knownStores(): KnownStore[] {
    const rows = this.prepare(
      'SELECT store_id, region, online, last_seen, status_at, catalogue_at FROM hub_stores ORDER BY store_id',
    ).all() as KnownStoreRow[];
    return rows.map(toKnownStore);
  }
}
