import pg from 'pg';
import { hubDbConfigSchema, type HubDbConfig } from '../contracts/hub-config.js';
import type { EpochClose, StoreStatusMessage } from '../contracts/sync-messages.js';
import { classifyClose, movedReason, type CloseFacts } from './classify-close.js';
import {
  advanceContiguous,
  classifyEvents,
  findGaps,
  tallyInserts,
  transactionKey,
  type ExistingFacts,
} from './classify-events.js';
import type {
  CloseOutcome,
  CommitWatch,
  EventRecord,
  EventStatus,
  HubStore,
  IncomingEvent,
  InsertOutcome,
  KnownStore,
  NewPromotionVersion,
  PromotionVersionRecord,
  QuarantineRecord,
  RolloutRecord,
  StoreSummary,
} from './hub-store.js';
import { DatabaseTooNewError } from '../lib/sqlite-migrations.js';
import { hubMigrations } from './hub-migrations.js';
import { PostgresPromotionStore, writeRolloutPostgres } from './postgres-promotion-store.js';
import { rolloutWrites } from './promotion-rows.js';
import {
  CONTIGUITY_STEP,
  GAP_SCAN_LIMIT,
  isoFromMs,
  storedBodyOf,
  toEpochSummary,
  toEventRecord,
  toQuarantineRecord,
  type EventRow,
  type QuarantineRow,
  type StreamRow,
} from './hub-rows.js';

/**
 * Key of the transaction-scoped advisory lock held while migrating, so that two hubs starting at once
 * against an empty database do not both create the schema. Any constant works; it only has to be the
 * same in every hub and unused by anything else sharing the database.
 */
const MIGRATION_LOCK_KEY = 7_266_452_012;
/**
 * A migration may rewrite a large table once, at start-up, before the hub takes any traffic: it gets
 * its own bound instead of the per-statement one meant for ingest.
 */
const MIGRATION_TIMEOUT_MS = 30 * 60_000;
/** The client gives up this long after the server should have cancelled a statement itself. */
const CLIENT_GRACE_MS = 2_000;

/**
 * Another hub can win a race on a unique index that spans epochs (the same eventId or POS transaction
 * under two epochs of one store, ingested at once) or both can deadlock on each other's index entries.
 * The batch is then classified again from scratch, seeing the winner's committed rows; a few tries are
 * plenty because the loser's second look finds the rows it collided with.
 */
const MAX_INSERT_ATTEMPTS = 3;
/** deadlock_detected, serialization_failure: PostgreSQL aborted the transaction; redoing it is safe. */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);

class LostInsertRace extends Error {
  override readonly name = 'LostInsertRace';
}

const isRetryable = (error: unknown) =>
  error instanceof LostInsertRace ||
  (error instanceof Error && RETRYABLE_SQLSTATES.has((error as { code?: unknown }).code as string));

/** pg returns BIGINT (and count/sum) as strings, since they may exceed 2^53; ours never do. */
const num = (value: string | number): number => Number(value);

export type PostgresHubStoreOptions = Partial<Omit<HubDbConfig, 'url' | 'busyTimeoutMs'>> & {
  /**
   * Told about errors on idle pooled connections (a PostgreSQL restart, a dropped link). The pool
   * discards such a connection by itself; without a listener Node would crash the hub instead.
   */
  onPoolError?: (error: Error) => void;
};

/**
 * The production hub database. Several hub processes share it (the broker's shared subscription
 * splits the stores between them, and may hand batches of one store to two hubs at once): each write
 * is one READ COMMITTED transaction that locks its store epoch's hub_streams row first, so batches of
 * one epoch are judged one after the other, each seeing what the previous one committed.
 *
 * Every wait is bounded (hub.json `db.*`): connecting or waiting for a pooled connection
 * (connectionTimeoutMillis), any one statement (statement_timeout, and the client's own query timeout
 * should the server not answer at all), a lock (lock_timeout) and a session left inside a transaction
 * (idle_in_transaction_session_timeout). A commit that hits one fails, its store publishes the batch
 * again, and the other stores' commits, on other connections, carry on.
 */
