import type Database from 'better-sqlite3';

export interface AmountAtRisk {
  currency: string;
  amount: number;
}

export interface OutboxStats {
  epoch: string;
  lastSeq: number;
  unsent: { count: number; oldestCapturedAt: number | null; atRisk: AmountAtRisk[] };
  lastAck: { seq: number; at: number } | null;
  deadLetters: number;
  total: number;
}

/** Acknowledged events deleted per statement: each chunk is a short transaction, and the caller yields between them. */
export const PRUNE_CHUNK = 1000;

export interface OutboxCounts {
  stats(): OutboxStats;
  /** Events not yet delivered (dead letters excluded). */
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
    epoch: db.prepare<[], string>("SELECT value FROM meta WHERE key = 'epoch'").pluck(),
    lastSeq: db.prepare<[string], number>('SELECT last_seq FROM epochs WHERE epoch = ?').pluck(),
    counts: db.prepare<[], { state: string; currency: string; events: number; amount: number }>(
      'SELECT state, currency, events, amount FROM event_counts WHERE events <> 0',
    ),
    unsentCount: db
      .prepare<[], number>("SELECT coalesce(sum(events), 0) FROM event_counts WHERE state = 'pending'")
      .pluck(),
    // The first entry of a partial index (events_unsent_age).
    oldestUnsent: db
      .prepare<[], number | null>("SELECT min(captured_at) FROM events WHERE state = 'pending'")
      .pluck(),
    lastAck: db.prepare<[string], { seq: number | null; at: number | null }>(
      'SELECT acked_seq AS seq, acked_at AS at FROM epochs WHERE epoch = ?',
    ),
    prune: pruneDb.prepare<[number, number]>(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE state = 'acked' AND acked_at < ? ORDER BY acked_at LIMIT ?)`,
    ),
  };

  const stats = db.transaction((): OutboxStats => {
    const epoch = stmt.epoch.get()!;
    let pending = 0;
    let dead = 0;
    let total = 0;
    const atRisk = new Map<string, number>();
    for (const row of stmt.counts.all()) {
      total += row.events;
      if (row.state === 'pending') pending += row.events;
      if (row.state === 'dead') dead += row.events;
      if (row.state === 'pending' || row.state === 'dead')
        atRisk.set(row.currency, (atRisk.get(row.currency) ?? 0) + row.amount);
    }
    const lastAck = stmt.lastAck.get(epoch);
    return {
      epoch,
      lastSeq: stmt.lastSeq.get(epoch)!,
      unsent: {
        count: pending,
        oldestCapturedAt: pending > 0 ? stmt.oldestUnsent.get()! : null,
        atRisk: [...atRisk]
          .filter(([, amount]) => amount !== 0)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([currency, amount]) => ({ currency, amount })),
      },
      lastAck: lastAck?.seq != null && lastAck.at != null ? { seq: lastAck.seq, at: lastAck.at } : null,
      deadLetters: dead,
      total,
    };
  });

  return {
    stats: () => stats(),
    unsentCount: () => stmt.unsentCount.get()!,
    pruneChunk: (olderThanMs, limit) => stmt.prune.run(olderThanMs, limit).changes,
  };
}
