import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
  EventStatus,
  HubStore,
  IncomingEvent,
  InsertOutcome,
  KnownStore,
  NewPromotionVersion,
  PromotionVersionRecord,
  QuarantineRecord,
  EventRecord,
  RolloutRecord,
  StoreSummary,
} from './hub-store.js';
import { migrateSqlite } from '../lib/sqlite-migrations.js';
import { hubMigrations } from './hub-migrations.js';
import { rolloutWrites } from './promotion-rows.js';
import { SqlitePromotionStore } from './sqlite-promotion-store.js';
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
  private readonly promotions: SqlitePromotionStore;

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
    this.promotions = new SqlitePromotionStore(this.db);
  }

  /** Creates the stream row if new and returns it; inside the caller's write transaction. */
  private stream(storeId: string, epoch: string, receivedAt: number): StreamRow {
    this.db
      .prepare(
        `INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
         VALUES (?, ?, ?, ?, 0, 0) ON CONFLICT (store_id, epoch) DO UPDATE SET last_seen = excluded.last_seen`,
      )
      .run(storeId, epoch, receivedAt, receivedAt);
    return this.db
      .prepare('SELECT * FROM hub_streams WHERE store_id = ? AND epoch = ?')
      .get(storeId, epoch) as StreamRow;
  }

  /** Contiguous-through after new rows, read a bounded step at a time from where it stood. */
  private advance(storeId: string, epoch: string, from: number): number {
    const above = this.db
      .prepare('SELECT seq FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?')
      .pluck();
    let through = from;
    for (;;) {
      const seqs = above.all(storeId, epoch, through, CONTIGUITY_STEP) as number[];
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
  ): Promise<InsertOutcome> {
    const db = this.db;
    return db
      .transaction((): InsertOutcome => {
        const stream = this.stream(storeId, epoch, receivedAt);

        const facts: ExistingFacts = {
          bySeq: new Map(),
          storedByEventId: new Map(),
          storedByTransaction: new Map(),
        };
        const seqs = JSON.stringify(events.map((e) => e.seq));
        for (const r of db
          .prepare(
            'SELECT seq, event_id, body_hash, status FROM hub_events WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))',
          )
          .all(storeId, epoch, seqs) as {
          seq: number;
          event_id: string;
          body_hash: string | null;
          status: EventStatus;
        }[]) {
          facts.bySeq.set(r.seq, { eventId: r.event_id, bodyHash: r.body_hash, status: r.status });
        }
        for (const r of db
          .prepare(
            "SELECT event_id, epoch, seq FROM hub_events WHERE status = 'stored' AND event_id IN (SELECT value FROM json_each(?))",
          )
          .all(JSON.stringify(events.map((e) => e.eventId))) as {
          event_id: string;
          epoch: string;
          seq: number;
        }[]) {
          facts.storedByEventId.set(r.event_id, { epoch: r.epoch, seq: r.seq });
        }
        const keys = events
          .filter((e) => e.terminalId && e.transactionId)
          .map((e) => [e.terminalId, e.transactionId]);
        for (const r of db
          .prepare(
            `SELECT terminal_id, transaction_id, epoch, seq, body_hash, body FROM hub_events
             WHERE store_id = ? AND status = 'stored' AND (terminal_id, transaction_id) IN
               (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
          )
          .all(storeId, JSON.stringify(keys)) as {
          terminal_id: string;
          transaction_id: string;
          epoch: string;
          seq: number;
          body_hash: string;
          body: string;
        }[]) {
          facts.storedByTransaction.set(transactionKey(r.terminal_id, r.transaction_id), {
            epoch: r.epoch,
            seq: r.seq,
            bodyText: r.body,
            bodyHash: r.body_hash,
          });
        }

        const plan = classifyEvents(epoch, events, facts);
        const insert = db.prepare(
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
        const quarantine = db.prepare(
          `INSERT INTO hub_quarantine (store_id, epoch, seq, event_id, reason, received_at, body_hash, body)
           SELECT @storeId, @epoch, @seq, @eventId, @reason, @receivedAt, @bodyHash, @body WHERE NOT EXISTS
             (SELECT 1 FROM hub_quarantine WHERE store_id = @storeId AND epoch = @epoch AND seq = @seq AND body_hash = @bodyHash)`,
        );
        let quarantined = 0;
        for (const { event: e, reason } of plan.quarantine) {
          quarantined += quarantine.run({
            storeId,
            epoch,
            seq: e.seq,
            eventId: e.eventId,
            reason,
            receivedAt,
            bodyHash: e.bodyHash,
            body: storedBodyOf(e),
          }).changes;
        }

        this.promotions.writeRollout(storeId, rolloutWrites(plan.inserts), receivedAt);

        const contiguous = this.advance(storeId, epoch, stream.contiguous_through as number);
        const highest = Math.max(stream.highest_seq as number, ...plan.inserts.map((r) => r.event.seq));
        const tally = tallyInserts(plan.inserts);
        db.prepare(
          `UPDATE hub_streams SET contiguous_through = ?, highest_seq = ?, stored = stored + ?,
             rejected = rejected + ?, duplicates = duplicates + ? WHERE store_id = ? AND epoch = ?`,
        ).run(contiguous, highest, tally.stored, tally.rejected, tally.duplicate, storeId, epoch);
        db.prepare(
          `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES (?, ?, ?, ?)
           ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
             current_epoch = CASE WHEN hub_stores.current_epoch IS NULL THEN excluded.current_epoch ELSE hub_stores.current_epoch END,
             quarantined = hub_stores.quarantined + excluded.quarantined`,
        ).run(storeId, epoch, receivedAt, quarantined);
        return {
          ackedThrough: contiguous,
          highestSeq: highest,
          rejected: plan.rejected,
          conflicts: plan.conflicts,
          stored: plan.stored,
          duplicates: plan.duplicates,
        };
      })
      .immediate();
  }

  async closeEpoch(
    storeId: string,
    epoch: string,
    close: EpochClose['close'],
    receivedAt: number,
  ): Promise<CloseOutcome> {
    const db = this.db;
    return db
      .transaction((): CloseOutcome => {
        const stream = this.stream(storeId, epoch, receivedAt);
        const seqs = JSON.stringify(close.moved.map((m) => m.seq));
        const facts: CloseFacts = { bySeq: new Map(), quarantinedBySeq: new Map() };
        for (const r of db
          .prepare(
            `SELECT seq, event_id, status, moved_to_epoch, moved_to_seq FROM hub_events
             WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))`,
          )
          .all(storeId, epoch, seqs) as (Pick<EventRow, 'event_id' | 'status' | 'moved_to_epoch'> & {
          seq: number;
          moved_to_seq: number | null;
        })[]) {
          facts.bySeq.set(r.seq, {
            eventId: r.event_id,
            status: r.status,
            movedTo:
              r.moved_to_epoch !== null && r.moved_to_seq !== null
                ? { epoch: r.moved_to_epoch, seq: r.moved_to_seq }
                : null,
          });
        }
        for (const r of db
          .prepare(
            `SELECT seq, event_id, moved_to_epoch, moved_to_seq FROM hub_quarantine
             WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))`,
          )
          .all(storeId, epoch, seqs) as {
          seq: number;
          event_id: string;
          moved_to_epoch: string | null;
          moved_to_seq: number | null;
        }[]) {
          const copies = facts.quarantinedBySeq.get(r.seq) ?? [];
          copies.push({
            eventId: r.event_id,
            movedTo:
              r.moved_to_epoch !== null && r.moved_to_seq !== null
                ? { epoch: r.moved_to_epoch, seq: r.moved_to_seq }
                : null,
          });
          facts.quarantinedBySeq.set(r.seq, copies);
        }

        const plan = classifyClose(close, facts);
        const insert = db.prepare(
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
        const mark = db.prepare(
          `UPDATE hub_quarantine SET moved_to_epoch = ?, moved_to_seq = ?
           WHERE store_id = ? AND epoch = ? AND seq = ? AND event_id = ?`,
        );
        for (const m of plan.markInQuarantine)
          mark.run(close.nextEpoch, m.toSeq, storeId, epoch, m.seq, m.eventId);

        const contiguous = this.advance(storeId, epoch, stream.contiguous_through as number);
        const highest = Math.max(stream.highest_seq as number, ...plan.movedRows.map((m) => m.seq));
        const closedAtSeq = Math.max((stream.closed_at_seq as number | null) ?? 0, close.lastSeq, highest);
        db.prepare(
          `UPDATE hub_streams SET contiguous_through = ?, highest_seq = ?, moved = moved + ?, closed_at_seq = ?,
             next_epoch = coalesce(next_epoch, ?), closed_at = coalesce(closed_at, ?)
           WHERE store_id = ? AND epoch = ?`,
        ).run(
          contiguous,
          highest,
          plan.movedRows.length,
          closedAtSeq,
          close.nextEpoch,
          receivedAt,
          storeId,
          epoch,
        );
        db.prepare(
          `INSERT INTO hub_stores (store_id, current_epoch, last_seen, quarantined) VALUES (?, ?, ?, 0)
           ON CONFLICT (store_id) DO UPDATE SET last_seen = excluded.last_seen,
             current_epoch = CASE WHEN hub_stores.current_epoch IS NULL OR hub_stores.current_epoch = ?
               THEN excluded.current_epoch ELSE hub_stores.current_epoch END`,
        ).run(storeId, close.nextEpoch, receivedAt, epoch);
        return {
          ackedThrough: contiguous,
          highestSeq: highest,
          moved: plan.movedRows.length,
          markedInQuarantine: plan.markInQuarantine.length,
          alreadyHeld: plan.alreadyHeld,
          unmatched: plan.unmatched,
          closedAtSeq,
        };
      })
      .immediate();
  }

  async recordStoreStatus(storeId: string, status: StoreStatusMessage, at: number): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO hub_stores (store_id, current_epoch, last_seen, online, status_at, reported_backlog, agent_version, quarantined)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT (store_id) DO UPDATE SET
           current_epoch = coalesce(excluded.current_epoch, hub_stores.current_epoch),
           last_seen = excluded.last_seen, online = excluded.online, status_at = excluded.status_at,
           reported_backlog = coalesce(excluded.reported_backlog, hub_stores.reported_backlog),
           agent_version = coalesce(excluded.agent_version, hub_stores.agent_version)`,
      )
      .run(
        storeId,
        status.epoch ?? null,
        at,
        status.state === 'online' ? 1 : 0,
        at,
        status.backlog ?? null,
        status.version ?? null,
      );
  }

  async listStores(): Promise<StoreSummary[]> {
    const stores = this.db.prepare('SELECT * FROM hub_stores ORDER BY store_id').all() as {
      store_id: string;
      current_epoch: string | null;
      last_seen: number | null;
      online: number;
      reported_backlog: number | null;
      agent_version: string | null;
      quarantined: number;
    }[];
    const streams = this.db
      .prepare('SELECT * FROM hub_streams ORDER BY store_id, first_seen, epoch')
      .all() as StreamRow[];
    const above = this.db
      .prepare('SELECT seq FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?')
      .pluck();
    const epochsOf = new Map<string, StoreSummary['epochs']>();
    for (const st of streams) {
      const contiguous = st.contiguous_through as number;
      // Nothing is held above contiguous-through unless the highest seq is beyond it: skip the query.
      const gaps =
        (st.highest_seq as number) > contiguous
          ? findGaps(contiguous, above.all(st.store_id, st.epoch, contiguous, GAP_SCAN_LIMIT) as number[])
          : [];
      const list = epochsOf.get(st.store_id) ?? [];
      list.push(toEpochSummary(st, gaps));
      epochsOf.set(st.store_id, list);
    }
    return stores.map((s) => ({
      storeId: s.store_id,
      currentEpoch: s.current_epoch,
      online: s.online === 1,
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
         WHERE e.store_id = ? AND e.business_day = ? AND e.status = 'stored' ORDER BY s.first_seen, e.epoch, e.seq`,
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
