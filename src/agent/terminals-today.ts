import type { TerminalSeen } from '../contracts/window-api.js';
import type { TerminalActivity } from '../sync/index.js';

/** The PC's own calendar day of an instant, e.g. 2026-11-23: "today" is the store's day, not UTC's. */
export function localDay(atMs: number): string {
  const d = new Date(atMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Midnight of the PC's day holding `atMs`, in ms since the Unix epoch. */
export function startOfLocalDay(atMs: number): number {
  const d = new Date(atMs);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/**
 * The tills seen today, each with its last sale and how many it sold, so a till that fell silent stands
 * out. Kept in memory as captures happen (a map update per sale, nothing read back), seeded once at start
 * from the outbox; a new day starts empty. Pure: time comes in with every call.
 */
export class TerminalsToday {
  private day: string | null = null;
  private readonly tills = new Map<string, { lastAt: number; count: number }>();

  constructor(private readonly dayOf: (atMs: number) => string = localDay) {}

  /** What the outbox holds for today, read once when the agent starts. */
  seed(rows: readonly TerminalActivity[], nowMs: number): void {
    this.rollOver(nowMs);
    for (const row of rows) {
      if (this.dayOf(row.lastAt) !== this.day) continue;
      const known = this.tills.get(row.terminalId);
      this.tills.set(row.terminalId, {
        lastAt: Math.max(row.lastAt, known?.lastAt ?? 0),
        count: row.count + (known?.count ?? 0),
      });
    }
  }

  record(terminalId: string, atMs: number): void {
    this.rollOver(atMs);
    const known = this.tills.get(terminalId);
    if (known) {
      known.count += 1;
      if (atMs > known.lastAt) known.lastAt = atMs;
    } else {
      this.tills.set(terminalId, { lastAt: atMs, count: 1 });
    }
  }

  view(nowMs: number): TerminalSeen[] {
    this.rollOver(nowMs);
    return [...this.tills]
      .map(([terminalId, t]) => ({
        terminalId,
        lastSaleAt: new Date(t.lastAt).toISOString(),
        salesToday: t.count,
      }))
      .sort((a, b) => a.terminalId.localeCompare(b.terminalId, undefined, { numeric: true }));
  }

  private rollOver(nowMs: number): void {
    const today = this.dayOf(nowMs);
    // Only forward: a clock stepped back over midnight must not wipe the day's record.
    if (this.day !== null && today <= this.day) return;
    this.day = today;
    this.tills.clear();
  }
}
