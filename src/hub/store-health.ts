import { Gauge, type Registry } from 'prom-client';
import type { StoreSummary, UnconfirmedDays } from './hub-store.js';
import { rangeSize } from './resend-rules.js';

/** What an operator alerts on, per store (the `store` label is the only one: one series per store each). */
export interface StoreHealth {
  storeId: string;
  online: boolean;
  /** Unsent events the store last reported; null when it never said. */
  backlog: number | null;
  /** Age of its oldest unsent event (its last status); 0 when nothing waits, null when it did not say. */
  oldestUnsentAgeSeconds: number | null;
  /** Seqs expected (held above a gap, or reported acknowledged) but not held contiguously, lost ones aside. */
  contiguousLag: number;
  /** Missing ranges still expected to arrive. */
  openGaps: number;
  quarantined: number;
  /** Seqs head office lost that the store no longer had. */
  unrecoverable: number;
  /** Business days of the window with a till not confirmed (mismatched, or sold and never closed). */
  daysNotConfirmed: number;
  daysMismatched: number;
}

/** The business days the day gauges count: the week before the hub's current (UTC) day, today excluded. */
export function dayWindow(now: number, days = 7): { from: string; to: string } {
  const day = (offset: number) => new Date(now - offset * 86_400_000).toISOString().slice(0, 10);
  return { from: day(days), to: day(1) };
}

/** Per-store health from the stores' summaries and their unconfirmed days. Pure. */
export function storeHealth(
  stores: readonly StoreSummary[],
  unconfirmed: readonly UnconfirmedDays[],
  now: number,
): StoreHealth[] {
  const days = new Map(unconfirmed.map((u) => [u.storeId, u]));
  return stores.map((s) => {
    let contiguousLag = 0;
    let openGaps = 0;
    let unrecoverable = 0;
    for (const e of s.epochs) {
      const acked = s.acked?.find((a) => a.epoch === e.epoch)?.through ?? 0;
      const lost = rangeSize(e.unrecoverable);
      contiguousLag += Math.max(0, Math.max(e.lastSeq, acked) - e.contiguousThrough - lost);
      openGaps += e.gaps.length;
      unrecoverable += lost;
    }
    const oldest = s.oldestUnsentAt === null ? null : Date.parse(s.oldestUnsentAt);
    const u = days.get(s.storeId);
    return {
      storeId: s.storeId,
      online: s.online,
      backlog: s.reportedBacklog,
      oldestUnsentAgeSeconds:
        oldest !== null ? Math.max(0, (now - oldest) / 1000) : s.reportedBacklog === 0 ? 0 : null,
      contiguousLag,
      openGaps,
      quarantined: s.quarantined,
      unrecoverable,
      daysNotConfirmed: (u?.mismatched ?? 0) + (u?.notClosed ?? 0),
      daysMismatched: u?.mismatched ?? 0,
    };
  });
}

const SERIES: { name: string; help: string; value: (h: StoreHealth) => number | null }[] = [
  {
    name: 'online',
    help: 'Whether the store is connected (its retained status)',
    value: (h) => (h.online ? 1 : 0),
  },
  { name: 'backlog', help: 'Unsent events the store last reported', value: (h) => h.backlog },
  {
    name: 'oldest_unsent_age_seconds',
    help: "Age of the store's oldest unsent event, from its last status (0: nothing waits)",
    value: (h) => h.oldestUnsentAgeSeconds,
  },
  {
    name: 'contiguous_lag',
    help: 'Seqs the hub expects of the store (held beyond a gap, or reported acknowledged) but does not hold contiguously, lost ones aside',
    value: (h) => h.contiguousLag,
  },
  { name: 'open_gaps', help: 'Missing seq ranges still expected to arrive', value: (h) => h.openGaps },
  {
    name: 'quarantined',
    help: "Events quarantined for review (another writer's event under a held seq)",
    value: (h) => h.quarantined,
  },
  {
    name: 'unrecoverable_seqs',
    help: 'Seqs head office lost (a restored database) that the store no longer had',
    value: (h) => h.unrecoverable,
  },
  {
    name: 'days_not_confirmed',
    help: 'Business days of the last 7 (today excluded) with a till not confirmed: mismatched, or sold and never closed',
    value: (h) => h.daysNotConfirmed,
  },
  {
    name: 'days_mismatched',
    help: 'Business days of the last 7 (today excluded) with a till whose Z-report disagrees with head office',
    value: (h) => h.daysMismatched,
  },
];

/**
 * Registers the per-store gauges (`outpost_hub_store_*{store="…"}`), read from the database when scraped.
 * One read serves every gauge of a scrape; a failed read leaves the gauges empty for that scrape.
 */
export function registerStoreHealth(registry: Registry, read: () => Promise<StoreHealth[]>): void {
  let snapshot: { at: number; health: Promise<StoreHealth[]> } | undefined;
  const current = () => {
    const now = performance.now();
    if (!snapshot || now - snapshot.at > 1_000) snapshot = { at: now, health: read() };
    return snapshot.health;
  };
  for (const series of SERIES) {
    new Gauge({
      name: `outpost_hub_store_${series.name}`,
      help: series.help,
      labelNames: ['store'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const health = await current().catch(() => []);
        for (const h of health) {
          const value = series.value(h);
          if (value !== null) this.set({ store: h.storeId }, value);
        }
      },
    });
  }
}
