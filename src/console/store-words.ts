import type { ConsoleStore } from '../contracts/console-api.js';
import type { Formatter } from './format.js';
import { text } from './text.js';

/**
 * A store's row in words, pure so it is tested without a browser: connection state, what waits at the
 * store, and why it needs attention.
 */

export function connectionWords(store: ConsoleStore, now: string, format: Formatter): string {
  if (store.since === null && store.lastSeen === null) return text.state.neverReported;
  if (store.online)
    return store.since ? text.state.onlineSince(format.clock(store.since, now)) : text.state.online;
  return store.since ? text.state.offlineSince(format.clock(store.since, now)) : text.state.offline;
}

export function waitingWords(store: ConsoleStore, now: string, format: Formatter): string {
  if (store.backlog === null) return text.waiting.unknown;
  if (store.backlog === 0) return text.waiting.nothing;
  const count = text.waiting.count(format.count(store.backlog), store.backlog);
  if (!store.oldestUnsentAt) return count;
  const age = (Date.parse(now) - Date.parse(store.oldestUnsentAt)) / 1000;
  return Number.isNaN(age) ? count : `${count}, ${text.waiting.oldest(format.age(age))}`;
}

export function attentionWords(store: ConsoleStore): string[] {
  return store.attention.reasons.map((r) => text.attention.reason[r.kind](r.count));
}
