import type { ChainTillDay, TillDayState } from './hub-store.js';

/**
 * A store's business day as a whole: `mismatch` when any till's close disagrees with head office,
 * `not-closed` when a till sold and never closed (or no till is known for the day at all: nothing proves
 * it), `confirmed` when every till that sold or closed that day closed and is confirmed.
 */
export function storeDayState(tills: readonly { state: TillDayState }[]): TillDayState {
  if (tills.some((t) => t.state === 'mismatch')) return 'mismatch';
  if (tills.length === 0 || tills.some((t) => t.state === 'not-closed')) return 'not-closed';
  return 'confirmed';
}

export interface ChainDaySummary {
  businessDay: string;
  counts: { stores: number; confirmed: number; mismatch: number; notClosed: number };
  confirmed: string[];
  /** Stores with a till whose close disagrees, naming those tills (and any that did not close). */
  mismatch: { storeId: string; mismatched: string[]; notClosed: string[] }[];
  /** Stores where a till sold and never closed, or where no till is known for the day. */
  notClosed: { storeId: string; notClosed: string[] }[];
}

/** Chain-wide view of one business day over every store the hub knows (GET /v1/days/{day}). */
export function chainDaySummary(
  businessDay: string,
  knownStores: readonly string[],
  tills: readonly ChainTillDay[],
): ChainDaySummary {
  const byStore = new Map<string, ChainTillDay[]>();
  for (const store of knownStores) byStore.set(store, []);
  for (const till of tills) byStore.set(till.storeId, [...(byStore.get(till.storeId) ?? []), till]);
  const summary: ChainDaySummary = {
    businessDay,
    counts: { stores: byStore.size, confirmed: 0, mismatch: 0, notClosed: 0 },
    confirmed: [],
    mismatch: [],
    notClosed: [],
  };
  const named = (list: readonly ChainTillDay[], state: TillDayState) =>
    list.filter((t) => t.state === state).map((t) => t.terminalId);
  for (const storeId of [...byStore.keys()].sort()) {
    const list = byStore.get(storeId)!;
    const state = storeDayState(list);
    if (state === 'confirmed') summary.confirmed.push(storeId);
    else if (state === 'mismatch')
      summary.mismatch.push({
        storeId,
        mismatched: named(list, 'mismatch'),
        notClosed: named(list, 'not-closed'),
      });
    else summary.notClosed.push({ storeId, notClosed: named(list, 'not-closed') });
  }
  summary.counts.confirmed = summary.confirmed.length;
  summary.counts.mismatch = summary.mismatch.length;
  summary.counts.notClosed = summary.notClosed.length;
  return summary;
}
