import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../lib/errors.js';

export interface SubmitOptions {
  /** The agent's POST /v1/transactions URL. */
  url: string;
  token: string;
  bodyText: string;
  requestTimeoutMs: number;
  /**
   * The run's hard stop (its end plus a grace period): cancels a request in flight and ends retries.
   * Until then a till keeps trying, as a real one would with a customer waiting.
   */
  hardStop: AbortSignal;
  /** Every request sent, with its latency: retries count as requests of their own. */
  onAttempt(latencyMs: number): void;
}

export interface SubmitAnswer {
  /** The last HTTP status, or 0 if no answer came back. */
  status: number;
  text: string;
  /** The answer parsed as JSON, or its text if it was not JSON; undefined without an answer. */
  body: unknown;
  failure?: 'network' | 'timeout' | 'aborted';
  attempts: number;
  /**
   * Attempts that got no answer (a network error, a timeout) and were sent again. The agent may have
   * stored the transaction before the answer was lost: the next attempt is then answered as a duplicate.
   */
  unanswered: number;
  latencyMs: number;
}

const BACKOFF_FIRST_MS = 50;
const BACKOFF_MAX_MS = 2000;

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Sends one transaction the way a real till does, until it has an answer: 503 means the agent cannot
 * store right now (disk full, read-only) and nothing was stored; no answer at all (the connection was cut,
 * the agent restarted, the request timed out) means the till cannot know. In both cases it waits a little
 * and sends the same bytes again: an exact re-submission is answered 200 duplicate if the first one was
 * stored, so nothing is stored twice and nothing is lost. Any other answer is final. Node's global fetch
 * keeps connections alive between requests.
 */
export async function submitTransaction(options: SubmitOptions): Promise<SubmitAnswer> {
  let unanswered = 0;
  for (let attempt = 1; ; attempt += 1) {
    const timeout = AbortSignal.timeout(options.requestTimeoutMs);
    const started = performance.now();
    let answer: Omit<SubmitAnswer, 'attempts' | 'unanswered' | 'latencyMs'>;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        body: options.bodyText,
        signal: AbortSignal.any([timeout, options.hardStop]),
      });
      const text = await response.text();
      answer = { status: response.status, text, body: parseBody(text) };
    } catch (error) {
      const failure = options.hardStop.aborted ? 'aborted' : timeout.aborted ? 'timeout' : 'network';
      const cause = error instanceof Error && error.cause ? `: ${errorMessage(error.cause)}` : '';
      answer = { status: 0, text: `${errorMessage(error)}${cause}`, body: undefined, failure };
    }
    const latencyMs = performance.now() - started;
    if (answer.failure !== 'aborted') options.onAttempt(latencyMs);
    const retry = answer.status === 503 || answer.failure === 'network' || answer.failure === 'timeout';
    if (!retry || options.hardStop.aborted) return { ...answer, attempts: attempt, unanswered, latencyMs };
    if (answer.status === 0) unanswered += 1;
    // Jitter spreads the tills out, so a recovering agent is not hit by all of them in the same instant.
    const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (attempt - 1)) * (0.5 + Math.random());
    try {
      await sleep(backoff, undefined, { signal: options.hardStop });
    } catch {
      return { ...answer, attempts: attempt, unanswered, latencyMs };
    }
  }
}
