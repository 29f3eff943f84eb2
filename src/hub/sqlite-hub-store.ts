import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
  type ExistingFacts,
} from './classify-events.js';
import type {
  ChainTillDay,
  CloseOutcome,
  HubStore,
  IncomingEvent,
  InsertOutcome,
  KnownStore,
  NewPromotionVersion,
  PromotionVersionRecord,
  QuarantineRecord,
  EventRecord,
  ResendAsk,
  ResendReportOutcome,
  RolloutRecord,
  StoreDayRecord,
  StoreDayVerdict,
  StorageMaintenance,
  StoreSummary,
  UnconfirmedDays,
} from './hub-store.js';
import { migrateSqlite } from '../lib/sqlite-migrations.js';
import { hubMigrations } from './hub-migrations.js';
import { rolloutWrites } from './promotion-rows.js';
import { SqliteDayStore } from './sqlite-day-store.js';
import { SqlitePromotionStore } from './sqlite-promotion-store.js';
import { SqliteCommandStore } from './sqlite-command-store.js';
import { SqliteResyncStore } from './sqlite-resync-store.js';
import { SqliteStatements } from './sqlite-statements.js';
import {
  closeFactsOf,
  closeOutcome,
  CONTIGUITY_STEP,
  existingFactsOf,
  GAP_SCAN_LIMIT,
  insertOutcome,
  statusFields,
  storedBodyOf,
  streamState,
  toEpochSummary,
  toEventRecord,
  toQuarantineRecord,
  toStoreSummary,
  EXPORTED_TYPES_SQL,
  type CloseCopyRow,
  type CloseSeqRow,
  type EventIdFactRow,
  type EventRow,
  type QuarantineRow,
  type SeqFactRow,
  type StoreRow,
  type StreamRow,
  type TransactionFactRow,
} from './hub-rows.js';

export interface SqliteHubStoreOptions {
  /** How long a write waits for another process's lock on the file before failing (blocks the hub meanwhile). */
  busyTimeoutMs?: number;
}

/**
 * The embedded hub database. Several hub processes may share the file: each write is an IMMEDIATE
 * transaction, which SQLite serialises, with a bounded busy timeout to wait for the other writer.
 */
