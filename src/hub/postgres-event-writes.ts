import type pg from 'pg';
import type { EpochClose } from '../contracts/sync-messages.js';
import type { ExistingFacts, RowToInsert } from './classify-events.js';
import { movedFiledOn, type BatchFiling } from './event-filing.js';
import type { CloseFacts } from './classify-close.js';
import type { CommitWatch, IncomingEvent, QuarantinedSeq } from './hub-store.js';
import {
  closeFactsOf,
  existingFactsOf,
  storedBodyOf,
  type CloseCopyRow,
  type CloseSeqRow,
  type EventIdFactRow,
  type SeqFactRow,
  type StreamRow,
  type TransactionFactRow,
} from './hub-rows.js';

/**
 * The statements of PostgreSQL's ingest transaction that touch hub_events, written for few round trips
 * (each is one on the hub's busiest path): the locks in one statement, the lookups in one, the rows in
 * one prepared statement per batch.
 */

/**
 * Locks the store's hub_stores row, then its epoch's hub_streams row (creating either if new), and
 * returns the stream row as it stands: every write of a store takes its locks in this order, so writes of
 * one store are judged one after the other, each seeing what the previous one committed, whichever epoch
 * or hub they come from. (The unique indexes of a partitioned table span one month only: what keeps an
 * eventId or a POS transaction from being stored twice by two hubs at once is this lock.) The data-
 * modifying CTE runs first: the stream insert reads its output.
 */
const LOCK_FOR_BATCH = `
  WITH store AS (
    INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ($1, $2, $3, 0)
    ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
      current_epoch = coalesce(hub_stores.current_epoch, excluded.current_epoch)
    RETURNING store_id)
  INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
  SELECT store_id, $2, $3, $3, 0, 0 FROM store
  ON CONFLICT (store_id, epoch) DO UPDATE SET last_seen = excluded.last_seen
  RETURNING *`;

/** The same locks for an epoch close: the store's current epoch becomes the next one if it was this one. */
const LOCK_FOR_CLOSE = `
  WITH store AS (
    INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ($1, $4, $3, 0)
    ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
      current_epoch = CASE WHEN hub_stores.current_epoch IS NULL OR hub_stores.current_epoch = $2
        THEN excluded.current_epoch ELSE hub_stores.current_epoch END
    RETURNING store_id)
  INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
  SELECT store_id, $2, $3, $3, 0, 0 FROM store
  ON CONFLICT (store_id, epoch) DO UPDATE SET last_seen = excluded.last_seen
  RETURNING *`;

export async function lockStoreStream(
  c: pg.PoolClient,
  storeId: string,
  epoch: string,
  receivedAt: number,
  closing: EpochClose['close'] | null,
  watch?: CommitWatch,
): Promise<StreamRow> {
  watch?.('the store epoch lock');
  const { rows } = closing
    ? await c.query<StreamRow>({
        name: 'outpost-lock-close',
        text: LOCK_FOR_CLOSE,
        values: [storeId, epoch, receivedAt, closing.nextEpoch],
      })
    : await c.query<StreamRow>({
        name: 'outpost-lock-batch',
        text: LOCK_FOR_BATCH,
        values: [storeId, epoch, receivedAt],
      });
  watch?.('its statements');
  return rows[0]!;
}

/**
 * Every lookup a batch needs, in one round trip. Each probes an index once per element (LATERAL …
 * LIMIT 1 keeps the planner from a scan of the store's whole history: on a table whose statistics lag
 * behind its growth, `= ANY` and plain joins were planned as bitmap or hash scans, 20–60 ms per
 * 500-event batch at 50,000 events and growing). The eventId and transaction probes of a valid event
 * search the month it is filed under (event-filing.ts); a refused event's eventId, every month.
 *
 * Two forms of the same lookups. Usually every valid event of a batch is filed in one month: its bounds
 * are plain parameters, PostgreSQL prunes the other months once when the statement starts, and each
 * probe is one index descent (measured: half the server CPU of pruning per probe). A batch spanning
 * months (sales either side of midnight at a month's end) carries each event's month, pruned per probe.
 */
