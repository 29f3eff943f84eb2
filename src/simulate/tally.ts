import type { TransactionType } from '../contracts/transaction.js';

/** How one submission ended. `status` is the agent's last HTTP status, or 0 if none came back. */
export interface SubmissionOutcome {
  kind: 'new' | 'retry';
  type: TransactionType;
  status: number;
  duplicate: boolean;
  /** Why there was no usable answer: a network error, a request timeout, or the run's own stop. */
  failure?: 'network' | 'timeout' | 'aborted';
  /** The answer's text, or the error message: kept as a sample when the outcome is an error. */
  detail: string;
  /** Requests sent for it: more than 1 when the agent answered 503, or nothing, and the till tried again. */
  attempts: number;
  /** Attempts of those that got no answer at all (network error, timeout). */
  unanswered?: number;
}

export interface ErrorCount {
  count: number;
  /** The first answer of this kind, truncated: enough to see what went wrong without a log. */
  sample: string;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
}

export interface Tally {
  submitted: number;
  created: number;
  duplicates: number;
  /** Submissions that deliberately re-sent an accepted body (each should come back 200 duplicate). */
  deliberateRetries: number;
  /** Requests repeated after a 503, on top of `submitted`. */
  unavailableRetries: number;
  /** Requests repeated after no answer came back (a cut connection, a restarting agent, a timeout). */
  unansweredRetries: number;
  /**
   * New transactions whose answer was lost, and that were found stored when sent again (200 duplicate):
   * counted in `created`, as the agent did store them, once.
   */
  createdBeforeLostAnswer: number;
  transactions: Record<TransactionType, number>;
  /** Keyed by HTTP status ("400", "409", "503", …) or by failure ("network", "timeout", "aborted"). */
  errors: Record<string, ErrorCount>;
  latencyMs: LatencySummary;
}

const SAMPLE_CHARS = 500;

/** Counts outcomes and request latencies; pure bookkeeping, so the runner stays about I/O. */
export function createTally() {
  const latencies: number[] = [];
  const tally: Omit<Tally, 'latencyMs'> = {
    submitted: 0,
    created: 0,
    duplicates: 0,
    deliberateRetries: 0,
    unavailableRetries: 0,
    unansweredRetries: 0,
    createdBeforeLostAnswer: 0,
    transactions: { sale: 0, return: 0, void: 0 },
    errors: {},
  };
  return {
    latency(ms: number) {
      latencies.push(ms);
    },
    outcome(outcome: SubmissionOutcome) {
      const unanswered = outcome.unanswered ?? 0;
      tally.submitted += 1;
      tally.unavailableRetries += outcome.attempts - 1 - unanswered;
      tally.unansweredRetries += unanswered;
      if (outcome.kind === 'retry') tally.deliberateRetries += 1;
      else tally.transactions[outcome.type] += 1;
      if (outcome.status === 201) tally.created += 1;
      else if (outcome.kind === 'new' && unanswered > 0 && outcome.status === 200 && outcome.duplicate) {
        // Stored by an attempt whose answer was lost: a sale, not a till's deliberate repeat.
        tally.created += 1;
        tally.createdBeforeLostAnswer += 1;
      } else if (outcome.status === 200 && outcome.duplicate) tally.duplicates += 1;
      else {
        const key = outcome.failure ?? String(outcome.status);
        const entry = (tally.errors[key] ??= { count: 0, sample: outcome.detail.slice(0, SAMPLE_CHARS) });
        entry.count += 1;
      }
    },
    snapshot(): Tally {
      return {
        ...tally,
        transactions: { ...tally.transactions },
        errors: structuredClone(tally.errors),
        latencyMs: summariseLatency(latencies),
      };
    },
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Nearest-rank percentiles over every request sent (503 retries included), in milliseconds. */
export function summariseLatency(latencies: readonly number[]): LatencySummary {
  if (latencies.length === 0) return { p50: 0, p99: 0, max: 0 };
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted[sorted.length - 1]!) };
}
