import pg from 'pg';
import { hubDbConfigSchema, type HubDbConfig } from '../contracts/hub-config.js';
import type { DayResult } from '../contracts/day-close.js';
import type { EpochClose, ResendReport, StoreStatusMessage } from '../contracts/sync-messages.js';
import { classifyClose, closedBounds, movedReason } from './classify-close.js';
import {
  classifyEvents,
  contiguityStep,
  contiguousFromWrites,
  findGaps,
  highestAfter,
  seqsMaybeHeld,
  tallyInserts,
} from './classify-events.js';
import type {
  ChainTillDay,
  CloseOutcome,
  CommitWatch,
  EventRecord,
  HubStore,
  IncomingEvent,
  InsertOutcome,
  KnownStore,
  NewPromotionVersion,
  PromotionVersionRecord,
  QuarantineRecord,
  ResendAsk,
  ResendReportOutcome,
  RolloutRecord,
  StoreDayRecord,
  StoreDayVerdict,
  StorageMaintenance,
  StoreSummary,
  UnconfirmedDays,
} from './hub-store.js';
import { DatabaseTooNewError } from '../lib/sqlite-migrations.js';
import { batchFiling, isCalendarDay } from './event-filing.js';
import { hubMigrations } from './hub-migrations.js';
import { PostgresDayStore, writeDaysPostgres } from './postgres-day-store.js';
import {
  insertMovedRows,
  insertRows,
  lockStoreStream,
  quarantineCopies,
  readCloseFacts,
  readFacts,
} from './postgres-event-writes.js';
import { maintainPartitions } from './postgres-partitions.js';
import { PostgresPromotionStore, writeRolloutPostgres } from './postgres-promotion-store.js';
import { PostgresCommandStore } from './postgres-command-store.js';
import { PostgresResyncStore } from './postgres-resync-store.js';
import { rolloutWrites } from './promotion-rows.js';
import {
  closeOutcome,
  CONTIGUITY_STEP,
  EXPORTED_TYPES_SQL,
  GAP_SCAN_LIMIT,
  insertOutcome,
  statusFields,
  streamState,
  toEpochSummary,
  toEventRecord,
  toQuarantineRecord,
  toStoreSummary,
  type EventRow,
  type QuarantineRow,
  type StoreRow,
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
 * A write can still meet a row it did not plan for on a unique index (another store's event carrying the
 * same eventId), or be chosen as a deadlock victim (retention detaching a month while a late row of it
 * arrives). The batch is then classified again from scratch, seeing the winner's committed rows; a few
 * tries are plenty because the second look finds the rows it collided with.
 */
const MAX_INSERT_ATTEMPTS = 3;
/**
 * deadlock_detected, serialization_failure: PostgreSQL aborted the transaction; unique_violation: a row
 * the batch's classification did not see (postgres-event-writes.ts, insertRows). Redoing it is safe.
 */
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001', '23505']);

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
 * is one READ COMMITTED transaction that first locks its store's hub_stores row, then its epoch's
 * hub_streams row (postgres-event-writes.ts), so a store's writes are judged one after the other, each
 * seeing what the previous one committed, whichever epoch or hub they come from. hub_events is
 * partitioned by month (hub-migrations.ts, migration 6; postgres-partitions.ts keeps the months).
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
  private readonly days: PostgresDayStore;
  private readonly resync: PostgresResyncStore;
  readonly commands: PostgresCommandStore;

  private constructor(private readonly pool: pg.Pool) {
    this.promotions = new PostgresPromotionStore(pool);
    this.days = new PostgresDayStore(pool);
    this.commands = new PostgresCommandStore(pool);
    this.resync = new PostgresResyncStore(
      (work) => this.transaction(work),
      pool,
      (c, storeId, epoch, from) => this.advance(c, storeId, epoch, from),
    );
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
   * of a write is taken after locking its store's row, and in READ COMMITTED each statement sees
   * everything committed before it began, so the rows of the previous holder of that lock are all
   * visible. The unique indexes (per month, since hub_events is partitioned) stay as a second line: a
   * write that still meets a row it did not expect inserts fewer rows than planned and is redone.
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

  /** Contiguous-through after new rows, read a bounded step at a time from where it stood. */
  private async advance(c: pg.PoolClient, storeId: string, epoch: string, from: number): Promise<number> {
    let step = { through: from, more: true };
    while (step.more) {
      const { rows } = await c.query<{ seq: string }>({
        name: 'outpost-seqs-above',
        text: 'SELECT seq FROM hub_events WHERE store_id = $1 AND epoch = $2 AND seq > $3 ORDER BY seq LIMIT $4',
        values: [storeId, epoch, step.through, CONTIGUITY_STEP],
      });
      step = contiguityStep(
        step.through,
        rows.map((r) => num(r.seq)),
        CONTIGUITY_STEP,
      );
    }
    return step.through;
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
   * A fixed handful of round trips whatever the batch size (locks, lookups, rows, counters, days), so a
   * 500-event batch after an outage costs about what a single event does.
   */
  private async insertBatch(
    c: pg.PoolClient,
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<InsertOutcome> {
    const stream = await lockStoreStream(c, storeId, epoch, receivedAt, null, watch);
    const held = streamState(stream);
    const filing = batchFiling(events, receivedAt);
    const facts = await readFacts(
      c,
      storeId,
      epoch,
      events,
      filing,
      seqsMaybeHeld(events, held.highestSeq),
      stream,
    );
    const plan = classifyEvents(epoch, events, facts);
    const filedOn = new Map(events.map((e, i) => [e, filing.filedOn[i]!]));
    const inserted = await insertRows(c, storeId, epoch, plan.inserts, (e) => filedOn.get(e)!, receivedAt);
    if (inserted !== plan.inserts.length) {
      throw new LostInsertRace(
        `store ${storeId} epoch ${epoch}: a concurrent writer stored ${plan.inserts.length - inserted} of this batch's events first (a batch is judged again up to ${MAX_INSERT_ATTEMPTS} times)`,
      );
    }
    const quarantined = await quarantineCopies(c, storeId, epoch, plan.quarantine, receivedAt);
    await writeRolloutPostgres(c, storeId, rolloutWrites(plan.inserts), receivedAt);

    const written = plan.inserts.map((r) => r.event.seq);
    const contiguous =
      contiguousFromWrites(held, written) ?? (await this.advance(c, storeId, epoch, held.contiguousThrough));
    const highest = highestAfter(held.highestSeq, written);
    const tally = tallyInserts(plan.inserts);
    const copied = quarantined.filter((q) => !q.alreadyHeld).length;
    await c.query({
      name: 'outpost-stream-after-batch',
      text: `WITH counted AS (UPDATE hub_stores SET quarantined = quarantined + $8 WHERE store_id = $1 AND $8 > 0)
        UPDATE hub_streams SET contiguous_through = $3, highest_seq = $4, stored = stored + $5,
          rejected = rejected + $6, duplicates = duplicates + $7 WHERE store_id = $1 AND epoch = $2`,
      values: [storeId, epoch, contiguous, highest, tally.stored, tally.rejected, tally.duplicate, copied],
    });
    // The store's hub_stores row is locked since the first statement: see writeDaysPostgres.
    const days = await writeDaysPostgres(c, storeId, plan.inserts, epoch, receivedAt);
    return insertOutcome(plan, { contiguous, highest, quarantined, stream, days });
  }

  async closeEpoch(
    storeId: string,
    epoch: string,
    close: EpochClose['close'],
    receivedAt: number,
    watch?: CommitWatch,
  ): Promise<CloseOutcome> {
    return this.transaction(async (c) => {
      const stream = await lockStoreStream(c, storeId, epoch, receivedAt, close, watch);
      const facts = await readCloseFacts(
        c,
        storeId,
        epoch,
        close.moved.map((m) => m.seq),
      );
      const plan = classifyClose(close, facts);
      // The locks make this writer the only one at these seqs: every planned row goes in.
      await insertMovedRows(
        c,
        storeId,
        epoch,
        close,
        plan.movedRows.map((m) => ({ ...m, reason: movedReason(close, m.toSeq) })),
        receivedAt,
      );
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
      const bounds = closedBounds(streamState(stream), close, plan);
      await c.query(
        `UPDATE hub_streams SET contiguous_through = $3, highest_seq = $4, moved = moved + $5, closed_at_seq = $6,
           next_epoch = coalesce(next_epoch, $7), closed_at = coalesce(closed_at, $8)
         WHERE store_id = $1 AND epoch = $2`,
        [
          storeId,
          epoch,
          contiguous,
          bounds.highestSeq,
          plan.movedRows.length,
          bounds.closedAtSeq,
          close.nextEpoch,
          receivedAt,
        ],
      );
      return closeOutcome(plan, { contiguous, ...bounds });
    }, watch);
  }

  async recordStoreStatus(
    storeId: string,
    status: StoreStatusMessage,
    at: number,
  ): Promise<{ cameOnline: boolean }> {
    const fields = statusFields(status);
    // What the store says of its unsent events and acknowledgements stands until it next says it online:
    // the broker's last will ("offline") says nothing of them. `before` reads the row as it was, so the
    // hub whose write turns the store online knows it (two hubs at once may both think so: harmless).
    const { rows } = await this.pool.query<{ was_online: boolean | null }>(
      `WITH before AS (SELECT online FROM hub_stores WHERE store_id = $1)
       INSERT INTO hub_stores (store_id, current_epoch, last_seen, online, status_at, reported_backlog, agent_version,
         quarantined, oldest_unsent_at, unsent_by_day, acked)
       VALUES ($1, $2, $3, $4, $3, $5, $6, 0, $7, $8, $9)
       ON CONFLICT (store_id) DO UPDATE SET
         current_epoch = coalesce(excluded.current_epoch, hub_stores.current_epoch),
         last_seen = excluded.last_seen, online = excluded.online, status_at = excluded.status_at,
         reported_backlog = coalesce(excluded.reported_backlog, hub_stores.reported_backlog),
         agent_version = coalesce(excluded.agent_version, hub_stores.agent_version),
         oldest_unsent_at = CASE WHEN excluded.online THEN excluded.oldest_unsent_at ELSE hub_stores.oldest_unsent_at END,
         unsent_by_day = CASE WHEN excluded.online THEN excluded.unsent_by_day ELSE hub_stores.unsent_by_day END,
         acked = CASE WHEN excluded.online THEN excluded.acked ELSE hub_stores.acked END
       RETURNING (SELECT online FROM before) AS was_online`,
      [
        storeId,
        status.epoch ?? null,
        at,
        status.state === 'online',
        status.backlog ?? null,
        status.version ?? null,
        fields.oldestUnsentAt,
        fields.unsentByDay,
        fields.acked,
      ],
    );
    return { cameOnline: status.state === 'online' && rows[0]?.was_online !== true };
  }

  async listStores(storeId?: string): Promise<StoreSummary[]> {
    const only = [storeId ?? null];
    const stores = await this.pool.query<StoreRow>(
      'SELECT * FROM hub_stores WHERE $1::text IS NULL OR store_id = $1 ORDER BY store_id',
      only,
    );
    const streams = await this.pool.query<StreamRow>(
      'SELECT * FROM hub_streams WHERE $1::text IS NULL OR store_id = $1 ORDER BY store_id, first_seen, epoch',
      only,
    );
    const resends = await this.resync.all();
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
      list.push(toEpochSummary(st, findGaps(contiguousThrough, seqsAbove), resends));
      epochsOf.set(st.store_id, list);
    }
    return stores.rows.map((s) => toStoreSummary(s, epochsOf.get(s.store_id) ?? []));
  }

  storeDay(storeId: string, businessDay: string): Promise<StoreDayRecord> {
    return this.days.storeDay(storeId, businessDay);
  }

  chainDay(businessDay: string): Promise<ChainTillDay[]> {
    return this.days.chainDay(businessDay);
  }

  unsentDayVerdicts(before: number, limit: number): Promise<StoreDayVerdict[]> {
    return this.days.unsentVerdicts(before, limit);
  }

  recentDayVerdicts(storeId: string, since: number, limit: number): Promise<DayResult[]> {
    return this.days.recentVerdicts(storeId, since, limit);
  }

  markDayVerdictsSent(storeId: string, results: readonly DayResult[], sentAt: number): Promise<void> {
    return this.days.markSent(storeId, results, sentAt);
  }

  unconfirmedDays(fromDay: string, toDay: string): Promise<UnconfirmedDays[]> {
    return this.days.unconfirmedDays(fromDay, toDay);
  }

  planResend(
    storeId: string,
    epoch: string,
    ackedThrough: number,
    options: { hubId: string; now: number; reaskAfterMs: number; requestId: string },
  ): Promise<ResendAsk | undefined> {
    return this.resync.planResend(storeId, epoch, ackedThrough, options);
  }

  dueResends(
    before: number,
    limit: number,
  ): Promise<{ storeId: string; epoch: string; ackedThrough: number }[]> {
    return this.resync.dueResends(before, limit);
  }

  recordResendReport(
    storeId: string,
    epoch: string,
    report: ResendReport['resend'],
    at: number,
  ): Promise<ResendReportOutcome> {
    return this.resync.recordResendReport(storeId, epoch, report, at);
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
    // Stored transactions are filed under their business day (event-filing.ts): one month partition.
    if (!isCalendarDay(businessDay)) return [];
    const rows = await this.pool.query<EventRow>(
      `SELECT e.* FROM hub_events e JOIN hub_streams s ON s.store_id = e.store_id AND s.epoch = e.epoch
       WHERE e.store_id = $1 AND e.business_day = $2 AND e.status = 'stored' AND e.type IN ${EXPORTED_TYPES_SQL}
         AND e.filed_on = $2::date
       ORDER BY s.first_seen, e.epoch, e.seq`,
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

  maintain(options: { now: number; retentionMonths: number | null }): Promise<StorageMaintenance> {
    return maintainPartitions(this.pool, options);
  }

  async close(): Promise<void> {
    // pg.Pool.end() throws when called twice; the hub's shutdown path may close more than once.
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