const SEQ_FACTS = `
  SELECT 's' AS kind, e.seq, e.event_id, e.body_hash, e.status, NULL AS epoch, NULL AS terminal_id,
    NULL AS transaction_id, NULL AS body
  FROM unnest($3::bigint[]) AS b(seq)
  CROSS JOIN LATERAL (SELECT seq, event_id, body_hash, status FROM hub_events
                      WHERE store_id = $1 AND epoch = $2 AND seq = b.seq LIMIT 1) e
  UNION ALL
  SELECT 'e', e.seq, e.event_id, NULL, NULL, e.epoch, NULL, NULL, NULL
  FROM unnest($4::text[]) AS b(event_id)
  CROSS JOIN LATERAL (SELECT event_id, epoch, seq FROM hub_events
                      WHERE status = 'stored' AND event_id = b.event_id LIMIT 1) e`;

const FACTS_ONE_MONTH = `${SEQ_FACTS}
  UNION ALL
  SELECT 'e', e.seq, e.event_id, NULL, NULL, e.epoch, NULL, NULL, NULL
  FROM unnest($5::text[]) AS b(event_id)
  CROSS JOIN LATERAL (SELECT event_id, epoch, seq FROM hub_events
                      WHERE status = 'stored' AND event_id = b.event_id
                        AND filed_on >= $8::date AND filed_on < $9::date LIMIT 1) e
  UNION ALL
  SELECT 't', e.seq, NULL, e.body_hash, NULL, e.epoch, e.terminal_id, e.transaction_id, e.body
  FROM unnest($6::text[], $7::text[]) AS b(terminal_id, transaction_id)
  CROSS JOIN LATERAL (SELECT terminal_id, transaction_id, epoch, seq, body_hash, body FROM hub_events
                      WHERE store_id = $1 AND status = 'stored' AND terminal_id = b.terminal_id
                        AND transaction_id = b.transaction_id
                        AND filed_on >= $8::date AND filed_on < $9::date LIMIT 1) e`;

const FACTS_BY_MONTH = `${SEQ_FACTS}
  UNION ALL
  SELECT 'e', e.seq, e.event_id, NULL, NULL, e.epoch, NULL, NULL, NULL
  FROM unnest($5::text[], $6::int[]) AS b(event_id, month)
  CROSS JOIN LATERAL (SELECT event_id, epoch, seq FROM hub_events
                      WHERE status = 'stored' AND event_id = b.event_id
                        AND filed_on >= ($10::date[])[b.month] AND filed_on < ($11::date[])[b.month] LIMIT 1) e
  UNION ALL
  SELECT 't', e.seq, NULL, e.body_hash, NULL, e.epoch, e.terminal_id, e.transaction_id, e.body
  FROM unnest($7::text[], $8::text[], $9::int[]) AS b(terminal_id, transaction_id, month)
  CROSS JOIN LATERAL (SELECT terminal_id, transaction_id, epoch, seq, body_hash, body FROM hub_events
                      WHERE store_id = $1 AND status = 'stored' AND terminal_id = b.terminal_id
                        AND transaction_id = b.transaction_id
                        AND filed_on >= ($10::date[])[b.month] AND filed_on < ($11::date[])[b.month] LIMIT 1) e`;

type FactRow = {
  kind: 's' | 'e' | 't';
  seq: string;
  event_id: string | null;
  body_hash: string | null;
  status: SeqFactRow['status'] | null;
  epoch: string | null;
  terminal_id: string | null;
  transaction_id: string | null;
  body: string | null;
};

