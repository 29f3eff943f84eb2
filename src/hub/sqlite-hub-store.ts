import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoreStatusMessage } from '../contracts/sync-messages.js';
import {
  advanceContiguous,
  classifyEvents,
  findGaps,
  transactionKey,
  type ExistingFacts,
} from './classify-events.js';
import type {
  EventStatus,
  HubStore,
  IncomingEvent,
  InsertOutcome,
  QuarantinedEvent,
  StoredEvent,
  StoreSummary,
} from './hub-store.js';
import { migrateSqlite } from '../lib/sqlite-migrations.js';
import { hubMigrations } from './hub-migrations.js';
import { isoFromMs, toStoredEvent, type EventRow } from './hub-rows.js';

const iso = isoFromMs;

/**
 * The embedded hub database. Several hub processes may share the file: each write is an IMMEDIATE
 * transaction, which SQLite serialises, with a busy timeout to wait for the other writer.
 */
export class SqliteHubStore implements HubStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    try {
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
        db.prepare(
          `INSERT INTO hub_streams (store_id, epoch, first_seen, last_seen, contiguous_through, highest_seq)
           VALUES (?, ?, ?, ?, 0, 0) ON CONFLICT (store_id, epoch) DO UPDATE SET last_seen = excluded.last_seen`,
        ).run(storeId, epoch, receivedAt, receivedAt);
        const stream = db
          .prepare('SELECT contiguous_through, highest_seq FROM hub_streams WHERE store_id = ? AND epoch = ?')
          .get(storeId, epoch) as { contiguous_through: number; highest_seq: number };

        const facts: ExistingFacts = {
          bySeq: new Map(),
          storedByEventId: new Map(),
          storedByTransaction: new Map(),
        };
        const seqs = JSON.stringify(events.map((e) => e.seq));
        for (const r of db
          .prepare(
            'SELECT seq, body_hash, status FROM hub_events WHERE store_id = ? AND epoch = ? AND seq IN (SELECT value FROM json_each(?))',
          )
          .all(storeId, epoch, seqs) as { seq: number; body_hash: string; status: EventStatus }[]) {
          facts.bySeq.set(r.seq, { bodyHash: r.body_hash, status: r.status });
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
            e.bodyText,
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
            body: e.bodyText,
          }).changes;
        }

        const above = db
          .prepare('SELECT seq FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq')
          .pluck()
          .all(storeId, epoch, stream.contiguous_through) as number[];
        const contiguous = advanceContiguous(stream.contiguous_through, above);
        const highest = Math.max(stream.highest_seq, above.at(-1) ?? 0);
        db.prepare(
          'UPDATE hub_streams SET contiguous_through = ?, highest_seq = ? WHERE store_id = ? AND epoch = ?',
        ).run(contiguous, highest, storeId, epoch);
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
    const streams = this.db.prepare('SELECT * FROM hub_streams WHERE store_id = ? ORDER BY first_seen');
    const tally = this.db.prepare(
      "SELECT sum(status = 'stored') AS stored, sum(status = 'rejected') AS rejected, sum(status = 'duplicate') AS duplicates FROM hub_events WHERE store_id = ? AND epoch = ?",
    );
    const above = this.db
      .prepare(
        'SELECT seq FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT 100000',
      )
      .pluck();
    return stores.map((s) => ({
      storeId: s.store_id,
      currentEpoch: s.current_epoch,
      online: s.online === 1,
      lastSeen: iso(s.last_seen),
      reportedBacklog: s.reported_backlog,
      agentVersion: s.agent_version,
      quarantined: s.quarantined,
      epochs: (
        streams.all(s.store_id) as {
          epoch: string;
          first_seen: number;
          last_seen: number;
          contiguous_through: number;
          highest_seq: number;
        }[]
      ).map((st) => {
        const t = tally.get(s.store_id, st.epoch) as {
          stored: number | null;
          rejected: number | null;
          duplicates: number | null;
        };
        return {
          epoch: st.epoch,
          firstSeen: iso(st.first_seen)!,
          lastSeen: iso(st.last_seen)!,
          lastSeq: st.highest_seq,
          contiguousThrough: st.contiguous_through,
          gaps: findGaps(
            st.contiguous_through,
            above.all(s.store_id, st.epoch, st.contiguous_through) as number[],
          ),
          stored: t.stored ?? 0,
          rejected: t.rejected ?? 0,
          duplicates: t.duplicates ?? 0,
        };
      }),
    }));
  }

  async listTransactions(storeId: string, query: { epoch?: string; after?: number; limit: number }) {
    const epoch =
      query.epoch ??
      (this.db.prepare('SELECT current_epoch FROM hub_stores WHERE store_id = ?').pluck().get(storeId) as
        string | null | undefined) ??
      null;
    if (epoch === null) return { epoch: null, events: [] };
    const rows = this.db
      .prepare('SELECT * FROM hub_events WHERE store_id = ? AND epoch = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(storeId, epoch, query.after ?? 0, query.limit) as EventRow[];
    return { epoch, events: rows.map(toStoredEvent) };
  }

  async exportDay(storeId: string, businessDay: string): Promise<StoredEvent[]> {
    const rows = this.db
      .prepare(
        `SELECT e.* FROM hub_events e JOIN hub_streams s ON s.store_id = e.store_id AND s.epoch = e.epoch
         WHERE e.store_id = ? AND e.business_day = ? AND e.status = 'stored' ORDER BY s.first_seen, e.seq`,
      )
      .all(storeId, businessDay) as EventRow[];
    return rows.map(toStoredEvent);
  }

  async listQuarantine(storeId: string, limit: number): Promise<QuarantinedEvent[]> {
    const rows = this.db
      .prepare('SELECT * FROM hub_quarantine WHERE store_id = ? ORDER BY id LIMIT ?')
      .all(storeId, limit) as {
      store_id: string;
      epoch: string;
      seq: number;
      event_id: string;
      reason: string;
      received_at: number;
      body: string;
    }[];
    return rows.map((r) => ({
      storeId: r.store_id,
      epoch: r.epoch,
      seq: r.seq,
      eventId: r.event_id,
      reason: r.reason,
      receivedAt: iso(r.received_at)!,
      body: JSON.parse(r.body) as unknown,
    }));
  }

  async counts() {
    const c = this.db
      .prepare(
        "SELECT sum(status = 'stored') AS stored, sum(status = 'rejected') AS rejected, sum(status = 'duplicate') AS duplicates FROM hub_events",
      )
      .get() as { stored: number | null; rejected: number | null; duplicates: number | null };
    const q = this.db.prepare('SELECT count(*) FROM hub_quarantine').pluck().get() as number;
    return {
      stored: c.stored ?? 0,
      rejected: c.rejected ?? 0,
      duplicates: c.duplicates ?? 0,
      quarantined: q,
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
