import type { StoreStatusMessage } from '../contracts/sync-messages.js';

/**
 * What of the retained status is worth publishing again at once when it changes, as a comparable key.
 * Head office reads from it whether a business day may still grow (a day appears in or leaves
 * `unsentByDay`), whether anything waits at all, which epochs the store still has, and the answers to its
 * commands (an operator waits for them). Counts, ages and how far each epoch is acknowledged change with
 * every sale and every acknowledgement: they ride on the periodic refresh, or a store draining its
 * backlog would publish its status as fast as its acknowledgements come. Pure.
 */
export function statusChangeKey(status: StoreStatusMessage): string {
  return JSON.stringify([
    status.state,
    status.epoch ?? null,
    (status.backlog ?? 0) > 0,
    (status.acked ?? []).map((a) => a.epoch),
    (status.unsentByDay ?? []).map((d) => d.businessDay),
    (status.commands ?? []).map((c) => [c.requestId, c.outcome]),
  ]);
}
