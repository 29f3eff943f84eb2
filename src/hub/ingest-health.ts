import type { Clock } from '../lib/clock.js';
import type { CommitPhase } from './hub-store.js';

export interface IngestHealthBounds {
  /** A commit waiting longer than this makes the hub unhealthy. */
  stuckAfterMs: number;
  /** A failed commit keeps the hub unhealthy this long, unless a commit of the same store epoch succeeds. */
  failureHoldMs: number;
}

/** One commit being watched: the ingest tells it where the commit stands and how it ended. */
export interface CommitAttempt {
  phase(phase: CommitPhase): void;
  succeeded(): void;
  failed(reason: string): void;
}

interface Running {
  storeId: string;
  epoch: string;
  what: string;
  startedAt: number;
  phase: CommitPhase;
}

interface Failure {
  storeId: string;
  epoch: string;
  what: string;
  at: number;
  reason: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Whether ingest is getting anywhere, for /healthz: a hub whose commits hang on a lock (an operator's
 * psql session holding a store's row, a database that stopped answering) must not look healthy while
 * stores' events pile up. Unhealthy while a commit has waited past the bound, and for a while after one
 * failed (its store publishes the batch again later, so "failed and not yet retried" is still stuck),
 * until a commit of the same store epoch succeeds. Each problem names the store, epoch and seqs, and
 * what the commit waits for. Elapsed time is read on the monotonic clock.
 */
export class IngestHealth {
  private readonly running = new Map<number, Running>();
  private readonly failures = new Map<string, Failure>();
  private nextId = 0;

  constructor(
    private readonly clock: Clock,
    private readonly bounds: IngestHealthBounds,
  ) {}

  begin(storeId: string, epoch: string, what: string): CommitAttempt {
    const id = this.nextId++;
    const key = `${storeId}\u0000${epoch}`;
    const entry: Running = {
      storeId,
      epoch,
      what,
      startedAt: this.clock.monotonic(),
      phase: 'a database connection',
    };
    this.running.set(id, entry);
    return {
      phase: (phase) => {
        entry.phase = phase;
      },
      succeeded: () => {
        this.running.delete(id);
        this.failures.delete(key);
      },
      failed: (reason) => {
        this.running.delete(id);
        this.failures.set(key, { storeId, epoch, what, at: this.clock.monotonic(), reason });
      },
    };
  }

  /** Plain-language problems, empty when ingest is healthy. */
  problems(): string[] {
    const now = this.clock.monotonic();
    const problems: string[] = [];
    for (const r of this.running.values()) {
      const waited = now - r.startedAt;
      if (waited > this.bounds.stuckAfterMs) {
        problems.push(
          `store ${r.storeId} epoch ${r.epoch}: storing ${r.what} has waited ${seconds(waited)} for ${r.phase} (bound ${seconds(this.bounds.stuckAfterMs)})`,
        );
      }
    }
    for (const [key, f] of this.failures) {
      const ago = now - f.at;
      if (ago > this.bounds.failureHoldMs) {
        this.failures.delete(key);
        continue;
      }
      problems.push(
        `store ${f.storeId} epoch ${f.epoch}: storing ${f.what} failed ${seconds(ago)} ago (${f.reason}); the store will publish it again`,
      );
    }
    return problems;
  }
}
