import type Database from 'better-sqlite3';
import { epochQueries } from './outbox-database.js';

export interface AmountAtRisk {
  currency: string;
  amount: number;
}

export interface OutboxStats {
  epoch: string;
  lastSeq: number;
  /**
   * What the store manager reads as "waiting": the POS's sales, returns and voids not yet acknowledged
   * (count, oldest, money). The store's own records (promotion rollout reports, day closes) are counted
   * apart in `records`: they are delivered the same way but carry no money and are no sale.
   */
  unsent: { count: number; oldestCapturedAt: number | null; atRisk: AmountAtRisk[]; records: number };
  lastAck: { seq: number; at: number } | null;
  deadLetters: number;
  total: number;
}

const TRANSACTION_TYPES: ReadonlySet<string> = new Set(['sale', 'return', 'void']);

/** Acknowledged events deleted per statement: each chunk is a short transaction, and the caller yields between them. */
export const PRUNE_CHUNK = 1000;

/**
 * What the store's retained status tells head office about delivery (storeStatusSchema): what waits and
 * since when, per business day, and how far head office acknowledged each epoch still held here.
 */
export interface DeliveryFacts {
  epoch: string;
  /** Events not yet delivered, the store's records included (dead letters excluded). */
  backlog: number;
  /** When the oldest unsent sale, return or void was captured (ms); null when none waits. */
  oldestUnsentAt: number | null;
  /** Newest epoch first, at most ACKED_EPOCHS_REPORTED. */
  acked: { epoch: string; through: number }[];
  /** Unsent sales, returns and voids per business day, oldest day first, at most UNSENT_DAYS_REPORTED. */
  unsentByDay: { businessDay: string; count: number }[];
}

/** The contract's bounds on the status (storeStatusSchema). */
export const ACKED_EPOCHS_REPORTED = 10;
export const UNSENT_DAYS_REPORTED = 31;

export interface OutboxCounts {
  stats(): OutboxStats;
  deliveryFacts(): DeliveryFacts;
  /** Events not yet delivered, the store's records included (dead letters excluded). */
  unsentCount(): number;
  /** Deletes at most `limit` acknowledged events older than the cut-off, oldest first; returns how many. */
  pruneChunk(olderThanMs: number, limit: number): number;
}

/**
 * What the status page and the retained MQTT status need, at a cost that does not grow with history:
 * counts and amounts come from event_counts (kept by triggers, so a CLI process beside the agent keeps
 * them right too), the rest from indexes (oldest unsent, last acknowledged). No statement here reads
 * every retained event; after a month a busy store retains millions.
 */
export function prepareOutboxCounts(db: Database.Database, pruneDb: Database.Database = db): OutboxCounts {
  const stmt = {
    counts: db.prepare<[], { state: string; type: string; currency: string; events: number; amount: number }>(
      'SELECT state, type, currency, events, amount FROM event_counts WHERE events <> 0',
    ),
    unsentCount: db
      .prepare<[], number>("SELECT coalesce(sum(events), 0) FROM event_counts WHERE state = 'pending'")
      .pluck(),
    // The partial index events_unsent_age in order, past the few store records that may come first.
    oldestUnsent: db
      .prepare<[], number>(
        `SELECT captured_at FROM events WHERE state = 'pending' AND type IN ('sale', 'return', 'void')
         ORDER BY captured_at LIMIT 1`,
      )
      .pluck(),
    lastAck: db.prepare<[string], { seq: number | null; at: number | null }>(
      'SELECT acked_seq AS seq, acked_at AS at FROM epochs WHERE epoch = ?',
    ),
    unsentByDay: db.prepare<[number], { businessDay: string; count: number }>(
      `SELECT business_day AS businessDay, events AS count FROM unsent_days
       WHERE events > 0 AND business_day <> '' ORDER BY business_day LIMIT ?`,
    ),
    // How far head office acknowledged each epoch with events still here: its last acknowledged seq, but
    // never past an event of it still waiting (a batch acknowledged ahead of an earlier one proves
    // nothing about the earlier one), so a hub never takes a wait for a loss of its own.
    acked: db.prepare<[number], { epoch: string; through: number }>(
      `SELECT epoch,
              min(acked_seq, coalesce((SELECT min(seq) FROM events
                                       WHERE events.epoch = epochs.epoch AND state = 'pending') - 1, acked_seq)) AS through
       FROM epochs
       WHERE acked_seq IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE events.epoch = epochs.epoch)
       ORDER BY started_at DESC, rowid DESC LIMIT ?`,
    ),
    prune: pruneDb.prepare<[number, number]>(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE state = 'acked' AND acked_at < ? ORDER BY acked_at LIMIT ?)`,
    ),
  };

  const epochs = epochQueries(db);
  const stats = db.transaction((): OutboxStats => {
    const epoch = epochs.current();
    let pending = 0;
    let records = 0;
    let dead = 0;
    let total = 0;
    const atRisk = new Map<string, number>();
    for (const row of stmt.counts.all()) {
      const isTransaction = TRANSACTION_TYPES.has(row.type);
      total += row.events;
      if (row.state === 'pending') {
        if (isTransaction) pending += row.events;
        else records += row.events;
      }
      if (row.state === 'dead') dead += row.events;
      if (isTransaction && (row.state === 'pending' || row.state === 'dead'))
        atRisk.set(row.currency, (atRisk.get(row.currency) ?? 0) + row.amount);
    }
    const lastAck = stmt.lastAck.get(epoch);
    return {
      epoch,
      lastSeq: epochs.lastSeq(epoch)!,
      unsent: {
        count: pending,
        oldestCapturedAt: pending > 0 ? (stmt.oldestUnsent.get() ?? null) : null,
        atRisk: [...atRisk]
          .filter(([, amount]) => amount !== 0)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([currency, amount]) => ({ currency, amount })),
        records,
      },
      lastAck: lastAck?.seq != null && lastAck.at != null ? { seq: lastAck.seq, at: lastAck.at } : null,
      deadLetters: dead,
      total,
    };
  });

  const deliveryFacts = db.transaction((): DeliveryFacts => {
    const backlog = stmt.unsentCount.get()!;
    return {
      epoch: epochs.current(),
      backlog,
      oldestUnsentAt: backlog > 0 ? (stmt.oldestUnsent.get() ?? null) : null,
      acked: stmt.acked.all(ACKED_EPOCHS_REPORTED),
      unsentByDay: stmt.unsentByDay.all(UNSENT_DAYS_REPORTED),
    };
  });

  return {
    stats: () => stats(),
    deliveryFacts: () => deliveryFacts(),
    unsentCount: () => stmt.unsentCount.get()!,
    pruneChunk: (olderThanMs, limit) => stmt.prune.run(olderThanMs, limit).changes,
  };
}
