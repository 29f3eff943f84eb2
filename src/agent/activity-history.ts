import type { ActivityHistory } from '../contracts/window-api.js';

interface Bucket {
  /** Minute number (ms since the Unix epoch / bucket length) this slot holds; -1 when never written. */
  minute: number;
  sales: number;
  /** The last backlog sampled in the minute; null when none was. */
  backlog: number | null;
}

/**
 * Minute-by-minute activity for the status window's chart, kept by the agent so a reloaded window draws
 * the same picture. A fixed ring of buckets (six hours of minutes by default): memory never grows, and
 * a slot is simply overwritten when its minute comes round again. Sales are counted as they are captured
 * (no query); the backlog is sampled whenever the agent looks at it, the last sample of a minute being
 * the one shown. Pure: time comes in with every call.
 */
export class ActivityRing {
  private readonly buckets: Bucket[];
  private readonly bucketMs: number;
  /** The newest minute written; a clock stepped back cannot make the ring show a future it no longer has. */
  private newest = -1;

  constructor(
    readonly bucketSeconds = 60,
    readonly keepBuckets = 6 * 60,
  ) {
    this.bucketMs = bucketSeconds * 1000;
    this.buckets = Array.from({ length: keepBuckets }, () => ({ minute: -1, sales: 0, backlog: null }));
  }

  addSales(atMs: number, count: number): void {
    if (count <= 0) return;
    const bucket = this.bucketAt(atMs);
    if (bucket) bucket.sales += count;
  }

  setBacklog(atMs: number, backlog: number): void {
    const bucket = this.bucketAt(atMs);
    if (bucket) bucket.backlog = backlog;
  }

  /**
   * Every minute from the first one recorded (at most `keepBuckets` ago) through `nowMs`, oldest first.
   * A minute without a backlog sample carries the one before it: the backlog only changes when the agent
   * sees it change, and a quiet minute has the same backlog as the minute before.
   */
  view(nowMs: number): ActivityHistory {
    const last = Math.max(this.minuteOf(nowMs), this.newest);
    const points: ActivityHistory['points'] = [];
    let backlog: number | null = null;
    for (let minute = last - this.keepBuckets + 1; minute <= last; minute++) {
      const bucket = this.buckets[this.slotOf(minute)]!;
      const held = bucket.minute === minute;
      if (held && bucket.backlog !== null) backlog = bucket.backlog;
      if (!held && points.length === 0) continue; // nothing recorded yet this far back
      if (held && backlog === null && bucket.sales === 0) continue;
      points.push({
        at: new Date(minute * this.bucketMs).toISOString(),
        backlog: backlog ?? 0,
        sales: held ? bucket.sales : 0,
      });
    }
    return { bucketSeconds: this.bucketSeconds, points };
  }

  private minuteOf(atMs: number): number {
    return Math.floor(atMs / this.bucketMs);
  }

  private slotOf(minute: number): number {
    return ((minute % this.keepBuckets) + this.keepBuckets) % this.keepBuckets;
  }

  /** The bucket of `atMs`, emptied first if it still holds an older minute; undefined when too old to keep. */
  private bucketAt(atMs: number): Bucket | undefined {
    const minute = this.minuteOf(atMs);
    if (this.newest !== -1 && minute <= this.newest - this.keepBuckets) return undefined;
    const bucket = this.buckets[this.slotOf(minute)]!;
    if (bucket.minute !== minute) {
      if (bucket.minute > minute) return undefined; // the slot already holds a later minute
      bucket.minute = minute;
      bucket.sales = 0;
      bucket.backlog = null;
    }
    if (minute > this.newest) this.newest = minute;
    return bucket;
  }
}