/** What the database holds that bears on a batch (classify-events.ts), read under the locks above. */
export async function readFacts(
  c: pg.PoolClient,
  storeId: string,
  epoch: string,
  events: readonly IncomingEvent[],
  filing: BatchFiling,
  seqsHeld: readonly number[],
  stream: StreamRow,
): Promise<ExistingFacts> {
  // A refused event is looked for everywhere, and only by its eventId (classify-events.ts asks no more
  // of it); a valid one in its month, by eventId and by POS transaction.
  const refused = events.flatMap((e) => (e.invalidReason !== undefined ? [e.eventId] : []));
  const valid = events.flatMap((e, i) => (e.invalidReason === undefined ? [i] : []));
  const keyed = valid.filter((i) => events[i]!.terminalId && events[i]!.transactionId);
  const months = new Set(valid.map((i) => filing.range[i]!));
  const [month] = months;
  const { rows } =
    months.size <= 1
      ? await c.query<FactRow>({
          name: 'outpost-facts-one-month',
          text: FACTS_ONE_MONTH,
          values: [
            storeId,
            epoch,
            seqsHeld,
            refused,
            valid.map((i) => events[i]!.eventId),
            keyed.map((i) => events[i]!.terminalId),
            keyed.map((i) => events[i]!.transactionId),
            filing.months[month ?? 0]!.from,
            filing.months[month ?? 0]!.to,
          ],
        })
      : await c.query<FactRow>({
          name: 'outpost-facts-by-month',
          text: FACTS_BY_MONTH,
          values: [
            storeId,
            epoch,
            seqsHeld,
            refused,
            valid.map((i) => events[i]!.eventId),
            // Months travel once; events name theirs by (1-based) index.
            valid.map((i) => filing.range[i]! + 1),
            keyed.map((i) => events[i]!.terminalId),
            keyed.map((i) => events[i]!.transactionId),
            keyed.map((i) => filing.range[i]! + 1),
            filing.months.map((m) => m.from),
            filing.months.map((m) => m.to),
          ],
        });
  const bySeq: SeqFactRow[] = [];
  const byEventId: EventIdFactRow[] = [];
  const byTransaction: TransactionFactRow[] = [];
  for (const r of rows) {
    if (r.kind === 's')
      bySeq.push({ seq: r.seq, event_id: r.event_id!, body_hash: r.body_hash, status: r.status! });
    else if (r.kind === 'e') byEventId.push({ event_id: r.event_id!, epoch: r.epoch!, seq: r.seq });
    else
      byTransaction.push({
        terminal_id: r.terminal_id!,
        transaction_id: r.transaction_id!,
        epoch: r.epoch!,
        seq: r.seq,
        body_hash: r.body_hash!,
        body: r.body!,
      });
  }
  return existingFactsOf(bySeq, byEventId, byTransaction, stream.contiguous_through);
}

const ROW_COLUMNS = [
  'seq',
  'event_id',
  'type',
  'status',
  'reason',
  'terminal_id',
  'transaction_id',
  'business_day',
  'captured_at',
  'body_hash',
  'body',
  'filed_on',
] as const;

/**
 * Rows per insert statement. One statement per capacity is prepared once per connection (named), so
 * PostgreSQL parses and plans it once and each batch only binds values: every cell its own parameter,
 * sent as it is, which costs the server less than decoding the rows from one JSON document or array
 * literal, and the hub no escaping. A batch fills the smallest capacity that holds it; the unused slots
 * are NULL rows the statement skips.
 */
const CAPACITIES = [16, 128, 512] as const;

function insertRowsSql(capacity: number): string {
  const tuples = Array.from({ length: capacity }, (_, row) => {
    const first = 4 + row * ROW_COLUMNS.length;
    return `(${ROW_COLUMNS.map((_, col) => `$${first + col}`).join(', ')})`;
  });
  return `INSERT INTO hub_events (store_id, epoch, received_at, ${ROW_COLUMNS.join(', ')})
    SELECT $1, $2, $3::bigint, v.seq::bigint, v.event_id, v.type, v.status, v.reason, v.terminal_id,
      v.transaction_id, v.business_day, v.captured_at, v.body_hash, v.body, v.filed_on::date
    FROM (VALUES ${tuples.join(', ')}) AS v(${ROW_COLUMNS.join(', ')})
    WHERE v.seq IS NOT NULL`;
}

const insertStatements = new Map(CAPACITIES.map((capacity) => [capacity, insertRowsSql(capacity)]));

/**
 * Inserts a batch's planned rows; returns how many went in. A plain INSERT: the locks taken first make
 * this writer the only one for its store, and the batch was classified against what the database holds,
 * so a unique index refusing a row means something outside that (another store's event under the same
 * eventId) got there first: the statement fails with unique_violation and the caller judges the batch
 * again, seeing that row. (ON CONFLICT DO NOTHING, which would let it go on, made PostgreSQL probe every
 * unique index once more per row before inserting it: a fifth of the server's CPU per event.)
 */
export async function insertRows(
  c: pg.PoolClient,
  storeId: string,
  epoch: string,
  rows: readonly RowToInsert[],
  filedOnOf: (event: IncomingEvent) => string,
  receivedAt: number,
): Promise<number> {
  let inserted = 0;
  for (let start = 0; start < rows.length; start += CAPACITIES.at(-1)!) {
    const chunk = rows.slice(start, start + CAPACITIES.at(-1)!);
    const capacity = CAPACITIES.find((c) => c >= chunk.length)!;
    const values: unknown[] = [storeId, epoch, receivedAt];
    for (const { event: e, status, reason } of chunk) {
      values.push(
        e.seq,
        e.eventId,
        e.type,
        status,
        reason,
        e.terminalId,
        e.transactionId,
        e.businessDay,
        e.capturedAt,
        e.bodyHash,
        storedBodyOf(e),
        filedOnOf(e),
      );
    }
    values.length = 3 + capacity * ROW_COLUMNS.length;
    values.fill(null, 3 + chunk.length * ROW_COLUMNS.length);
    const result = await c.query({
      name: `outpost-insert-events-${capacity}`,
      text: insertStatements.get(capacity)!,
      values,
    });
    inserted += result.rowCount ?? 0;
  }
  return inserted;
}

