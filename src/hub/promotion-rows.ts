import type { PromotionState, PromotionTarget } from '../contracts/promotion.js';
import type { RowToInsert } from './classify-events.js';
import type {
  KnownStore,
  PromotionOrigin,
  PromotionVersionRecord,
  RolloutFact,
  RolloutRecord,
} from './hub-store.js';
import { isoFromMs } from './hub-rows.js';

/** BIGINT columns come back from PostgreSQL as strings, from SQLite as numbers. */
type Int = number | string;

export interface PromotionVersionRow {
  promotion_id: string;
  version: Int;
  name: string;
  state: PromotionState;
  target: string;
  signed: string;
  digest: string;
  key_id: string;
  origin: PromotionOrigin;
  created_by: string;
  created_at: Int;
  activate_when_share: number | null;
  published_at: Int | null;
}

export interface RolloutRow {
  promotion_id: string;
  version: Int;
  store_id: string;
  outcome: 'applied' | 'refused';
  change: string | null;
  previous_version: Int | null;
  reason: string | null;
  message: string | null;
  digest: string | null;
  key_id: string | null;
  at: string;
  event_id: string;
  received_at: Int;
}

export interface KnownStoreRow {
  store_id: string;
  region: string | null;
  online: number | boolean;
  last_seen: Int | null;
  status_at: Int | null;
  catalogue_at: Int | null;
}

export const toPromotionVersionRecord = (r: PromotionVersionRow): PromotionVersionRecord => ({
  promotionId: r.promotion_id,
  version: Number(r.version),
  name: r.name,
  state: r.state,
  // Written by this hub from a validated document: JSON of a PromotionTarget.
  target: JSON.parse(r.target) as PromotionTarget,
  signedText: r.signed,
  digest: r.digest,
  keyId: r.key_id,
  origin: r.origin,
  createdBy: r.created_by,
  createdAt: isoFromMs(r.created_at)!,
  activateWhenShare: r.activate_when_share === null ? null : Number(r.activate_when_share),
  publishedAt: isoFromMs(r.published_at),
});

export const toRolloutRecord = (r: RolloutRow): RolloutRecord => ({
  promotionId: r.promotion_id,
  version: Number(r.version),
  storeId: r.store_id,
  outcome: r.outcome,
  change: r.change,
  previousVersion: r.previous_version === null ? null : Number(r.previous_version),
  reason: r.reason,
  message: r.message,
  digest: r.digest,
  keyId: r.key_id,
  at: r.at,
  eventId: r.event_id,
  receivedAt: isoFromMs(r.received_at)!,
});

export const toKnownStore = (r: KnownStoreRow): KnownStore => ({
  storeId: r.store_id,
  region: r.region,
  online: r.online === true || r.online === 1,
  lastSeen: isoFromMs(r.last_seen),
  statusAt: isoFromMs(r.status_at),
  catalogueAt: isoFromMs(r.catalogue_at),
});

/** One rollout row to write: the fact and the event that carried it. */
export interface RolloutWrite extends RolloutFact {
  eventId: string;
}

/**
 * The rollout rows a committed batch writes, one per (promotion, version), folded in seq order by the
 * rule the database applies to what it already holds (see `ROLLOUT_UPSERT_RULE`): an application
 * replaces anything, a refusal replaces only a refusal. So a store that refused a forged version 2 and
 * then applied the genuine one shows as applied, and a late refusal (a replay of version 2 after it was
 * applied) never hides that it holds it. Only newly stored events count: a duplicate was counted when
 * first stored. A refusal as `already-held` is a redelivery, not news.
 */
export function rolloutWrites(inserts: readonly RowToInsert[]): RolloutWrite[] {
  const byKey = new Map<string, RolloutWrite>();
  const ordered = inserts
    .filter((row) => row.status === 'stored' && row.event.rollout !== undefined)
    .sort((a, b) => a.event.seq - b.event.seq);
  for (const { event } of ordered) {
    const fact = event.rollout!;
    if (fact.outcome === 'refused' && fact.reason === 'already-held') continue;
    const key = `${fact.promotionId}\u0000${fact.version}`;
    const held = byKey.get(key);
    if (held && fact.outcome === 'refused' && held.outcome === 'applied') continue;
    byKey.set(key, { ...fact, eventId: event.eventId });
  }
  return [...byKey.values()];
}

/** The ON CONFLICT rule both stores use, in SQL: what `rolloutWrites` applies within one batch. */
export const ROLLOUT_UPSERT_RULE =
  "excluded.outcome = 'applied' OR hub_promotion_rollout.outcome = 'refused'";

/** The latest version of each promotion, as a condition on `v` (a hub_promotion_versions alias). */
export const IS_LATEST_VERSION =
  'v.version = (SELECT max(l.version) FROM hub_promotion_versions l WHERE l.promotion_id = v.promotion_id)';
