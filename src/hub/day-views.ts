import type { DayDifferences, ZTotal } from '../contracts/day-close.js';
import { NotFoundError } from '../lib/errors.js';
import { storedClose } from './day-rows.js';
import { chainDaySummary, storeDayState, type ChainDaySummary } from './day-summary.js';
import type { HubStore, StoreSummary, TillDayRecord, TillDayState } from './hub-store.js';

type Counted = Pick<ZTotal, 'count' | 'amount'>;

/** One Z-report row beside head office's: `till` is null where the till's close has no such row (or no close yet). */
export interface TotalsBeside {
  type: ZTotal['type'];
  currency: string;
  till: Counted | null;
  headOffice: Counted;
}

/** A till's business day as the operator API and the export manifest show it. */
export interface TillDayView {
  terminalId: string;
  state: TillDayState;
  closedAt: string | null;
  zNumber: string | null;
  judgedAt: string | null;
  differences: DayDifferences | null;
  totals: TotalsBeside[];
  /** Every close received, oldest first; `inForce` marks the one judged (the latest closedAt). */
  closes: {
    eventId: string;
    epoch: string;
    seq: number;
    closedAt: string;
    receivedAt: string;
    inForce: boolean;
  }[];
}

export interface StoreDayView {
  storeId: string;
  businessDay: string;
  /** `confirmed` when every till that sold or closed that day closed and is confirmed. */
  state: TillDayState;
  tills: TillDayView[];
  /**
   * What the store's last status said of its unsent sales, returns and voids of this day: a count
   * (0: none), or null when it did not say (an agent that does not report it, or never online).
   */
  unsent: { count: number | null; reportedBy: 'status' | null };
}

const TYPE_ORDER = { sale: 0, return: 1, void: 2 } as const;

function totalsBeside(till: TillDayRecord): TotalsBeside[] {
  const zTotals = till.close ? storedClose(till.close.bodyJson).totals : [];
  const rows = new Map<string, TotalsBeside>();
  for (const h of till.headOffice)
    rows.set(`${h.type}/${h.currency}`, {
      type: h.type,
      currency: h.currency,
      till: till.close ? { count: 0, amount: 0 } : null,
      headOffice: { count: h.count, amount: h.amount },
    });
  for (const z of zTotals) {
    const key = `${z.type}/${z.currency}`;
    const row = rows.get(key) ?? {
      type: z.type,
      currency: z.currency,
      till: null,
      headOffice: { count: 0, amount: 0 },
    };
    row.till = { count: z.count, amount: z.amount };
    rows.set(key, row);
  }
  return [...rows.values()].sort(
    (a, b) => TYPE_ORDER[a.type] - TYPE_ORDER[b.type] || a.currency.localeCompare(b.currency),
  );
}

export function tillDayView(till: TillDayRecord): TillDayView {
  const close = till.close ? storedClose(till.close.bodyJson) : null;
  return {
    terminalId: till.terminalId,
    state: till.state,
    closedAt: close?.closedAt ?? null,
    zNumber: close?.zNumber ?? null,
    judgedAt: till.judgedAt,
    differences: till.differences,
    totals: totalsBeside(till),
    closes: till.history.map((c) => ({
      eventId: c.eventId,
      epoch: c.epoch,
      seq: c.seq,
      closedAt: c.closedAt,
      receivedAt: c.receivedAt,
      inForce: c.eventId === till.close?.eventId,
    })),
  };
}

/** The store the hub knows by this id, or a NotFoundError naming it (404 at the API, exit 2 in the CLI). */
export async function knownStore(store: HubStore, storeId: string): Promise<StoreSummary> {
  const [summary] = await store.listStores(storeId);
  if (!summary)
    throw new NotFoundError(`store ${storeId} is not known to this hub (it never sent a status or an event)`);
  return summary;
}

/** `GET /v1/stores/{id}/days/{day}`: per till, the verdict, the differences, Z totals beside head office's. */
export async function storeDayView(
  store: HubStore,
  storeId: string,
  businessDay: string,
): Promise<StoreDayView> {
  const summary = await knownStore(store, storeId);
  const day = await store.storeDay(storeId, businessDay);
  const tills = day.tills.map(tillDayView);
  const reported = summary.unsentByDay;
  return {
    storeId,
    businessDay,
    state: storeDayState(tills),
    tills,
    unsent: reported
      ? { count: reported.find((d) => d.businessDay === businessDay)?.count ?? 0, reportedBy: 'status' }
      : { count: null, reportedBy: null },
  };
}

/** `GET /v1/days/{day}`: chain-wide, which stores are confirmed, mismatched or not closed. */
export async function chainDayView(store: HubStore, businessDay: string): Promise<ChainDaySummary> {
  const [stores, tills] = await Promise.all([store.knownStores(), store.chainDay(businessDay)]);
  return chainDaySummary(
    businessDay,
    stores.map((s) => s.storeId),
    tills,
  );
}
