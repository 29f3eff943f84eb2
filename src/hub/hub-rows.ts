import type { StoreStatusMessage } from '../contracts/sync-messages.js';
import type { DayResult } from '../contracts/day-close.js';
import type { CloseFacts, ClosePlan } from './classify-close.js';
import { transactionKey, type Classification, type ExistingFacts } from './classify-events.js';
import type { ResendRow } from './day-rows.js';
import type {
  CloseOutcome,
  EpochSummary,
  EventRecord,
  EventStatus,
  IncomingEvent,
  InsertOutcome,
  MovedTo,
  QuarantineRecord,
  QuarantinedSeq,
  ResendState,
  StoreSummary,
} from './hub-store.js';
import { splitGaps, unrecoverableRange } from './resend-rules.js';

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

export interface StoreRow {
  store_id: string;
  current_epoch: string | null;
  last_seen: Int | null;
  /** SQLite: 0/1; PostgreSQL: boolean. */
  online: number | boolean;
  reported_backlog: number | null;
  agent_version: string | null;
  quarantined: number;
  oldest_unsent_at: string | null;
  unsent_by_day: string | null;
  acked: string | null;
}

/** The event types `outpost hub export` writes: the POS's transactions (a till's close is not one). */
export const EXPORTED_TYPES_SQL = "('sale', 'return', 'void')";

/** What a store status says of its unsent events and acknowledgements, as the hub_stores columns hold it. */
export const statusFields = (status: StoreStatusMessage) => ({
  oldestUnsentAt: status.oldestUnsentAt ?? null,
  unsentByDay: status.unsentByDay ? JSON.stringify(status.unsentByDay) : null,
  acked: status.acked ? JSON.stringify(status.acked) : null,
});

export const toStoreSummary = (s: StoreRow, epochs: EpochSummary[]): StoreSummary => ({
  storeId: s.store_id,
  currentEpoch: s.current_epoch,
  online: s.online === true || s.online === 1,
  lastSeen: isoFromMs(s.last_seen),
  reportedBacklog: s.reported_backlog,
  agentVersion: s.agent_version,
  quarantined: s.quarantined,
  oldestUnsentAt: s.oldest_unsent_at,
  unsentByDay: s.unsent_by_day === null ? null : (JSON.parse(s.unsent_by_day) as StoreSummary['unsentByDay']),
  acked: s.acked === null ? null : (JSON.parse(s.acked) as StoreSummary['acked']),
  epochs,
});

/** Milliseconds since the Unix epoch (number or BIGINT string) as ISO-8601, null kept. */
export const isoFromMs = (ms: Int | null): string | null =>
  ms === null ? null : new Date(Number(ms)).toISOString();

/** A row's moved_to_epoch and moved_to_seq as the place its event went, or null. */
export const movedToOf = (epoch: string | null, seq: Int | null): MovedTo | null =>
  epoch !== null && seq !== null ? { epoch, seq: Number(seq) } : null;

/** What a close lookup reads at the moved seqs: the epoch's rows, and its quarantined copies. */
export interface CloseSeqRow {
  seq: Int;
  event_id: string;
  status: EventStatus;
  moved_to_epoch: string | null;
  moved_to_seq: Int | null;
}
export type CloseCopyRow = Omit<CloseSeqRow, 'status'>;

/** A close part's facts from either database's rows (the SQL that reads them is per dialect). */
export function closeFactsOf(rows: readonly CloseSeqRow[], copies: readonly CloseCopyRow[]): CloseFacts {
  const facts: CloseFacts = { bySeq: new Map(), quarantinedBySeq: new Map() };
  for (const r of rows) {
    facts.bySeq.set(Number(r.seq), {
      eventId: r.event_id,
      status: r.status,
      movedTo: movedToOf(r.moved_to_epoch, r.moved_to_seq),
    });
  }
  for (const r of copies) {
    const seq = Number(r.seq);
    const list = facts.quarantinedBySeq.get(seq) ?? [];
    list.push({ eventId: r.event_id, movedTo: movedToOf(r.moved_to_epoch, r.moved_to_seq) });
    facts.quarantinedBySeq.set(seq, list);
  }
  return facts;
}

/** What the ingest lookups read: rows at the batch's seqs, stored events by eventId and by POS transaction. */
export interface SeqFactRow {
  seq: Int;
  event_id: string;
  body_hash: string | null;
  status: EventStatus;
}
export interface EventIdFactRow {
  event_id: string;
  epoch: string;
  seq: Int;
}
export interface TransactionFactRow {
  terminal_id: string;
  transaction_id: string;
  epoch: string;
  seq: Int;
  body_hash: string;
  body: string;
}

