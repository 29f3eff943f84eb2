import type { PromotionTarget } from '../contracts/promotion.js';
import { targetsStore } from '../promotions/index.js';
import type { KnownStore, PromotionVersionRecord, RolloutRecord } from './hub-store.js';

/**
 * Rollout as head office reads it: for one promotion version, which stores it targets and what each
 * did with it. Pure, over what the hub knows (its stores, with the region each last stated, and the
 * stores' rollout events), so the rules are unit-tested and the same for both hub databases.
 */

export type StoreRollout =
  | {
      storeId: string;
      /** False for a store that reported on a version not (or no longer) aimed at it. */
      targeted: boolean;
      status: 'applied';
      /** When the store applied it, by its own clock. */
      at: string;
      change: string | null;
    }
  | {
      storeId: string;
      targeted: boolean;
      status: 'refused';
      at: string;
      reason: string | null;
      message: string | null;
    }
  | {
      storeId: string;
      targeted: true;
      status: 'pending';
      /** null: the hub never heard of this store (named by the target only). */
      online: boolean | null;
      /** Online or offline since (its last status change), or last seen; null when never seen. */
      since: string | null;
    };

export interface RolloutSummary {
  /** Targeted stores, each counted once under applied, refused or pending. */
  targeted: number;
  applied: number;
  refused: number;
  pending: number;
}

export interface VersionRollout {
  summary: RolloutSummary;
  /** Targeted stores first (by storeId), then stores that reported on it without being targeted. */
  stores: StoreRollout[];
}

const identity = (store: KnownStore) => ({
  storeId: store.storeId,
  ...(store.region === null ? {} : { region: store.region }),
});

/**
 * The targeted stores of a version: known stores its target names (a region target matches the region a
 * store stated in its last catalogue message), and stores its target names by id that the hub never
 * heard of, shown as pending and never seen rather than left out.
 */
export function versionRollout(
  target: PromotionTarget,
  stores: readonly KnownStore[],
  rows: readonly RolloutRecord[],
): VersionRollout {
  const known = new Map(stores.map((s) => [s.storeId, s]));
  const targeted = new Set(stores.filter((s) => targetsStore(target, identity(s))).map((s) => s.storeId));
  for (const storeId of target.storeIds ?? []) targeted.add(storeId);
  const reported = new Map(rows.map((r) => [r.storeId, r]));

  const entry = (storeId: string, isTargeted: boolean): StoreRollout => {
    const row = reported.get(storeId);
    if (row?.outcome === 'applied')
      return { storeId, targeted: isTargeted, status: 'applied', at: row.at, change: row.change };
    if (row?.outcome === 'refused')
      return {
        storeId,
        targeted: isTargeted,
        status: 'refused',
        at: row.at,
        reason: row.reason,
        message: row.message,
      };
    const store = known.get(storeId);
    return {
      storeId,
      targeted: true,
      status: 'pending',
      online: store ? store.online : null,
      since: store ? (store.statusAt ?? store.lastSeen) : null,
    };
  };

  const inTarget = [...targeted].sort().map((storeId) => entry(storeId, true));
  const others = [...reported.keys()]
    .filter((storeId) => !targeted.has(storeId))
    .sort()
    .map((storeId) => entry(storeId, false));
  const count = (status: StoreRollout['status']) => inTarget.filter((s) => s.status === status).length;
  return {
    summary: {
      targeted: inTarget.length,
      applied: count('applied'),
      refused: count('refused'),
      pending: count('pending'),
    },
    stores: [...inTarget, ...others],
  };
}

/**
 * Whether a staged version's automatic activation is due: it is the latest version, still staged, was
 * pushed with `activateWhenShare`, and at least that share of its targeted stores has applied it. A
 * target that matches no store yet is never due (no share of nothing).
 */
export function activationDue(
  latest: Pick<PromotionVersionRecord, 'state' | 'activateWhenShare'>,
  summary: RolloutSummary,
): boolean {
  if (latest.state !== 'staged' || latest.activateWhenShare === null) return false;
  if (summary.targeted === 0) return false;
  // Integer comparison: 2/3 of stores against a share of 0.66 must not depend on rounding.
  return summary.applied >= Math.ceil(latest.activateWhenShare * summary.targeted - 1e-9);
}
