import { setTimeout as sleep } from 'node:timers/promises';

export interface PacerOptions {
  ratePerSecond: number;
  durationSeconds: number;
  /** Monotonic milliseconds (performance.now), so a wall-clock jump cannot burst or stall the run. */
  now: () => number;
  /** Stops handing out slots at once. */
  signal: AbortSignal;
}

export interface Pacer {
  /** The most slots this run will ever hand out: rate × duration, rounded down. */
  readonly budget: number;
  /** Monotonic instant at which no further slot starts. */
  readonly deadline: number;
  /** Claims the next send slot and waits until it is due; undefined once the run is over. */
  take(): Promise<number | undefined>;
}

/**
 * An open-loop schedule shared by all tills: slot i is due at start + i / rate. A till that falls
 * behind (slow answers) takes the overdue slots at once, so the agent sees the offered load rather than
 * one politely reduced by its own latency; the budget caps the total whatever happens.
 */
export function createPacer(options: PacerOptions): Pacer {
  const start = options.now();
  const interval = 1000 / options.ratePerSecond;
  const budget = Math.floor(options.ratePerSecond * options.durationSeconds);
  const deadline = start + options.durationSeconds * 1000;
  let nextSlot = 0;
  return {
    budget,
    deadline,
    async take() {
      if (options.signal.aborted || nextSlot >= budget) return undefined;
      const slot = nextSlot;
      nextSlot += 1;
      const wait = start + slot * interval - options.now();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal: options.signal });
        } catch {
          return undefined;
        }
      }
      if (options.signal.aborted || options.now() >= deadline) return undefined;
      return slot;
    },
  };
}