export class PostgresHubStore implements HubStore {
  readonly kind = 'postgres' as const;
  private closed = false;
  private readonly promotions: PostgresPromotionStore;

  private constructor(private readonly pool: pg.Pool) {
    this.promotions = new PostgresPromotionStore(pool);
  }

  static async open(url: string, options: PostgresHubStoreOptions = {}): Promise<PostgresHubStore> {
    const tuning = { ...hubDbConfigSchema.parse({ url }), ...options };
    const pool = new pg.Pool({
      connectionString: url,
      max: tuning.poolSize,
      connectionTimeoutMillis: tuning.connectTimeoutMs,
      statement_timeout: tuning.statementTimeoutMs,
      lock_timeout: tuning.lockTimeoutMs,
      idle_in_transaction_session_timeout: tuning.idleInTransactionTimeoutMs,
      query_timeout: tuning.statementTimeoutMs + CLIENT_GRACE_MS,
      keepAlive: true,
      application_name: 'outpost-hub',
    });
    pool.on('error', (error) => options.onPoolError?.(error));
    const store = new PostgresHubStore(pool);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  /**
   * One transaction per migration, together with its version row, under an advisory lock: a second
   * hub starting at the same moment waits, then finds the migration recorded and skips it.
   */
  private async migrate(): Promise<void> {
    const long = (text: string, values?: unknown[]) => ({
      text,
      ...(values ? { values } : {}),
      query_timeout: MIGRATION_TIMEOUT_MS + CLIENT_GRACE_MS,
    });
    for (;;) {
      const applied = await this.transaction(async (c) => {
        await c.query(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
        await c.query(`SET LOCAL lock_timeout = ${MIGRATION_TIMEOUT_MS}`);
        await c.query(long('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]));
        await c.query(
          'CREATE TABLE IF NOT EXISTS hub_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
        );
        const { rows } = await c.query<{ version: number }>(
          'SELECT coalesce(max(version), 0) AS version FROM hub_schema_migrations',
        );
        const current = rows[0]!.version;
        if (current > hubMigrations.length) {
          throw new DatabaseTooNewError(
            `the hub database is at schema version ${current}, newer than this Outpost (${hubMigrations.length}); upgrade the hub`,
          );
        }
        const next = hubMigrations[current];
        if (!next) return false;
        await c.query(long(next.postgres));
        await c.query('INSERT INTO hub_schema_migrations (version, applied_at) VALUES ($1, now())', [
          current + 1,
        ]);
        return true;
      });
      if (!applied) return;
    }
  }

  /**
   * READ COMMITTED, stated rather than inherited from the server's default, and enough: every decision
   * of a write is taken after locking its store epoch's hub_streams row, and in READ COMMITTED each
   * statement sees everything committed before it began, so the rows of the previous holder of that lock
   * are all visible. What spans epochs (the same eventId or POS transaction under two epochs) is held
   * by unique indexes: a write that loses such a race inserts fewer rows than planned and is redone.
   */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>, watch?: CommitWatch): Promise<T> {
    watch?.('a database connection');
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      watch?.('its statements');
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const result = await work(client);
      watch?.('the commit');
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection whose ROLLBACK fails (or times out behind a statement the server has not yet
      // cancelled) is in an unknown state: release(error) destroys it rather than handing a half-open
      // transaction to the next caller.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Creates the stream row if new and locks it until commit; another hub with this epoch waits here. */
  private async lockStream(
    c: pg.PoolClient,
    storeId: string,
    epoch: string,
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<StreamRow> {
    watch?.('the store epoch lock');
    await c.query(
      `INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
       VALUES ($1, $2, $3, $3, 0, 0) ON CONFLICT (store_id, epoch) DO UPDATE SET last_seen = excluded.last_seen`,
      [storeId, epoch, receivedAt],
    );
    const { rows } = await c.query<StreamRow>(
      'SELECT * FROM hub_streams WHERE store_id = $1 AND epoch = $2 FOR UPDATE',
      [storeId, epoch],
    );
    watch?.('its statements');
    return rows[0]!;
  }

  /** Contiguous-through after new rows, read a bounded step at a time from where it stood. */
  private async advance(c: pg.PoolClient, storeId: string, epoch: string, from: number): Promise<number> {
    let through = from;
    for (;;) {
      const { rows } = await c.query<{ seq: string }>(
        'SELECT seq FROM hub_events WHERE store_id = $1 AND epoch = $2 AND seq > $3 ORDER BY seq LIMIT $4',
        [storeId, epoch, through, CONTIGUITY_STEP],
      );
      const seqs = rows.map((r) => num(r.seq));
      const next = advanceContiguous(through, seqs);
      if (seqs.length < CONTIGUITY_STEP || next < seqs.at(-1)!) return next;
      through = next;
    }
  }

  async insertEventsOnce(
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<InsertOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(
          (c) => this.insertBatch(c, storeId, epoch, events, receivedAt, watch),
          watch,
        );
      } catch (error) {
        if (attempt >= MAX_INSERT_ATTEMPTS || !isRetryable(error)) throw error;
      }
    }
  }

  /**
   * Set-based: a fixed dozen statements whatever the batch size (the arrays travel as parameters), so
   * a 500-event batch after an outage costs the same round trips as a single event.
   */
  private async insertBatch(
    c: pg.PoolClient,
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<InsertOutcome> {
    const stream = await this.lockStream(c, storeId, epoch, receivedAt, watch);

    const facts: ExistingFacts = {
      bySeq: new Map(),
      storedByEventId: new Map(),
      storedByTransaction: new Map(),
    };
    // Each lookup probes a unique index once per batch element (LATERAL … LIMIT 1 keeps the planner from
    // turning it into a scan of the store's whole history: on a table whose statistics lag behind its
    // growth, `= ANY` and plain joins were planned as bitmap or hash scans, 20–60 ms per 500-event batch
    // at 50,000 events and growing with the store). At most one row can match each probe.
    const bySeq = await c.query<{
      seq: string;
      event_id: string;
      body_hash: string | null;
      status: EventStatus;
    }>(
      `SELECT e.seq, e.event_id, e.body_hash, e.status FROM unnest($3::bigint[]) AS b(seq)
       CROSS JOIN LATERAL (SELECT seq, event_id, body_hash, status FROM hub_events
                           WHERE store_id = $1 AND epoch = $2 AND seq = b.seq LIMIT 1) e`,
      [storeId, epoch, events.map((e) => e.seq)],
    );
    for (const r of bySeq.rows)
      facts.bySeq.set(num(r.seq), { eventId: r.event_id, bodyHash: r.body_hash, status: r.status });
    const byEventId = await c.query<{ event_id: string; epoch: string; seq: string }>(
      `SELECT e.event_id, e.epoch, e.seq FROM unnest($1::text[]) AS b(event_id)
       CROSS JOIN LATERAL (SELECT event_id, epoch, seq FROM hub_events
                           WHERE status = 'stored' AND event_id = b.event_id LIMIT 1) e`,
      [events.map((e) => e.eventId)],
    );
    for (const r of byEventId.rows)
      facts.storedByEventId.set(r.event_id, { epoch: r.epoch, seq: num(r.seq) });
    const keyed = events.filter((e) => e.terminalId && e.transactionId);
    if (keyed.length > 0) {
      const byTransaction = await c.query<{
        terminal_id: string;
        transaction_id: string;
        epoch: string;
        seq: string;
        body_hash: string;
        body: string;
      }>(
        `SELECT e.terminal_id, e.transaction_id, e.epoch, e.seq, e.body_hash, e.body
         FROM unnest($2::text[], $3::text[]) AS b(terminal_id, transaction_id)
         CROSS JOIN LATERAL (SELECT terminal_id, transaction_id, epoch, seq, body_hash, body FROM hub_events
                             WHERE store_id = $1 AND status = 'stored' AND terminal_id = b.terminal_id
                               AND transaction_id = b.transaction_id LIMIT 1) e`,
        [storeId, keyed.map((e) => e.terminalId), keyed.map((e) => e.transactionId)],
      );
      for (const r of byTransaction.rows) {
        facts.storedByTransaction.set(transactionKey(r.terminal_id, r.transaction_id), {
          epoch: r.epoch,
          seq: num(r.seq),
          bodyHash: r.body_hash,
          bodyText: r.body,
        });
      }
    }

    const plan = classifyEvents(epoch, events, facts);
    if (plan.inserts.length > 0) {
      const rows = plan.inserts;
      // DO NOTHING (every unique index) instead of failing: a concurrent hub holding another epoch of
      // this store, or another store, may have committed the same eventId or POS transaction since we
      // looked. Fewer rows back than planned means our classification is stale: roll back and redo it.
      // The rows travel as one JSON document: the driver's text[] literal escaping of 500 JSON bodies cost
      // more hub CPU than the insert itself, where JSON.stringify escapes them natively.
      const inserted = await c.query(
        `INSERT INTO hub_events (store_id, epoch, received_at, seq, event_id, type, status, reason, terminal_id,
           transaction_id, business_day, captured_at, body_hash, body)
         SELECT $1::text, $2::text, $3::bigint, r.seq, r.event_id, r.type, r.status, r.reason, r.terminal_id,
           r.transaction_id, r.business_day, r.captured_at, r.body_hash, r.body
         FROM json_to_recordset($4::json) AS r(seq bigint, event_id text, type text, status text, reason text,
           terminal_id text, transaction_id text, business_day text, captured_at text, body_hash text, body text)
         ON CONFLICT DO NOTHING RETURNING seq`,
        [
          storeId,
          epoch,
          receivedAt,
          JSON.stringify(
            rows.map(({ event: e, status, reason }) => ({
              seq: e.seq,
              event_id: e.eventId,
              type: e.type,
              status,
              reason,
              terminal_id: e.terminalId,
              transaction_id: e.transactionId,
              business_day: e.businessDay,
              captured_at: e.capturedAt,
              body_hash: e.bodyHash,
              body: storedBodyOf(e),
            })),
          ),
        ],
      );
      if (inserted.rowCount !== rows.length) {
        throw new LostInsertRace(
          `store ${storeId} epoch ${epoch}: a concurrent writer stored ${rows.length - (inserted.rowCount ?? 0)} of this batch's events first (a batch is judged again up to ${MAX_INSERT_ATTEMPTS} times)`,
        );
      }
    }
    let quarantined = 0;
    if (plan.quarantine.length > 0) {
      const q = plan.quarantine;
      // A redelivered conflicting event (QoS 1, agent retransmission) is the same evidence again, not
      // a new incident: keep one row per (seq, body), so the operator's count means distinct events.
      const inserted = await c.query(
        `INSERT INTO hub_quarantine (store_id, epoch, received_at, seq, event_id, reason, body_hash, body)
         SELECT DISTINCT ON (n.seq, n.body_hash) $1::text, $2::text, $3::bigint, n.*
         FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[]) AS n(seq, event_id, reason, body_hash, body)
         WHERE NOT EXISTS (SELECT 1 FROM hub_quarantine h
                           WHERE h.store_id = $1 AND h.epoch = $2 AND h.seq = n.seq AND h.body_hash = n.body_hash)`,
        [
          storeId,
          epoch,
          receivedAt,
          q.map((r) => r.event.seq),
          q.map((r) => r.event.eventId),
          q.map((r) => r.reason),
          q.map((r) => r.event.bodyHash),
          q.map((r) => storedBodyOf(r.event)),
        ],
      );
      quarantined = inserted.rowCount ?? 0;
    }
    await writeRolloutPostgres(c, storeId, rolloutWrites(plan.inserts), receivedAt);

    const contiguous = await this.advance(c, storeId, epoch, num(stream.contiguous_through));
    const highest = Math.max(num(stream.highest_seq), ...plan.inserts.map((r) => r.event.seq));
    const tally = tallyInserts(plan.inserts);
    await c.query(
      `UPDATE hub_streams SET contiguous_through = $3, highest_seq = $4, stored = stored + $5,
         rejected = rejected + $6, duplicates = duplicates + $7 WHERE store_id = $1 AND epoch = $2`,
      [storeId, epoch, contiguous, highest, tally.stored, tally.rejected, tally.duplicate],
    );
    await c.query(
      `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ($1, $2, $3, $4)
       ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
         current_epoch = coalesce(hub_stores.current_epoch, excluded.current_epoch),
         quarantined = hub_stores.quarantined + excluded.quarantined`,
      [storeId, epoch, receivedAt, quarantined],
    );
    return {
      ackedThrough: contiguous,
      highestSeq: highest,
      rejected: plan.rejected,
      conflicts: plan.conflicts,
      stored: plan.stored,
      duplicates: plan.duplicates,
    };
  }

  async closeEpoch(
    storeId: string,
    epoch: string,
    close: EpochClose['close'],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<CloseOutcome> {
    return this.transaction(async (c) => {
      const stream = await this.lockStream(c, storeId, epoch, receivedAt, watch);
      const seqs = close.moved.map((m) => m.seq);
      const facts: CloseFacts = { bySeq: new Map(), quarantinedBySeq: new Map() };
      const rows = await c.query<{
        seq: string;
        event_id: string;
        status: EventStatus;
        moved_to_epoch: string | null;
        moved_to_seq: string | null;
      }>(
        `SELECT e.seq, e.event_id, e.status, e.moved_to_epoch, e.moved_to_seq FROM unnest($3::bigint[]) AS b(seq)
         CROSS JOIN LATERAL (SELECT seq, event_id, status, moved_to_epoch, moved_to_seq FROM hub_events
                             WHERE store_id = $1 AND epoch = $2 AND seq = b.seq LIMIT 1) e`,
        [storeId, epoch, seqs],
      );
      for (const r of rows.rows) {
        facts.bySeq.set(num(r.seq), {
          eventId: r.event_id,
          status: r.status,
          movedTo:
            r.moved_to_epoch !== null && r.moved_to_seq !== null
              ? { epoch: r.moved_to_epoch, seq: num(r.moved_to_seq) }
              : null,
        });
      }
      const copies = await c.query<{
        seq: string;
        event_id: string;
        moved_to_epoch: string | null;
        moved_to_seq: string | null;
      }>(
        `SELECT seq, event_id, moved_to_epoch, moved_to_seq FROM hub_quarantine
         WHERE store_id = $1 AND epoch = $2 AND seq = ANY($3::bigint[])`,
        [storeId, epoch, seqs],
      );
      for (const r of copies.rows) {
        const list = facts.quarantinedBySeq.get(num(r.seq)) ?? [];
        list.push({
          eventId: r.event_id,
          movedTo:
            r.moved_to_epoch !== null && r.moved_to_seq !== null
              ? { epoch: r.moved_to_epoch, seq: num(r.moved_to_seq) }
              : null,
        });
        facts.quarantinedBySeq.set(num(r.seq), list);
      }

      const plan = classifyClose(close, facts);
      if (plan.movedRows.length > 0) {
        // The stream lock makes this writer the only one at these seqs: every planned row goes in.
        await c.query(
          `INSERT INTO hub_events (store_id, epoch, received_at, seq, event_id, status, reason, moved_to_epoch, moved_to_seq)
           SELECT $1::text, $2::text, $3::bigint, m.seq, m.event_id, 'moved', m.reason, $4::text, m.to_seq
           FROM unnest($5::bigint[], $6::text[], $7::text[], $8::bigint[]) AS m(seq, event_id, reason, to_seq)`,
          [
            storeId,
            epoch,
            receivedAt,
            close.nextEpoch,
            plan.movedRows.map((m) => m.seq),
            plan.movedRows.map((m) => m.eventId),
            plan.movedRows.map((m) => movedReason(close, m.toSeq)),
            plan.movedRows.map((m) => m.toSeq),
          ],
        );
      }
      if (plan.markInQuarantine.length > 0) {
        await c.query(
          `UPDATE hub_quarantine q SET moved_to_epoch = $3, moved_to_seq = m.to_seq
           FROM unnest($4::bigint[], $5::text[], $6::bigint[]) AS m(seq, event_id, to_seq)
           WHERE q.store_id = $1 AND q.epoch = $2 AND q.seq = m.seq AND q.event_id = m.event_id`,
          [
            storeId,
            epoch,
            close.nextEpoch,
            plan.markInQuarantine.map((m) => m.seq),
            plan.markInQuarantine.map((m) => m.eventId),
            plan.markInQuarantine.map((m) => m.toSeq),
          ],
        );
      }

      const contiguous = await this.advance(c, storeId, epoch, num(stream.contiguous_through));
      const highest = Math.max(num(stream.highest_seq), ...plan.movedRows.map((m) => m.seq));
      const closedAtSeq = Math.max(
        stream.closed_at_seq === null ? 0 : num(stream.closed_at_seq),
        close.lastSeq,
        highest,
      );
      await c.query(
        `UPDATE hub_streams SET contiguous_through = $3, highest_seq = $4, moved = moved + $5, closed_at_seq = $6,
           next_epoch = coalesce(next_epoch, $7), closed_at = coalesce(closed_at, $8)
         WHERE store_id = $1 AND epoch = $2`,
        [
          storeId,
          epoch,
          contiguous,
          highest,
          plan.movedRows.length,
          closedAtSeq,
          close.nextEpoch,
          receivedAt,
        ],
      );
      await c.query(
        `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES ($1, $2, $3, 0)
         ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
           current_epoch = CASE WHEN hub_stores.current_epoch IS NULL OR hub_stores.current_epoch = $4
             THEN excluded.current_epoch ELSE hub_stores.current_epoch END`,
        [storeId, close.nextEpoch, receivedAt, epoch],
      );
      return {
        ackedThrough: contiguous,
        highestSeq: highest,
        moved: plan.movedRows.length,
        markedInQuarantine: plan.markInQuarantine.length,
        alreadyHeld: plan.alreadyHeld,
        unmatched: plan.unmatched,
        closedAtSeq,
      };
    }, watch);
  }

  async recordStoreStatus(storeId: string, status: StoreStatusMessage, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO hub_stores (store_id, current_epoch, last_seen, online, status_at, reported_backlog, agent_version, quarantined)
       VALUES ($1, $2, $3, $4, $3, $5, $6, 0)
       ON CONFLICT (store_id) DO UPDATE SET
         current_epoch = coalesce(excluded.current_epoch, hub_stores.current_epoch),
         last_seen = excluded.last_seen, online = excluded.online, status_at = excluded.status_at,
         reported_backlog = coalesce(excluded.reported_backlog, hub_stores.reported_backlog),
         agent_version = coalesce(excluded.agent_version, hub_stores.agent_version)`,
      [
        storeId,
        status.epoch ?? null,
        at,
        status.state === 'online',
        status.backlog ?? null,
        status.version ?? null,
      ],
    );
  }

  async listStores(): Promise<StoreSummary[]> {
    const stores = await this.pool.query<{
      store_id: string;
      current_epoch: string | null;
      last_seen: string | null;
      online: boolean;
      reported_backlog: number | null;
      agent_version: string | null;
      quarantined: number;
    }>('SELECT * FROM hub_stores ORDER BY store_id');
    const streams = await this.pool.query<StreamRow>(
      'SELECT * FROM hub_streams ORDER BY store_id, first_seen, epoch',
    );
    const epochsOf = new Map<string, StoreSummary['epochs']>();
    for (const st of streams.rows) {
      const contiguousThrough = num(st.contiguous_through);
      // Nothing is held above contiguous-through unless the highest seq is beyond it: skip the query.
      const seqsAbove =
        num(st.highest_seq) > contiguousThrough
          ? (
              await this.pool.query<{ seq: string }>(
                'SELECT seq FROM hub_events WHERE store_id = $1 AND epoch = $2 AND seq > $3 ORDER BY seq LIMIT $4',
                [st.store_id, st.epoch, contiguousThrough, GAP_SCAN_LIMIT],
              )
            ).rows.map((r) => num(r.seq))
          : [];
      const list = epochsOf.get(st.store_id) ?? [];
      list.push(toEpochSummary(st, findGaps(contiguousThrough, seqsAbove)));
      epochsOf.set(st.store_id, list);
    }
    return stores.rows.map((s) => ({
      storeId: s.store_id,
      currentEpoch: s.current_epoch,
      online: s.online,
      lastSeen: isoFromMs(s.last_seen),
      reportedBacklog: s.reported_backlog,
      agentVersion: s.agent_version,
      quarantined: s.quarantined,
      epochs: epochsOf.get(s.store_id) ?? [],
    }));
  }

  async listTransactions(
    storeId: string,
    query: { epoch?: string; after?: number; limit: number },
  ): Promise<{ epoch: string | null; events: EventRecord[] }> {
    let epoch = query.epoch ?? null;
    if (epoch === null) {
      const current = await this.pool.query<{ current_epoch: string | null }>(
        'SELECT current_epoch FROM hub_stores WHERE store_id = $1',
        [storeId],
      );
      epoch = current.rows[0]?.current_epoch ?? null;
    }
    if (epoch === null) return { epoch: null, events: [] };
    const rows = await this.pool.query<EventRow>(
      'SELECT * FROM hub_events WHERE store_id = $1 AND epoch = $2 AND seq > $3 ORDER BY seq LIMIT $4',
      [storeId, epoch, query.after ?? 0, query.limit],
    );
    return { epoch, events: rows.rows.map(toEventRecord) };
  }

  async exportDay(storeId: string, businessDay: string): Promise<EventRecord[]> {
    const rows = await this.pool.query<EventRow>(
      `SELECT e.* FROM hub_events e JOIN hub_streams s ON s.store_id = e.store_id AND s.epoch = e.epoch
       WHERE e.store_id = $1 AND e.business_day = $2 AND e.status = 'stored' ORDER BY s.first_seen, e.epoch, e.seq`,
      [storeId, businessDay],
    );
    return rows.rows.map(toEventRecord);
  }

  async listQuarantine(storeId: string, limit: number): Promise<QuarantineRecord[]> {
    const rows = await this.pool.query<QuarantineRow>(
      'SELECT * FROM hub_quarantine WHERE store_id = $1 ORDER BY id LIMIT $2',
      [storeId, limit],
    );
    return rows.rows.map(toQuarantineRecord);
  }

  async counts() {
    const { rows } = await this.pool.query<{
      stored: string | null;
      rejected: string | null;
      duplicates: string | null;
      moved: string | null;
      quarantined: string;
    }>(
      `SELECT sum(stored) AS stored, sum(rejected) AS rejected, sum(duplicates) AS duplicates,
         sum(moved) AS moved, (SELECT count(*) FROM hub_quarantine) AS quarantined
       FROM hub_streams`,
    );
    const c = rows[0]!;
    return {
      stored: num(c.stored ?? 0),
      rejected: num(c.rejected ?? 0),
      duplicates: num(c.duplicates ?? 0),
      moved: num(c.moved ?? 0),
      quarantined: num(c.quarantined),
    };
  }

  insertPromotionVersion(version: NewPromotionVersion): Promise<boolean> {
    return this.promotions.insertPromotionVersion(version);
  }

  promotionVersions(promotionId: string): Promise<PromotionVersionRecord[]> {
    return this.promotions.promotionVersions(promotionId);
  }

  latestPromotionVersions(): Promise<PromotionVersionRecord[]> {
    return this.promotions.latestPromotionVersions();
  }

  promotionVersionCount(): Promise<number> {
    return this.promotions.promotionVersionCount();
  }

  markPromotionPublished(promotionId: string, version: number, at: number): Promise<void> {
    return this.promotions.markPromotionPublished(promotionId, version, at);
  }

  unpublishedPromotionVersions(): Promise<PromotionVersionRecord[]> {
    return this.promotions.unpublishedPromotionVersions();
  }

  promotionRollout(promotionId: string): Promise<RolloutRecord[]> {
    return this.promotions.promotionRollout(promotionId);
  }

  latestPromotionRollout(): Promise<RolloutRecord[]> {
    return this.promotions.latestPromotionRollout();
  }

  recordStoreCatalogue(storeId: string, region: string | null, at: number): Promise<void> {
    return this.promotions.recordStoreCatalogue(storeId, region, at);
  }

  knownStores(): Promise<KnownStore[]> {
    return this.promotions.knownStores();
  }

  async close(): Promise<void> {
    // pg.Pool.end() throws when called twice; the hub's shutdown path may close more than once.
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
