import type Database from 'better-sqlite3';

/** A till's captures since a moment: the last one's time and how many. */
export interface TerminalActivity {
  terminalId: string;
  lastAt: number;
  count: number;
}

interface Statements {
  bounds: Database.Statement<[], { first: number | null; last: number | null }>;
  capturedAtOrAfter: Database.Statement<[number], number>;
  tills: Database.Statement<[number, number], TerminalActivity>;
}

const prepared = new WeakMap<Database.Database, Statements>();

function statementsOf(db: Database.Database): Statements {
  let stmt = prepared.get(db);
  if (!stmt) {
    stmt = {
      bounds: db.prepare('SELECT min(id) AS first, max(id) AS last FROM events'),
      capturedAtOrAfter: db
        .prepare<[number], number>('SELECT captured_at FROM events WHERE id >= ? ORDER BY id LIMIT 1')
        .pluck(),
      // Sales, returns and voids only: the store's own records (promotion rollout, a till's day close)
      // are not a till selling.
      tills: db.prepare(
        `SELECT terminal_id AS terminalId, max(captured_at) AS lastAt, count(*) AS count
         FROM events
         WHERE id >= ? AND captured_at >= ? AND type IN ('sale', 'return', 'void') AND terminal_id IS NOT NULL
         GROUP BY terminal_id`,
      ),
    };
    prepared.set(db, stmt);
  }
  return stmt;
}

/**
 * The tills that captured since `sinceMs`. Events are stored in capture order (their primary key), so
 * the first event since then is found by a binary search over the key (a few index seeks), and only the
 * events from there are counted, inside SQLite: the cost is the day's sales, never the month the outbox
 * retains, and no row becomes a JavaScript object.
 */
export function terminalsSince(db: Database.Database, sinceMs: number): TerminalActivity[] {
  const stmt = statementsOf(db);
  const { first, last } = stmt.bounds.get()!;
  if (first === null || last === null) return [];
  // Lowest id whose event was captured at or after sinceMs (a clock stepped back may leave a few
  // older events after it; the captured_at condition below leaves them out).
  let low = first;
  let high = last + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const at = stmt.capturedAtOrAfter.get(middle);
    if (at === undefined || at >= sinceMs) high = middle;
    else low = middle + 1;
  }
  if (low > last) return [];
  return stmt.tills.all(low, sinceMs);
}
