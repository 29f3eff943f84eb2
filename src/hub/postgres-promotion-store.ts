import type pg from 'pg';
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

/**
 * Writes a batch's rollout rows inside the ingest transaction that stores their events (one statement,
 * rows as one JSON document). `rolloutWrites` left one row per key: PostgreSQL refuses an upsert that
 * touches a row twice.
 */
export async function writeRolloutPostgres(
  c: pg.PoolClient,
  storeId: string,
  writes: readonly RolloutWrite[],
  receivedAt: number,
): Promise<void> {
  if (writes.length === 0) return;
  await c.query(
    `INSERT INTO hub_promotion_rollout (promotion_id, version, store_id, outcome, change, previous_version, reason,
       message, digest, key_id, at, event_id, received_at)
     SELECT r.promotion_id, r.version, $1::text, r.outcome, r.change, r.previous_version, r.reason, r.message,
       r.digest, r.key_id, r.at, r.event_id, $2::bigint
     FROM json_to_recordset($3::json) AS r(promotion_id text, version bigint, outcome text, change text,
       previous_version bigint, reason text, message text, digest text, key_id text, at text, event_id text)
     ON CONFLICT (promotion_id, version, store_id) DO UPDATE SET outcome = excluded.outcome,
       change = excluded.change, previous_version = excluded.previous_version, reason = excluded.reason,
       message = excluded.message, digest = excluded.digest, key_id = excluded.key_id, at = excluded.at,
       event_id = excluded.event_id, received_at = excluded.received_at
     WHERE ${ROLLOUT_UPSERT_RULE}`,
    [
      storeId,
      receivedAt,
      JSON.stringify(
        writes.map((w) => ({
          promotion_id: w.promotionId,
          version: w.version,
          outcome: w.outcome,
          change: w.change,
          previous_version: w.previousVersion,
          reason: w.reason,
          message: w.message,
          digest: w.digest,
          key_id: w.keyId,
          at: w.at,
          event_id: w.eventId,
        })),
      ),
    ],
  );
}

/** The promotion tables of the production hub database (hub-migrations.ts, migration 3). */
export class PostgresPromotionStore {
  constructor(private readonly pool: pg.Pool) {}

  async insertPromotionVersion(v: NewPromotionVersion): Promise<boolean> {
    const result = await this.pool.query(
      `INSERT INTO hub_promotion_versions (promotion_id, version, name, state, target, signed, digest, key_id,
         origin, created_by, created_at, activate_when_share)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (promotion_id, version) DO NOTHING`,
      [
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
      ],
    );
    return result.rowCount === 1;
  }

  async promotionVersions(promotionId: string): Promise<PromotionVersionRecord[]> {
    const { rows } = await this.pool.query<PromotionVersionRow>(
      'SELECT * FROM hub_promotion_versions WHERE promotion_id = $1 ORDER BY version',
      [promotionId],
    );
    return rows.map(toPromotionVersionRecord);
  }

  async latestPromotionVersions(): Promise<PromotionVersionRecord[]> {
    const { rows } = await this.pool.query<PromotionVersionRow>(
      `SELECT * FROM hub_promotion_versions v WHERE ${IS_LATEST_VERSION} ORDER BY v.promotion_id`,
    );
    return rows.map(toPromotionVersionRecord);
  }

  async promotionVersionCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM hub_promotion_versions');
    return Number(rows[0]!.n);
  }

  async markPromotionPublished(promotionId: string, version: number, at: number): Promise<void> {
    await this.pool.query(
      'UPDATE hub_promotion_versions SET published_at = $3 WHERE promotion_id = $1 AND version = $2',
      [promotionId, version, at],
    );
  }

  async unpublishedPromotionVersions(): Promise<PromotionVersionRecord[]> {
    const { rows } = await this.pool.query<PromotionVersionRow>(
      `SELECT * FROM hub_promotion_versions v WHERE v.published_at IS NULL AND ${IS_LATEST_VERSION}
       ORDER BY v.promotion_id`,
    );
    return rows.map(toPromotionVersionRecord);
  }

  async promotionRollout(promotionId: string): Promise<RolloutRecord[]> {
    const { rows } = await this.pool.query<RolloutRow>(
      'SELECT * FROM hub_promotion_rollout WHERE promotion_id = $1 ORDER BY version, store_id',
      [promotionId],
    );
    return rows.map(toRolloutRecord);
  }

  async latestPromotionRollout(): Promise<RolloutRecord[]> {
    const { rows } = await this.pool.query<RolloutRow>(
      `SELECT r.* FROM hub_promotion_rollout r JOIN hub_promotion_versions v
         ON v.promotion_id = r.promotion_id AND v.version = r.version
       WHERE ${IS_LATEST_VERSION} ORDER BY r.promotion_id, r.store_id`,
    );
    return rows.map(toRolloutRecord);
  }

  async recordStoreCatalogue(storeId: string, region: string | null, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO hub_stores (store_id, last_seen, region, catalogue_at, quarantined) VALUES ($1, $2, $3, $2, 0)
       ON CONFLICT (store_id) DO UPDATE SET region = excluded.region, catalogue_at = excluded.catalogue_at,
         last_seen = greatest(hub_stores.last_seen, excluded.last_seen)`,
      [storeId, at, region],
    );
  }

  async knownStores(): Promise<KnownStore[]> {
    const { rows } = await this.pool.query<KnownStoreRow>(
      'SELECT store_id, region, online, last_seen, status_at, catalogue_at FROM hub_stores ORDER BY store_id',
    );
    return rows.map(toKnownStore);
  }
}
