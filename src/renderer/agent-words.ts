import type { Problem } from '../contracts/status.js';
import type { LogNotice, WordParams } from '../contracts/window-api.js';
import type { Formatter } from './format.js';
import { text } from './text.js';

/**
 * The agent's notices and problems in the window's own words (text.ts), by their code. The agent sends
 * its English words too: they are shown for a code this window has no words for (an agent newer than the
 * window), and for a problem that comes without its blanks (a problem whose words depend on what another
 * part said in English: the broker's diagnosis, a refused promotion's reason, a till's day). Pure.
 */

/** An instant among the blanks: told on the store's clock like every time in the window. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function blanks(params: WordParams, now: string, format: Formatter) {
  const p: Record<string, string> = {};
  const n: Record<string, number> = {};
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'number') {
      p[name] = format.count(value);
      n[name] = value;
    } else p[name] = INSTANT.test(value) ? format.clock(value, now) : value;
  }
  return [p, n] as const;
}

export function noticeWords(notice: LogNotice, now: string, format: Formatter): string {
  const words = text.notices.words[notice.code];
  return words ? words(...blanks(notice.params, now, format)) : notice.message;
}

export function problemWords(
  problem: Problem,
  now: string,
  format: Formatter,
): { message: string; action: string } {
  const words = text.problems.words[problem.code];
  if (!words || !problem.params) return { message: problem.message, action: problem.action };
  const [p, n] = blanks(problem.params, now, format);
  return { message: words.message(p, n), action: words.action(p, n) };
}
