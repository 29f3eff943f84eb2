import type { ActivityHistory, ActivityPoint } from '../contracts/window-api.js';

/**
 * Minute-by-minute activity for the window's chart, kept beside the agent so a reloaded window draws the
 * same picture. Fed with samples of the backlog and of the outbox's last seq: sales in a minute are the
 * growth of the seq, so nothing on the tills' path has to count them. Pure: time comes in with each sample.
 */
export class ActivityRecorder {
  private readonly points: ActivityPoint[] = [];
  private lastSeq: number | null = null;

  constructor(
    private readonly bucketSeconds = 60,
    private readonly keepBuckets = 6 * 60,
  ) {}

  record(atMs: number, backlog: number, lastSeq: number): void {
    const bucketMs = this.bucketSeconds * 1000;
    const start = new Date(Math.floor(atMs / bucketMs) * bucketMs).toISOString();
    // A new epoch starts its seqs again: count nothing for that step rather than a negative minute.
    const sales = this.lastSeq === null || lastSeq < this.lastSeq ? 0 : lastSeq - this.lastSeq;
    this.lastSeq = lastSeq;
    const last = this.points.at(-1);
    if (last && last.at === start) {
      last.backlog = backlog;
      last.sales += sales;
      return;
    }
    if (last && Date.parse(start) < Date.parse(last.at)) return; // the clock stepped back: keep the record monotonic
    this.points.push({ at: start, backlog, sales });
    if (this.points.length > this.keepBuckets) this.points.splice(0, this.points.length - this.keepBuckets);
  }

  view(): ActivityHistory {
    return { bucketSeconds: this.bucketSeconds, points: this.points.map((p) => ({ ...p })) };
  }
}
