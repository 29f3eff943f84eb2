import type { DayClose, DayDifferences, DayResult, ZTotal } from '../contracts/day-close.js';

/** What head office holds of one till's business day. */
export interface HeldDay {
  /** Stored sales, returns and voids per type and currency: count and Σ totals.total. */
  totals: readonly ZTotal[];
  /** Their transaction ids. */
  transactionIds: readonly string[];
}

/** The differences schema caps each list; beyond it the totals rows still show the size of the gap. */
const LIST_LIMIT = 1000;
/** A first..last range longer than any till's day (a counter that never resets) is not spelt out. */
const RANGE_LIMIT = 200_000;

const TYPE_ORDER = { sale: 0, return: 1, void: 2 } as const;
const naturalOrder = new Intl.Collator('en', { numeric: true }).compare;

type Ids = Pick<DayClose, 'transactionIds' | 'firstTransactionId' | 'lastTransactionId'>;

/**
 * Every id of a first..last range, when both ids share a prefix and end in a number ("T1-000123" …
 * "T1-001357"): with the first id's zero padding when both numbers have the same width, or when neither
 * is padded. Undefined when the range cannot be spelt out (no shared prefix, a padded first id shorter
 * than the last, the last below the first, or longer than any till's day).
 */
export function idsInRange(first: string, last: string): string[] | undefined {
  const a = /^(.*?)(\d+)$/.exec(first);
  const b = /^(.*?)(\d+)$/.exec(last);
  if (!a || !b || a[1] !== b[1]) return undefined;
  const prefix = a[1]!;
  const [from, to] = [a[2]!, b[2]!];
  const width = from.length === to.length ? from.length : from.startsWith('0') ? undefined : 0;
  if (width === undefined) return undefined;
  const [start, end] = [Number(from), Number(to)];
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  if (end - start + 1 > RANGE_LIMIT) return undefined;
  const ids: string[] = [];
  for (let n = start; n <= end; n++) ids.push(prefix + String(n).padStart(width, '0'));
  return ids;
}

/** The ids a close accounts for: its list, else its range spelt out (none for a day without any); undefined when its range cannot be spelt out. */
export function idsOfClose(close: Ids): string[] | undefined {
  if (close.transactionIds) return close.transactionIds;
  if (close.firstTransactionId === null || close.lastTransactionId === null) return [];
  return idsInRange(close.firstTransactionId, close.lastTransactionId);
}

const totalsKey = (row: Pick<ZTotal, 'type' | 'currency'>) => `${row.type}/${row.currency}`;

function differingTotals(till: readonly ZTotal[], held: readonly ZTotal[]): DayDifferences['totals'] {
  const rows = new Map<string, DayDifferences['totals'][number]>();
  const zero = { count: 0, amount: 0 };
  for (const r of till)
    rows.set(totalsKey(r), {
      type: r.type,
      currency: r.currency,
      till: { count: r.count, amount: r.amount },
      headOffice: zero,
    });
  for (const r of held) {
    const row = rows.get(totalsKey(r));
    const headOffice = { count: r.count, amount: r.amount };
    if (row) row.headOffice = headOffice;
    else rows.set(totalsKey(r), { type: r.type, currency: r.currency, till: zero, headOffice });
  }
  return [...rows.values()]
    .filter((r) => r.till.count !== r.headOffice.count || r.till.amount !== r.headOffice.amount)
    .sort((x, y) => TYPE_ORDER[x.type] - TYPE_ORDER[y.type] || x.currency.localeCompare(y.currency));
}

const firstOf = (ids: Iterable<string>) => [...ids].sort(naturalOrder).slice(0, LIST_LIMIT);

/**
 * Judges a till's close against what head office holds for that terminal and day. Pure: both hub stores
 * call it inside the transaction that stores the close or a late event of its day.
 * - `missing`: ids the till counted that head office does not hold: from the close's list of ids, else
 *   from its first..last range when the ids share a prefix and end in a number; a close naming only two
 *   ids that are no range still gets those two checked;
 * - `extra`: ids head office holds that the till did not count (only where the close lists or ranges them);
 * - `totals`: Z-report rows (type, currency) whose count or amount differs from head office's.
 * Confirmed when all three are empty.
 */
export function judgeDayClose(close: DayClose, held: HeldDay, at: string): DayResult {
  const differences: DayDifferences = {
    missing: [],
    extra: [],
    totals: differingTotals(close.totals, held.totals),
  };
  const holds = new Set(held.transactionIds);
  const counted = idsOfClose(close);
  if (counted) {
    const expected = new Set(counted);
    differences.missing = firstOf(counted.filter((id) => !holds.has(id)));
    differences.extra = firstOf(held.transactionIds.filter((id) => !expected.has(id)));
  } else {
    const ends = [close.firstTransactionId, close.lastTransactionId].filter((id) => id !== null);
    differences.missing = firstOf(new Set(ends.filter((id) => !holds.has(id))));
  }
  const confirmed =
    differences.missing.length === 0 && differences.extra.length === 0 && differences.totals.length === 0;
  return {
    terminalId: close.terminalId,
    businessDay: close.businessDay,
    state: confirmed ? 'confirmed' : 'mismatch',
    at,
    differences,
  };
}

/** Whether two verdicts say the same thing (their `at` aside): only a change is stored and published again. */
export const sameVerdict = (
  a: Pick<DayResult, 'state' | 'differences'>,
  b: Pick<DayResult, 'state' | 'differences'>,
): boolean => a.state === b.state && JSON.stringify(a.differences) === JSON.stringify(b.differences);

/**
 * Which of two closes of one till and day is in force: a corrected Z-report replaces the first, so the
 * later `closedAt` wins; on a tie, the later-captured event (ULIDs sort by time).
 */
export function isLaterClose(
  candidate: { closedAt: string; eventId: string },
  current: { closedAt: string; eventId: string },
): boolean {
  const [c, k] = [Date.parse(candidate.closedAt), Date.parse(current.closedAt)];
  return c !== k ? c > k : candidate.eventId > current.eventId;
}
