/**
 * Locale-aware formatting shared by the status window and the operator's console. Pure: the locale (and,
 * for tests, the time zone) is passed in, and the words for ages come from the page's own text module,
 * so the same inputs always give the same words.
 */
export interface Formatter {
  count(n: number): string;
  /** An amount in the currency's minor units (cents, pence, yen), e.g. 123456 EUR → "€1,234.56". */
  money(minorUnits: number, currency: string): string;
  /** A time of day ("10:42"), with the date when it is not the same day as `reference`. */
  clock(iso: string, reference: string): string;
  /** An age in words: "45 seconds", "14 minutes", "2 hours 5 minutes", "3 days". */
  age(seconds: number): string;
  percent(fraction: number): string;
  /** A time of day for a chart axis, from milliseconds since the epoch ("10:40"). */
  timeOfDay(ms: number): string;
}

/** The words an age is put in (a translation supplies its own). */
export interface AgeWords {
  seconds(n: number): string;
  minutes(n: number): string;
  hoursMinutes(h: number, m: number): string;
  days(n: number): string;
}

export function createFormatter(locale: string | undefined, words: AgeWords, timeZone?: string): Formatter {
  const numbers = new Intl.NumberFormat(locale);
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 0 });
  const time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone });
  const dateTime = new Intl.DateTimeFormat(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
  });
  const day = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    timeZone,
  });
  const currencies = new Map<string, Intl.NumberFormat>();

  const currencyFormat = (currency: string): Intl.NumberFormat | undefined => {
    let format = currencies.get(currency);
    if (!format) {
      try {
        format = new Intl.NumberFormat(locale, { style: 'currency', currency });
      } catch {
        return undefined; // not a currency this browser knows: shown as a plain number with its code
      }
      currencies.set(currency, format);
    }
    return format;
  };

  return {
    count: (n) => numbers.format(n),
    money(minorUnits, currency) {
      const format = currencyFormat(currency);
      // The currency's own minor unit: 2 digits for EUR, 0 for JPY, 3 for KWD.
      const digits = format?.resolvedOptions().maximumFractionDigits ?? 2;
      const major = minorUnits / 10 ** digits;
      return format ? format.format(major) : `${numbers.format(major)} ${currency}`;
    },
    clock(iso, reference) {
      const at = new Date(iso);
      if (Number.isNaN(at.getTime())) return iso;
      const sameDay = day.format(at) === day.format(new Date(reference));
      return (sameDay ? time : dateTime).format(at);
    },
    age(seconds) {
      const s = Math.max(0, Math.round(seconds));
      if (s < 60) return words.seconds(s);
      const minutes = Math.floor(s / 60);
      if (minutes < 60) return words.minutes(minutes);
      const hours = Math.floor(minutes / 60);
      if (hours < 48) return words.hoursMinutes(hours, minutes % 60);
      return words.days(Math.floor(hours / 24));
    },
    percent: (fraction) => percent.format(fraction),
    timeOfDay: (ms) => time.format(new Date(ms)),
  };
}
