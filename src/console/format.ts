import { createFormatter as createUiFormatter, type Formatter } from '../ui/format.js';
import { text } from './text.js';

export type { Formatter };

/** The console's formatter: the shared one, with the console's words for ages. */
export const createFormatter = (locale: string | undefined, timeZone?: string): Formatter =>
  createUiFormatter(locale, text.age, timeZone);
