import type { Clock } from '../lib/clock.js';

export interface WindowChangesOptions {
  clock: Clock;
  /** Listeners hear at most one change per this interval: a busy store changes every few milliseconds. */
  minIntervalMs?: number;
  /** Without a change, listeners still hear this often (ages in words move on; another process may have acted). */
  quietRefreshMs?: number;
  /**
   * What the agent keeps in memory but does not announce (the link's state, the last acknowledgement,
   * storage and log file health), as a string: looked at every `watchEveryMs` while someone listens, a
   * change of it counts as a change. It must read memory only, never the disk.
   */
  watch?: () => string;
  watchEveryMs?: number;
}

export const WINDOW_PUSH_INTERVAL_MS = 500;
const QUIET_REFRESH_MS = 30_000;
const WATCH_EVERY_MS = 1_000;

/**
 * Tells the window's listeners that what it shows may have changed: coalesced (a burst of sales is one
 * message), and only while someone listens (no timer runs for a window nobody has open). Captures, log
 * notices and actions announce themselves with `notify()`; the rest is noticed by the in-memory watch.
 */
export class WindowChanges {
  private readonly listeners = new Set<() => void>();
  private readonly minIntervalMs: number;
  private readonly quietRefreshMs: number;
  private lastPush = Number.NEGATIVE_INFINITY;
  private pushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private lastWatched: string | undefined;
  private stopped = false;

  constructor(private readonly options: WindowChangesOptions) {
    this.minIntervalMs = options.minIntervalMs ?? WINDOW_PUSH_INTERVAL_MS;
    this.quietRefreshMs = options.quietRefreshMs ?? QUIET_REFRESH_MS;
  }

  /** Something the window shows changed; listeners hear it within `minIntervalMs`. */
  notify(): void {
    if (this.stopped || this.listeners.size === 0 || this.pushTimer) return;
    const wait = Math.max(0, this.lastPush + this.minIntervalMs - this.options.clock.monotonic());
    this.pushTimer = setTimeout(() => this.push(), wait);
    this.pushTimer.unref();
  }

  subscribe(listener: () => void): () => void {
    if (this.stopped) return () => {};
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.startTimers();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopTimers();
    };
  }

  stop(): void {
    this.stopped = true;
    this.listeners.clear();
    this.stopTimers();
  }

  private push(): void {
    this.pushTimer = undefined;
    this.lastPush = this.options.clock.monotonic();
    for (const listener of [...this.listeners]) listener();
  }

  private startTimers(): void {
    // A new listener reads the whole picture as it subscribes: the quiet refresh counts from there.
    this.lastPush = this.options.clock.monotonic();
    this.lastWatched = this.options.watch?.();
    const tick = Math.min(this.options.watchEveryMs ?? WATCH_EVERY_MS, this.quietRefreshMs);
    this.refreshTimer = setInterval(() => {
      const watched = this.options.watch?.();
      if (watched !== this.lastWatched) {
        this.lastWatched = watched;
        this.notify();
      } else if (this.options.clock.monotonic() - this.lastPush >= this.quietRefreshMs) {
        this.notify();
      }
    }, tick);
    this.refreshTimer.unref();
  }

  private stopTimers(): void {
    clearTimeout(this.pushTimer);
    clearInterval(this.refreshTimer);
    this.pushTimer = undefined;
    this.refreshTimer = undefined;
  }
}
