import type { DayDifferences, ZTotal } from '../contracts/day-close.js';
import type { DayStatus, Problem, TillDayStatus } from '../contracts/status.js';
import type { TillDay } from '../sync/index.js';

/**
 * The business days part of the store's status, in plain words for the store manager: per day, what the
 * tills' Z-reports counted and whether head office confirmed it, or which till is short, by how much, and
 * which transactions head office is missing. Pure: the same rows, time zone and locale give the same words.
 */

export interface DayWords {
  /** The store's IANA time zone: head office's verdict times are told on the store's clock. */
  timeZone: string;
  /** Defaults to en-GB ("Tuesday 24 November", "€1,234.50"). */
  locale?: string;
}

/** Ids named in one message at most; the rest are counted. */
const IDS_NAMED = 5;

const TYPE_WORDS: Record<ZTotal['type'], [string, string]> = {
  sale: ['sale', 'sales'],
  return: ['return', 'returns'],
  void: ['void', 'voids'],
};

function formatters(words: DayWords) {
  const locale = words.locale ?? 'en-GB';
  const numbers = new Intl.NumberFormat(locale);
  const currencies = new Map<string, Intl.NumberFormat>();
  const money = (minor: number, currency: string): string => {
    let format = currencies.get(currency);
    if (!format) {
      format = new Intl.NumberFormat(locale, { style: 'currency', currency });
      currencies.set(currency, format);
    }
    // The currency's own minor unit: 2 digits for EUR, 0 for JPY, 3 for KWD.
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minor / 10 ** digits);
  };
  // A business day is a calendar date: named as such, whatever the zone.
  const dayName = new Intl.DateTimeFormat(locale, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    timeZone: 'UTC',
  });
  const time = new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: words.timeZone,
  });
  const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: words.timeZone });
  const shortDate = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'long',
    timeZone: words.timeZone,
  });
  return {
    money,
    /** "1 sale", "1,234 sales". */
    counted: (n: number, type: ZTotal['type']) => `${numbers.format(n)} ${TYPE_WORDS[type][n === 1 ? 0 : 1]}`,
    day: (businessDay: string) => dayName.format(new Date(`${businessDay}T12:00:00Z`)),
    /** "at 02:10" the day itself or the morning after; "on 26 November at 02:10" later. */
    judged(at: number, businessDay: string) {
      const date = localDate.format(new Date(at));
      const next = new Date(Date.parse(`${businessDay}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const when = `at ${time.format(new Date(at))}`;
      return date === businessDay || date === next ? when : `on ${shortDate.format(new Date(at))} ${when}`;
    },
  };
}

type Formatters = ReturnType<typeof formatters>;

/** "1,234 sales, €45,678.90; 7 returns, €45.60" over the tills' Z totals, in a stable order. */
function countedWords(totals: readonly ZTotal[], f: Formatters): string {
  const byType = new Map<ZTotal['type'], { count: number; amounts: Map<string, number> }>();
  for (const row of totals) {
    const entry = byType.get(row.type) ?? { count: 0, amounts: new Map<string, number>() };
    entry.count += row.count;
    entry.amounts.set(row.currency, (entry.amounts.get(row.currency) ?? 0) + row.amount);
    byType.set(row.type, entry);
  }
  const parts = (['sale', 'return', 'void'] as const)
    .filter((type) => byType.has(type))
    .map((type) => {
      const { count, amounts } = byType.get(type)!;
      const money = [...amounts]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .filter(([, amount]) => type !== 'void' || amount !== 0)
        .map(([currency, amount]) => f.money(amount, currency));
      return money.length > 0 ? `${f.counted(count, type)}, ${money.join(' and ')}` : f.counted(count, type);
    });
  return parts.length > 0 ? parts.join('; ') : 'no sales';
}

const named = (ids: readonly string[]) =>
  ids.slice(0, IDS_NAMED).join(', ') + (ids.length > IDS_NAMED ? ` and ${ids.length - IDS_NAMED} more` : '');

/** What head office found different for one till, in words: short or over, by how much, which ids. */
export function differenceWords(
  differences: DayDifferences,
  f: Formatters = formatters({ timeZone: 'UTC' }),
) {
  const parts: string[] = [];
  for (const row of differences.totals) {
    const count = row.till.count - row.headOffice.count;
    const amount = row.till.amount - row.headOffice.amount;
    const money = amount === 0 ? '' : ` (${f.money(Math.abs(amount), row.currency)})`;
    if (count > 0) parts.push(`short ${f.counted(count, row.type)}${money}`);
    else if (count < 0) parts.push(`${f.counted(-count, row.type)} more than the till counted${money}`);
    else if (amount !== 0)
      parts.push(
        `${TYPE_WORDS[row.type][1]} in ${row.currency} ${amount > 0 ? 'short' : 'over'} by ${f.money(Math.abs(amount), row.currency)}`,
      );
  }
  if (differences.missing.length > 0) parts.push(`missing at head office: ${named(differences.missing)}`);
  if (differences.extra.length > 0) parts.push(`not on the Z-report: ${named(differences.extra)}`);
  return parts.length > 0 ? parts.join('; ') : 'head office does not agree with the Z-report';
}

function tillStatus(till: TillDay, f: Formatters): TillDayStatus {
  const verdict = till.verdict;
  const judged = verdict !== null && !(verdict.stale && till.close !== null);
  const state: TillDayStatus['state'] = judged ? verdict.state : 'awaiting';
  const totals = till.close?.totals ?? [];
  let message: string;
  if (state === 'awaiting')
    message = `Till ${till.terminalId} closed the day (${countedWords(totals, f)}); waiting for head office to confirm.`;
  else if (state === 'confirmed')
    message = `Till ${till.terminalId}: ${countedWords(totals, f)}, confirmed by head office ${f.judged(verdict!.at, till.businessDay)}.`;
  else
    message = `Till ${till.terminalId} does not match head office: ${differenceWords(verdict!.differences, f)}.`;
  return {
    terminalId: till.terminalId,
    state,
    closedAt: till.close ? new Date(till.close.closedAt).toISOString() : null,
    zNumber: till.close?.zNumber ?? null,
    totals,
    judgedAt: verdict ? new Date(verdict.at).toISOString() : null,
    differences: state === 'mismatch' ? verdict!.differences : null,
    message,
  };
}

function dayMessage(
  businessDay: string,
  tills: readonly TillDayStatus[],
  rows: readonly TillDay[],
  f: Formatters,
) {
  const label = f.day(businessDay);
  const counted = countedWords(
    rows.flatMap((r) => r.close?.totals ?? []),
    f,
  );
  const mismatched = tills.filter((t) => t.state === 'mismatch');
  const awaiting = tills.filter((t) => t.state === 'awaiting');
  const confirmed = tills.filter((t) => t.state === 'confirmed');
  if (mismatched.length > 0) {
    const which = mismatched
      .map((t) => `till ${t.terminalId} does not match head office: ${differenceWords(t.differences!, f)}`)
      .join('. ');
    const rest = [
      confirmed.length > 0 ? `${confirmed.map((t) => t.terminalId).join(', ')} confirmed` : '',
      awaiting.length > 0 ? `${awaiting.map((t) => t.terminalId).join(', ')} waiting for head office` : '',
    ].filter(Boolean);
    return `${label}: ${which}${rest.length > 0 ? `. ${rest.join('; ')}` : ''}.`;
  }
  if (awaiting.length > 0) {
    const done = confirmed.length > 0 ? `; ${confirmed.map((t) => t.terminalId).join(', ')} confirmed` : '';
    return `${label}: ${counted}; waiting for head office to confirm ${awaiting.map((t) => t.terminalId).join(', ')}${done}.`;
  }
  const latest = Math.max(...tills.map((t) => Date.parse(t.judgedAt!)));
  return `${label}: ${counted}, confirmed by head office ${f.judged(latest, businessDay)}.`;
}

/** The days part of the status from the tills' days (newest first, as the outbox lists them). */
export function buildDaysStatus(rows: readonly TillDay[], words: DayWords): DayStatus[] {
  const f = formatters(words);
  const byDay = new Map<string, TillDay[]>();
  for (const row of rows) byDay.set(row.businessDay, [...(byDay.get(row.businessDay) ?? []), row]);
  return [...byDay]
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))
    .map(([businessDay, dayRows]) => {
      const tills = dayRows
        .sort((a, b) => (a.terminalId < b.terminalId ? -1 : a.terminalId > b.terminalId ? 1 : 0))
        .map((row) => tillStatus(row, f));
      const state: DayStatus['state'] = tills.some((t) => t.state === 'mismatch')
        ? 'mismatch'
        : tills.some((t) => t.state === 'awaiting')
          ? 'awaiting'
          : 'confirmed';
      return { businessDay, state, message: dayMessage(businessDay, tills, dayRows, f), tills };
    });
}

/** A day head office does not confirm is something the store manager should act on. */
export function dayProblems(days: readonly DayStatus[]): Problem[] {
  return days
    .filter((d) => d.state === 'mismatch')
    .map((d) => ({
      code: 'day-mismatch',
      severity: 'warning' as const,
      message: d.message,
      action:
        "Check that till's receipts for the transactions head office is missing: a sale the till made but never sent " +
        'must be sent again from the till. If the Z-report itself was wrong, close the day again with the corrected ' +
        'one. Call support if it does not clear.',
    }));
}