/**
 * Copies of conflicting events into hub_quarantine. A redelivered conflicting event (QoS 1, agent
 * retransmission) is the same evidence again, not a new incident: one row per (seq, body), so the
 * operator's count means distinct events; those already held come back with `alreadyHeld`.
 */
export async function quarantineCopies(
  c: pg.PoolClient,
  storeId: string,
  epoch: string,
  copies: readonly { event: IncomingEvent; reason: string }[],
  receivedAt: number,
): Promise<QuarantinedSeq[]> {
  if (copies.length === 0) return [];
  const { rows } = await c.query<{ seq: string; body_hash: string }>(
    `INSERT INTO hub_quarantine (store_id, epoch, received_at, seq, event_id, reason, body_hash, body)
     SELECT DISTINCT ON (n.seq, n.body_hash) $1::text, $2::text, $3::bigint, n.*
     FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[]) AS n(seq, event_id, reason, body_hash, body)
     WHERE NOT EXISTS (SELECT 1 FROM hub_quarantine h
                       WHERE h.store_id = $1 AND h.epoch = $2 AND h.seq = n.seq AND h.body_hash = n.body_hash)
     RETURNING seq, body_hash`,
    [
      storeId,
      epoch,
      receivedAt,
      copies.map((r) => r.event.seq),
      copies.map((r) => r.event.eventId),
      copies.map((r) => r.reason),
      copies.map((r) => r.event.bodyHash),
      copies.map((r) => storedBodyOf(r.event)),
    ],
  );
  const copied = new Set(rows.map((r) => `${r.seq}\u0000${r.body_hash}`));
  return copies.map(({ event, reason }) => {
    const key = `${event.seq}\u0000${event.bodyHash}`;
    const alreadyHeld = !copied.has(key);
    copied.delete(key);
    return { seq: event.seq, reason, alreadyHeld };
  });
}

/** What an epoch close finds at the seqs it moves: the epoch's rows and quarantined copies, one round trip each. */
export async function readCloseFacts(
  c: pg.PoolClient,
  storeId: string,
  epoch: string,
  seqs: readonly number[],
): Promise<CloseFacts> {
  const rows = await c.query<CloseSeqRow>(
    `SELECT e.seq, e.event_id, e.status, e.moved_to_epoch, e.moved_to_seq FROM unnest($3::bigint[]) AS b(seq)
     CROSS JOIN LATERAL (SELECT seq, event_id, status, moved_to_epoch, moved_to_seq FROM hub_events
                         WHERE store_id = $1 AND epoch = $2 AND seq = b.seq LIMIT 1) e`,
    [storeId, epoch, seqs],
  );
  const copies = await c.query<CloseCopyRow>(
    `SELECT seq, event_id, moved_to_epoch, moved_to_seq FROM hub_quarantine
     WHERE store_id = $1 AND epoch = $2 AND seq = ANY($3::bigint[])`,
    [storeId, epoch, seqs],
  );
  return closeFactsOf(rows.rows, copies.rows);
}

/** `moved` rows for the seqs an epoch close moves where the hub holds nothing (under the close's locks). */
export async function insertMovedRows(
  c: pg.PoolClient,
  storeId: string,
  epoch: string,
  close: EpochClose['close'],
  moves: readonly { seq: number; eventId: string; toSeq: number; reason: string }[],
  receivedAt: number,
): Promise<void> {
  if (moves.length === 0) return;
  await c.query(
    `INSERT INTO hub_events (store_id, epoch, received_at, filed_on, seq, event_id, status, reason, moved_to_epoch, moved_to_seq)
     SELECT $1::text, $2::text, $3::bigint, $4::date, m.seq, m.event_id, 'moved', m.reason, $5::text, m.to_seq
     FROM unnest($6::bigint[], $7::text[], $8::text[], $9::bigint[]) AS m(seq, event_id, reason, to_seq)`,
    [
      storeId,
      epoch,
      receivedAt,
      movedFiledOn(receivedAt),
      close.nextEpoch,
      moves.map((m) => m.seq),
      moves.map((m) => m.eventId),
      moves.map((m) => m.reason),
      moves.map((m) => m.toSeq),
    ],
  );
}
