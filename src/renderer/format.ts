import { createFormatter as createUiFormatter, type Formatter } from '../ui/format.js';
import { text } from './text.js';

/**
 * Locale-aware formatting for the window: the formatter shared with the operator's console
 * (src/ui/format.ts), with the window's own words for ages. Pure: the locale (and, for tests, the time
 * zone) is passed in, so the same inputs always give the same words.
 */
export type { Formatter };

export const createFormatter = (locale: string | undefined, timeZone?: string): Formatter =>
  createUiFormatter(locale, text.age, timeZone);