/** A batch's facts from either database's rows, with the epoch's contiguous-through before it. */
export function existingFactsOf(
  bySeq: readonly SeqFactRow[],
  byEventId: readonly EventIdFactRow[],
  byTransaction: readonly TransactionFactRow[],
  heldThrough: Int,
): ExistingFacts {
  const facts: ExistingFacts = {
    bySeq: new Map(),
    storedByEventId: new Map(),
    storedByTransaction: new Map(),
    heldThrough: Number(heldThrough),
  };
  for (const r of bySeq)
    facts.bySeq.set(Number(r.seq), { eventId: r.event_id, bodyHash: r.body_hash, status: r.status });
  for (const r of byEventId) facts.storedByEventId.set(r.event_id, { epoch: r.epoch, seq: Number(r.seq) });
  for (const r of byTransaction) {
    facts.storedByTransaction.set(transactionKey(r.terminal_id, r.transaction_id), {
      epoch: r.epoch,
      seq: Number(r.seq),
      bodyHash: r.body_hash,
      bodyText: r.body,
    });
  }
  return facts;
}

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
  movedTo: movedToOf(r.moved_to_epoch, r.moved_to_seq),
});

export const toQuarantineRecord = (r: QuarantineRow): QuarantineRecord => ({
  storeId: r.store_id,
  epoch: r.epoch,
  seq: Number(r.seq),
  eventId: r.event_id,
  reason: r.reason,
  receivedAt: isoFromMs(r.received_at)!,
  bodyJson: r.body,
  movedTo: movedToOf(r.moved_to_epoch, r.moved_to_seq),
});

const toResendState = (r: ResendRow): ResendState => ({
  requestId: r.request_id,
  fromSeq: Number(r.from_seq),
  ackedThrough: Number(r.acked_through),
  askedAt: isoFromMs(r.first_asked_at)!,
  lastAskedAt: isoFromMs(r.last_asked_at)!,
  asks: Number(r.asks),
  answeredAt: isoFromMs(r.reported_at),
  availableFrom: r.available_from === null ? null : Number(r.available_from),
  storeThrough: r.store_through === null ? null : Number(r.store_through),
});

/**
 * One epoch's summary from its hub_streams row (counters included), its first gaps, and the resends
 * asked of it (every resend row of the hub; those of this epoch are picked here).
 */
export function toEpochSummary(
  r: StreamRow,
  missing: EpochSummary['gaps'],
  resends: readonly ResendRow[] = [],
): EpochSummary {
  const mine = resends.filter((q) => q.store_id === r.store_id && q.epoch === r.epoch);
  const lost = mine.flatMap((q) => {
    const range = unrecoverableRange({
      fromSeq: Number(q.from_seq),
      reportedAt: q.reported_at === null ? null : Number(q.reported_at),
      availableFrom: q.available_from === null ? null : Number(q.available_from),
      storeThrough: q.store_through === null ? null : Number(q.store_through),
    });
    return range ? [range] : [];
  });
  const latest = mine.reduce<ResendRow | undefined>(
    (a, q) => (!a || Number(q.last_asked_at) > Number(a.last_asked_at) ? q : a),
    undefined,
  );
  const { gaps, unrecoverable } = splitGaps(missing, lost, Number(r.highest_seq));
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
    unrecoverable,
    resend: latest ? toResendState(latest) : null,
  };
}

/** How many seqs above contiguous-through are read to list gaps: /v1/stores stays cheap for any history. */
export const GAP_SCAN_LIMIT = 10_000;
/** How many seqs above contiguous-through one step of advancing it reads. */
export const CONTIGUITY_STEP = 5_000;

/** A hub_streams row's positions as numbers: what the write rules (classify-*.ts) read. */
export const streamState = (r: StreamRow) => ({
  contiguousThrough: Number(r.contiguous_through),
  highestSeq: Number(r.highest_seq),
  closedAtSeq: r.closed_at_seq === null ? null : Number(r.closed_at_seq),
});

/** What a committed batch tells ingest (and, through it, the store), as both hub stores build it. */
export function insertOutcome(
  plan: Classification,
  written: {
    contiguous: number;
    highest: number;
    quarantined: readonly QuarantinedSeq[];
    stream: Pick<StreamRow, 'next_epoch'>;
    days: readonly DayResult[];
  },
): InsertOutcome {
  return {
    ackedThrough: written.contiguous,
    highestSeq: written.highest,
    rejected: plan.rejected,
    conflicts: plan.conflicts,
    stored: plan.stored,
    duplicates: plan.duplicates,
    ...(written.stream.next_epoch !== null ? { closedTowards: written.stream.next_epoch } : {}),
    ...(written.days.length > 0 ? { days: [...written.days] } : {}),
    ...(written.quarantined.length > 0 ? { quarantined: [...written.quarantined] } : {}),
  };
}

/** What a committed close part tells ingest, as both hub stores build it. */
export const closeOutcome = (
  plan: ClosePlan,
  written: { contiguous: number; highestSeq: number; closedAtSeq: number },
): CloseOutcome => ({
  ackedThrough: written.contiguous,
  highestSeq: written.highestSeq,
  moved: plan.movedRows.length,
  markedInQuarantine: plan.markInQuarantine.length,
  alreadyHeld: plan.alreadyHeld,
  unmatched: plan.unmatched,
  closedAtSeq: written.closedAtSeq,
});