export class SqliteHubStore implements HubStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly sql: SqliteStatements;
  private readonly promotions: SqlitePromotionStore;
  private readonly days: SqliteDayStore;
  private readonly resync: SqliteResyncStore;
  readonly commands: SqliteCommandStore;

  constructor(file: string, options: SqliteHubStoreOptions = {}) {
    ensureDirectory(path.dirname(path.resolve(file)));
    this.db = new Database(file, { timeout: options.busyTimeoutMs ?? 5_000 });
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      migrateSqlite(
        this.db,
        hubMigrations.map((m) => m.sqlite),
        (current, known) =>
          `the hub database is at schema version ${current}, newer than this Outpost (${known}); upgrade the hub`,
      );
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.sql = new SqliteStatements(this.db);
    this.promotions = new SqlitePromotionStore(this.sql);
    this.days = new SqliteDayStore(this.db, this.sql);
    this.commands = new SqliteCommandStore(this.db);
    this.resync = new SqliteResyncStore(this.db, this.sql, (storeId, epoch, from) =>
      this.advance(storeId, epoch, from),
    );
  }

  /** Creates the stream row if new and returns it; inside the caller's write transaction. */
  private stream(storeId: string, epoch: string, receivedAt: number): StreamRow {
    this.sql
      .get(
        `INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
         VALUES (?, ?, ?, ?, 0, 0) ON CONFLICT (store_id, epoch) DO UPDATE SET last_seen = excluded.last_seen`,
      )
      .run(storeId, epoch, receivedAt, receivedAt);
    return this.sql
      .get('SELECT * FROM hub_streams WHERE store_id = ? AND epoch = ?')
      .get(storeId, epoch) as StreamRow;
  }

  /** Contiguous-through after new rows, read a bounded step at a time from where it stood. */
  private advance(storeId: string, epoch: string, from: number): number {
    const above = this.sql.pluck(
      'SELECT seq FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    let step = { through: from, more: true };
    while (step.more)
      step = contiguityStep(
        step.through,
        above.all(storeId, epoch, step.through, CONTIGUITY_STEP) as number[],
        CONTIGUITY_STEP,
      );
    return step.through;
  }

  /** What the database holds that bears on a batch (classify-events.ts); inside the write transaction. */
  private facts(storeId: string, epoch: string, events: IncomingEvent[], stream: StreamRow): ExistingFacts {
    const seqs = seqsMaybeHeld(events, stream.highest_seq as number);
    const bySeq =
      seqs.length === 0
        ? []
        : (this.sql
            .get(
              'SELECT seq, event_id, body_hash, status FROM hub_events WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))',
            )
            .all(storeId, epoch, JSON.stringify(seqs)) as SeqFactRow[]);
    const byEventId = this.sql
      .get(
        "SELECT event_id, epoch, seq FROM hub_events WHERE status = 'stored' AND event_id IN (SELECT value FROM json_each(?))",
      )
      .all(JSON.stringify(events.map((e) => e.eventId))) as EventIdFactRow[];
    const keys = events.flatMap((e) =>
      e.terminalId && e.transactionId ? [[e.terminalId, e.transactionId]] : [],
    );
    const byTransaction =
      keys.length === 0
        ? []
        : (this.sql
            .get(
              `SELECT terminal_id, transaction_id, epoch, seq, body_hash, body FROM hub_events
               WHERE store_id = ? AND status = 'stored' AND (terminal_id, transaction_id) IN
                 (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
            )
            .all(storeId, JSON.stringify(keys)) as TransactionFactRow[]);
    return existingFactsOf(bySeq, byEventId, byTransaction, stream.contiguous_through);
  }

  async insertEventsOnce(
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    receivedAt: number,
  ): Promise<InsertOutcome> {
    return this.db
      .transaction((): InsertOutcome => {
        const stream = this.stream(storeId, epoch, receivedAt);
        const plan = classifyEvents(epoch, events, this.facts(storeId, epoch, events, stream));
        const insert = this.sql.get(
          `INSERT INTO hub_events (store_id, epoch, seq, event_id, type, status, reason, terminal_id, transaction_id,
             business_day, captured_at, received_at, body_hash, body)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const { event: e, status, reason } of plan.inserts) {
          insert.run(
            storeId,
            epoch,
            e.seq,
            e.eventId,
            e.type,
            status,
            reason,
            e.terminalId,
            e.transactionId,
            e.businessDay,
            e.capturedAt,
            receivedAt,
            e.bodyHash,
            storedBodyOf(e),
          );
        }
        // A redelivered conflicting event (QoS 1, agent retransmission) is the same evidence again, not
        // a new incident: keep one row per (seq, body), so the operator's count means distinct events.
        const quarantine = this.sql.get(
          `INSERT INTO hub_quarantine (store_id, epoch, seq, event_id, reason, received_at, body_hash, body)
           SELECT @storeId, @epoch, @seq, @eventId, @reason, @receivedAt, @bodyHash, @body WHERE NOT EXISTS
             (SELECT 1 FROM hub_quarantine WHERE store_id = @storeId AND epoch = @epoch AND seq = @seq AND body_hash = @bodyHash)`,
        );
        const quarantined = plan.quarantine.map(({ event: e, reason }) => {
          const copied = quarantine.run({
            storeId,
            epoch,
            seq: e.seq,
            eventId: e.eventId,
            reason,
            receivedAt,
            bodyHash: e.bodyHash,
            body: storedBodyOf(e),
          }).changes;
          return { seq: e.seq, reason, alreadyHeld: copied === 0 };
        });

        this.promotions.writeRollout(storeId, rolloutWrites(plan.inserts), receivedAt);

        const written = plan.inserts.map((r) => r.event.seq);
        const held = streamState(stream);
        const contiguous =
          contiguousFromWrites(held, written) ?? this.advance(storeId, epoch, held.contiguousThrough);
        const highest = highestAfter(held.highestSeq, written);
        const tally = tallyInserts(plan.inserts);
        this.sql
          .get(
            `UPDATE hub_streams SET contiguous_through = ?, highest_seq = ?, stored = stored + ?,
               rejected = rejected + ?, duplicates = duplicates + ? WHERE store_id = ? AND epoch = ?`,
          )
          .run(contiguous, highest, tally.stored, tally.rejected, tally.duplicate, storeId, epoch);
        this.sql
          .get(
            `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES (?, ?, ?, ?)
             ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
               current_epoch = coalesce(hub_stores.current_epoch, excluded.current_epoch),
               quarantined = hub_stores.quarantined + excluded.quarantined`,
          )
          .run(storeId, epoch, receivedAt, quarantined.filter((q) => !q.alreadyHeld).length);
        const days = this.days.applyBatch(storeId, plan.inserts, epoch, receivedAt);
        return insertOutcome(plan, { contiguous, highest, quarantined, stream, days });
      })
      .immediate();
  }

  async closeEpoch(
    storeId: string,
    epoch: string,
    close: EpochClose['close'],
    receivedAt: number,
  ): Promise<CloseOutcome> {
    return this.db
      .transaction((): CloseOutcome => {
        const stream = this.stream(storeId, epoch, receivedAt);
        const seqs = JSON.stringify(close.moved.map((m) => m.seq));
        const facts = closeFactsOf(
          this.sql
            .get(
              `SELECT seq, event_id, status, moved_to_epoch, moved_to_seq FROM hub_events
               WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))`,
            )
            .all(storeId, epoch, seqs) as CloseSeqRow[],
          this.sql
            .get(
              `SELECT seq, event_id, moved_to_epoch, moved_to_seq FROM hub_quarantine
               WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))`,
            )
            .all(storeId, epoch, seqs) as CloseCopyRow[],
        );
        const plan = classifyClose(close, facts);
        const insert = this.sql.get(
          `INSERT INTO hub_events (store_id, epoch, seq, event_id, status, reason, received_at, moved_to_epoch, moved_to_seq)
           VALUES (?, ?, ?, ?, 'moved', ?, ?, ?, ?)`,
        );
        for (const m of plan.movedRows) {
          insert.run(
            storeId,
            epoch,
            m.seq,
            m.eventId,
            movedReason(close, m.toSeq),
            receivedAt,
            close.nextEpoch,
            m.toSeq,
          );
        }
        const mark = this.sql.get(
          `UPDATE hub_quarantine SET moved_to_epoch = ?, moved_to_seq = ?
           WHERE store_id = ? AND epoch = ? AND seq = ? AND event_id = ?`,
        );
        for (const m of plan.markInQuarantine)
          mark.run(close.nextEpoch, m.toSeq, storeId, epoch, m.seq, m.eventId);

        const contiguous = this.advance(storeId, epoch, stream.contiguous_through as number);
        const bounds = closedBounds(streamState(stream), close, plan);
        this.sql
          .get(
            `UPDATE hub_streams SET contiguous_through = ?, highest_seq = ?, moved = moved + ?, closed_at_seq = ?,
               next_epoch = coalesce(next_epoch, ?), closed_at = coalesce(closed_at, ?)
             WHERE store_id = ? AND epoch = ?`,
          )
          .run(
            contiguous,
            bounds.highestSeq,
            plan.movedRows.length,
            bounds.closedAtSeq,
            close.nextEpoch,
            receivedAt,
            storeId,
            epoch,
          );
        this.sql
          .get(
            `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES (?, ?, ?, 0)
             ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
               current_epoch = CASE WHEN hub_stores.current_epoch IS NULL OR hub_stores.current_epoch = ?
                 THEN excluded.current_epoch ELSE hub_stores.current_epoch END`,
          )
          .run(storeId, close.nextEpoch, receivedAt, epoch);
        return closeOutcome(plan, { contiguous, ...bounds });
      })
      .immediate();
  }

  async recordStoreStatus(
    storeId: string,
    status: StoreStatusMessage,
    at: number,
  ): Promise<{ cameOnline: boolean }> {
    const db = this.db;
    const fields = statusFields(status);
    return db
      .transaction(() => {
        const wasOnline = db
          .prepare('SELECT online FROM hub_stores WHERE store_id = ?')
          .pluck()
          .get(storeId) as number | undefined;
        // What the store says of its unsent events and acknowledgements stands until it next says it
        // online: the broker's last will ("offline") says nothing of them.
        db.prepare(
          `INSERT INTO hub_stores (store_id, current_epoch, last_seen, online, status_at, reported_backlog, agent_version,
             quarantined, oldest_unsent_at, unsent_by_day, acked)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)
           ON CONFLICT (store_id) DO UPDATE SET
             current_epoch = coalesce(excluded.current_epoch, hub_stores.current_epoch),
             last_seen = excluded.last_seen, online = excluded.online, status_at = excluded.status_at,
             reported_backlog = coalesce(excluded.reported_backlog, hub_stores.reported_backlog),
             agent_version = coalesce(excluded.agent_version, hub_stores.agent_version),
             oldest_unsent_at = CASE WHEN excluded.online = 1 THEN excluded.oldest_unsent_at ELSE hub_stores.oldest_unsent_at END,
             unsent_by_day = CASE WHEN excluded.online = 1 THEN excluded.unsent_by_day ELSE hub_stores.unsent_by_day END,
             acked = CASE WHEN excluded.online = 1 THEN excluded.acked ELSE hub_stores.acked END`,
        ).run(
          storeId,
          status.epoch ?? null,
          at,
          status.state === 'online' ? 1 : 0,
          at,
          status.backlog ?? null,
          status.version ?? null,
          fields.oldestUnsentAt,
          fields.unsentByDay,
          fields.acked,
        );
        return { cameOnline: status.state === 'online' && wasOnline !== 1 };
      })
      .immediate();
  }

  async listStores(storeId?: string): Promise<StoreSummary[]> {
    // `? IS NULL OR …`: one statement for every store or one store.
    const only = storeId ?? null;
    const stores = this.db
      .prepare('SELECT * FROM hub_stores WHERE ? IS NULL OR store_id = ? ORDER BY store_id')
      .all(only, only) as StoreRow[];
    const streams = this.db
      .prepare(
        'SELECT * FROM hub_streams WHERE ? IS NULL OR store_id = ? ORDER BY store_id, first_seen, epoch',
      )
      .all(only, only) as StreamRow[];
    const above = this.db
      .prepare('SELECT seq FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?')
      .pluck();
    const resends = this.resync.all();
    const epochsOf = new Map<string, StoreSummary['epochs']>();
    for (const st of streams) {
      const contiguous = st.contiguous_through as number;
      // Nothing is held above contiguous-through unless the highest seq is beyond it: skip the query.
      const gaps =
        (st.highest_seq as number) > contiguous
          ? findGaps(contiguous, above.all(st.store_id, st.epoch, contiguous, GAP_SCAN_LIMIT) as number[])
          : [];
      const list = epochsOf.get(st.store_id) ?? [];
      list.push(toEpochSummary(st, gaps, resends));
      epochsOf.set(st.store_id, list);
    }
    return stores.map((s) => toStoreSummary(s, epochsOf.get(s.store_id) ?? []));
  }

  async storeDay(storeId: string, businessDay: string): Promise<StoreDayRecord> {
    return this.days.storeDay(storeId, businessDay);
  }

  async chainDay(businessDay: string): Promise<ChainTillDay[]> {
    return this.days.chainDay(businessDay);
  }

  async unsentDayVerdicts(before: number, limit: number): Promise<StoreDayVerdict[]> {
    return this.days.unsentVerdicts(before, limit);
  }

  async recentDayVerdicts(storeId: string, since: number, limit: number): Promise<DayResult[]> {
    return this.days.recentVerdicts(storeId, since, limit);
  }

  async markDayVerdictsSent(storeId: string, results: readonly DayResult[], sentAt: number): Promise<void> {
    this.days.markSent(storeId, results, sentAt);
  }

  async unconfirmedDays(fromDay: string, toDay: string): Promise<UnconfirmedDays[]> {
    return this.days.unconfirmedDays(fromDay, toDay);
  }

  async planResend(
    storeId: string,
    epoch: string,
    ackedThrough: number,
    options: { hubId: string; now: number; reaskAfterMs: number; requestId: string },
  ): Promise<ResendAsk | undefined> {
    return this.resync.planResend(storeId, epoch, ackedThrough, options);
  }

  async dueResends(
    before: number,
    limit: number,
  ): Promise<{ storeId: string; epoch: string; ackedThrough: number }[]> {
    return this.resync.dueResends(before, limit);
  }

  async recordResendReport(
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
    const epoch =
      query.epoch ??
      (this.db.prepare('SELECT current_epoch FROM hub_stores WHERE store_id = ?').pluck().get(storeId) as
        string | null | undefined) ??
      null;
    if (epoch === null) return { epoch: null, events: [] };
    const rows = this.db
      .prepare('SELECT * FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(storeId, epoch, query.after ?? 0, query.limit) as EventRow[];
    return { epoch, events: rows.map(toEventRecord) };
  }

  async exportDay(storeId: string, businessDay: string): Promise<EventRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT e.* FROM hub_events e JOIN hub_streams s ON s.store_id = e.store_id AND s.epoch = e.epoch
         WHERE e.store_id = ? AND e.business_day = ? AND e.status = 'stored' AND e.type IN ${EXPORTED_TYPES_SQL}
         ORDER BY s.first_seen, e.epoch, e.seq`,
      )
      .all(storeId, businessDay) as EventRow[];
    return rows.map(toEventRecord);
  }

  async listQuarantine(storeId: string, limit: number): Promise<QuarantineRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM hub_quarantine WHERE store_id = ? ORDER BY id LIMIT ?')
      .all(storeId, limit) as QuarantineRow[];
    return rows.map(toQuarantineRecord);
  }

  async counts() {
    const c = this.db
      .prepare(
        'SELECT sum(stored) AS stored, sum(rejected) AS rejected, sum(duplicates) AS duplicates, sum(moved) AS moved FROM hub_streams',
      )
      .get() as {
      stored: number | null;
      rejected: number | null;
      duplicates: number | null;
      moved: number | null;
    };
    const q = this.db.prepare('SELECT count(*) FROM hub_quarantine').pluck().get() as number;
    return {
      stored: c.stored ?? 0,
      rejected: c.rejected ?? 0,
      duplicates: c.duplicates ?? 0,
      moved: c.moved ?? 0,
      quarantined: q,
    };
  }

  async insertPromotionVersion(version: NewPromotionVersion): Promise<boolean> {
    return this.promotions.insertPromotionVersion(version);
  }

  async promotionVersions(promotionId: string): Promise<PromotionVersionRecord[]> {
    return this.promotions.promotionVersions(promotionId);
  }

  async latestPromotionVersions(): Promise<PromotionVersionRecord[]> {
    return this.promotions.latestPromotionVersions();
  }

  async promotionVersionCount(): Promise<number> {
    return this.promotions.promotionVersionCount();
  }

  async markPromotionPublished(promotionId: string, version: number, at: number): Promise<void> {
    this.promotions.markPromotionPublished(promotionId, version, at);
  }

  async unpublishedPromotionVersions(): Promise<PromotionVersionRecord[]> {
    return this.promotions.unpublishedPromotionVersions();
  }

  async promotionRollout(promotionId: string): Promise<RolloutRecord[]> {
    return this.promotions.promotionRollout(promotionId);
  }

  async latestPromotionRollout(): Promise<RolloutRecord[]> {
    return this.promotions.latestPromotionRollout();
  }

  async recordStoreCatalogue(storeId: string, region: string | null, at: number): Promise<void> {
    this.promotions.recordStoreCatalogue(storeId, region, at);
  }

  async knownStores(): Promise<KnownStore[]> {
    return this.promotions.knownStores();
  }

  /** One table, never partitioned: nothing to make or drop (db.retentionMonths needs PostgreSQL). */
  async maintain(): Promise<StorageMaintenance> {
    return { created: [], movedFromDefault: 0, dropped: [], kept: [], failed: [] };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync spins forever on some special file systems
 * (a path under /proc), where the hub must fail with a message instead.
 */
function ensureDirectory(dir: string): void {
  const found = statSync(dir, { throwIfNoEntry: false });
  if (found?.isDirectory()) return;
  if (found) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), {
      code: 'ENOTDIR',
      path: dir,
    });
  }
  const parent = path.dirname(dir);
  if (parent !== dir) ensureDirectory(parent);
  mkdirSync(dir);
}
