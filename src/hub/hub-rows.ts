import type { EpochSummary, EventRecord, EventStatus, IncomingEvent, QuarantineRecord } from './hub-store.js';

/**
 * Rows as either database returns them. PostgreSQL's driver gives BIGINT columns as strings (they may
 * exceed 2^53; ours never do), SQLite gives numbers: both become numbers here.
 */
type Int = number | string;

export interface EventRow {
  store_id: string;
  epoch: string;
  seq: Int;
  event_id: string;
  type: string | null;
  status: EventStatus;
  reason: string | null;
  terminal_id: string | null;
  transaction_id: string | null;
  business_day: string | null;
  captured_at: string | null;
  received_at: Int;
  body: string | null;
  moved_to_epoch: string | null;
  moved_to_seq: Int | null;
}

export interface QuarantineRow {
  store_id: string;
  epoch: string;
  seq: Int;
  event_id: string;
  reason: string;
  received_at: Int;
  body: string;
  moved_to_epoch: string | null;
  moved_to_seq: Int | null;
}

export interface StreamRow {
  store_id: string;
  epoch: string;
  first_seen: Int;
  last_seen: Int;
  contiguous_through: Int;
  highest_seq: Int;
  closed_at_seq: Int | null;
  next_epoch: string | null;
  closed_at: Int | null;
  stored: Int;
  rejected: Int;
  duplicates: Int;
  moved: Int;
}

/** Milliseconds since the Unix epoch (number or BIGINT string) as ISO-8601, null kept. */
export const isoFromMs = (ms: Int | null): string | null =>
  ms === null ? null : new Date(Number(ms)).toISOString();

const movedTo = (epoch: string | null, seq: Int | null) =>
  epoch !== null && seq !== null ? { epoch, seq: Number(seq) } : null;

/**
 * What goes into the body column: the exact text when it is JSON (the only kind a valid event has),
 * else a JSON string holding it. Either way the column holds JSON that the API and the export splice in
 * as it is, and the text survives a database that cannot hold every character raw (PostgreSQL text
 * refuses NUL; JSON.stringify escapes control characters and lone surrogates).
 */
export const storedBodyOf = (event: IncomingEvent): string =>
  event.bodyIsJson ? event.bodyText : JSON.stringify(event.bodyText);

export const toEventRecord = (r: EventRow): EventRecord => ({
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
  bodyJson: r.body,
  movedTo: movedTo(r.moved_to_epoch, r.moved_to_seq),
});

export const toQuarantineRecord = (r: QuarantineRow): QuarantineRecord => ({
  storeId: r.store_id,
  epoch: r.epoch,
  seq: Number(r.seq),
  eventId: r.event_id,
  reason: r.reason,
  receivedAt: isoFromMs(r.received_at)!,
  bodyJson: r.body,
  movedTo: movedTo(r.moved_to_epoch, r.moved_to_seq),
});

/** One epoch's summary from its hub_streams row (counters included) and its first gaps. */
export function toEpochSummary(r: StreamRow, gaps: EpochSummary['gaps']): EpochSummary {
  const lastSeq = Number(r.highest_seq);
  const contiguousThrough = Number(r.contiguous_through);
  const closed =
    r.closed_at_seq !== null && r.next_epoch !== null && r.closed_at !== null
      ? { lastSeq: Number(r.closed_at_seq), nextEpoch: r.next_epoch, at: isoFromMs(r.closed_at)! }
      : null;
  return {
    epoch: r.epoch,
    firstSeen: isoFromMs(r.first_seen)!,
    lastSeen: isoFromMs(r.last_seen)!,
    lastSeq,
    contiguousThrough,
    gaps,
    stored: Number(r.stored),
    rejected: Number(r.rejected),
    duplicates: Number(r.duplicates),
    moved: Number(r.moved),
    closed,
    // A second writer may still publish under a closed epoch (a cloned PC that has not noticed yet):
    // complete means every seq up to whichever is higher has a row.
    complete: closed !== null && contiguousThrough >= Math.max(closed.lastSeq, lastSeq),
  };
}

/** How many seqs above contiguous-through are read to list gaps: /v1/stores stays cheap for any history. */
export const GAP_SCAN_LIMIT = 10_000;
/** How many seqs above contiguous-through one step of advancing it reads. */
export const CONTIGUITY_STEP = 5_000;
