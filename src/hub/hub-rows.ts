import type { EventStatus, StoredEvent } from './hub-store.js';

/**
 * A hub_events row as either database returns it. PostgreSQL's driver gives BIGINT columns as strings
 * (they may exceed 2^53; ours never do), SQLite gives numbers: both become numbers here.
 */
export interface EventRow {
  store_id: string;
  epoch: string;
  seq: number | string;
  event_id: string;
  type: string;
  status: EventStatus;
  reason: string | null;
  terminal_id: string | null;
  transaction_id: string | null;
  business_day: string | null;
  captured_at: string;
  received_at: number | string;
  body: string;
}

/** Milliseconds since the Unix epoch (number or BIGINT string) as ISO-8601, null kept. */
export const isoFromMs = (ms: string | number | null): string | null =>
  ms === null ? null : new Date(Number(ms)).toISOString();

export const toStoredEvent = (r: EventRow): StoredEvent => ({
  storeId: r.store_id,
  epoch: r.epoch,
  seq: Number(r.seq),
  eventId: r.event_id,
  type: r.type,
  status: r.status,
  reason: r.reason,
  terminalId: r.terminal_id,
  transactionId: r.transaction_id,
  businessDay: r.business_day,
  capturedAt: r.captured_at,
  receivedAt: isoFromMs(r.received_at)!,
  body: JSON.parse(r.body) as unknown,
});
