/**
 * Instants told as the store's staff read them: on the store's clock (its IANA time zone), the time alone
 * for today, "yesterday" and the weekday for the days just gone, the date beyond. Pure: the same instant,
 * reference, zone and locale always give the same words.
 */
export interface StoreTimeWords {
  /** "since 10:42", "since yesterday 18:05", "since Monday 18:05", "since 24 November 18:05". */
  since(at: number, now: number): string;
  /** "at 10:42", "yesterday at 18:05", "on Monday at 18:05", "on 24 November at 18:05". */
  at(at: number, now: number): string;
}

const DAY_MS = 86_400_000;
/** Within a week the weekday is unambiguous; beyond, the date is named. */
const WEEKDAY_WITHIN_DAYS = 6;

export function storeTimeWords(timeZone: string, locale = 'en-GB'): StoreTimeWords {
  const time = new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
  });
  const weekday = new Intl.DateTimeFormat(locale, { weekday: 'long', timeZone });
  const date = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'long', timeZone });
  const dateAndYear = new Intl.DateTimeFormat(locale, {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone,
  });
  const calendarDay = new Intl.DateTimeFormat('en-CA', { timeZone });

  /** The store's calendar date of an instant, as midnight UTC of that date (for whole-day differences). */
  const dayOf = (ms: number) => Date.parse(`${calendarDay.format(new Date(ms))}T00:00:00Z`);

  /** The day part ("yesterday", "Monday", "24 November"), or null for today; with its preposition for `at`. */
  const day = (at: number, now: number): { word: string; on: string } | null => {
    const daysAgo = Math.round((dayOf(now) - dayOf(at)) / DAY_MS);
    if (daysAgo === 0) return null;
    if (daysAgo === 1) return { word: 'yesterday', on: 'yesterday' };
    const instant = new Date(at);
    const word =
      daysAgo > 1 && daysAgo <= WEEKDAY_WITHIN_DAYS
        ? weekday.format(instant)
        : (new Date(dayOf(at)).getUTCFullYear() === new Date(dayOf(now)).getUTCFullYear()
            ? date
            : dateAndYear
          ).format(instant);
    return { word, on: `on ${word}` };
  };

  return {
    since(at, now) {
      const d = day(at, now);
      return `since ${d ? `${d.word} ` : ''}${time.format(new Date(at))}`;
    },
    at(at, now) {
      const d = day(at, now);
      return `${d ? `${d.on} ` : ''}at ${time.format(new Date(at))}`;
    },
  };
}
