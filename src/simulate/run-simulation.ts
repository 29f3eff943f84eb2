import { randomBytes, randomInt } from 'node:crypto';
import { captureAcceptedSchema } from '../contracts/api.js';
import type { Transaction, TransactionType } from '../contracts/transaction.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { createBasketGenerator } from './basket.js';
import { createPacer } from './pacer.js';
import { priceBasket } from './price.js';
import { submitTransaction } from './submit.js';
import { createTally, type Tally } from './tally.js';

/** A terminal identity the agent knows (its `api.terminals[]` entry): id and bearer token. */
export interface SimulatedTerminal {
  id: string;
  token: string;
}

export interface SimulationOptions {
  /** The agent's base URL, e.g. http://127.0.0.1:8787. */
  agentUrl: string;
  /** Tills take these identities in turn; with more tills than terminals, tills share them. */
  terminals: readonly SimulatedTerminal[];
  /** Tills selling at once. Default: one per terminal. */
  tills?: number;
  /** Target transactions per second, all tills together. */
  ratePerSecond: number;
  durationSeconds: number;
  /** Same seed, same baskets (transactionIds still differ by run id). Default: random, reported. */
  seed?: number;
  /** Prefix of every transactionId. Default: random, so runs never collide at the agent. */
  runId?: string;
  /** ISO 4217. Default EUR. */
  currency?: string;
  /** The store's offset from UTC, for occurredAt and the business day. Default 0. */
  utcOffsetMinutes?: number;
  /** Chance that a till deliberately re-sends an accepted body. Default 0.03. */
  retryProbability?: number;
  returnProbability?: number;
  voidProbability?: number;
  /** One HTTP request's limit. Default 10 s. */
  requestTimeoutMs?: number;
  /**
   * Submissions still in flight at the end of the run (waiting for an answer, or retrying after 503) get
   * this long to finish before they are cancelled. Default 5 s.
   */
  gracePeriodMs?: number;
  /** Stops early: no new submissions; those in flight get the grace period to finish. */
  signal?: AbortSignal;
  /** Called once per submission with its final outcome. Must not throw; if it does, the run stops and rejects. */
  onResult?: (result: SubmissionResult) => void;
  /** Called every `progressIntervalMs` with the figures so far. */
  onProgress?: (progress: SimulationSummary) => void;
  progressIntervalMs?: number;
  /** Source of occurredAt. Pacing uses the monotonic clock regardless. */
  clock?: Clock;
  /**
   * Price each new sale through the agent's `POST /v1/baskets/price` first, so sales carry the
   * promotions the store holds (with none in force, they carry none). Default false: the simulator's own
   * stand-in promotions (catalogue.ts), for an agent or a stand-in that does not price baskets.
   */
  priceWithAgent?: boolean;
}

/** How pricing through the agent went (with `priceWithAgent`). */
export interface PricingSummary {
  /** Baskets sent to the agent. */
  asked: number;
  /** Of those, priced; the rest were sold at shelf prices. */
  priced: number;
  /** Priced baskets that got at least one promotion's discount. */
  withPromotions: number;
  /** Promotion ids that gave a discount, with how many baskets each. */
  promotions: Record<string, number>;
  /** The first failure to price, truncated (e.g. 404 from an agent without the endpoint). */
  failureSample?: string;
}

export interface SubmissionResult {
  kind: 'new' | 'retry';
  type: TransactionType;
  /** 0-based till index. */
  till: number;
  terminalId: string;
  transactionId: string;
  /** The exact JSON string sent. */
  bodyText: string;
  transaction: Transaction;
  /** The agent's last HTTP status, or 0 if no answer came back. */
  status: number;
  /** The agent's answer parsed as JSON (its text if not JSON; undefined without an answer). */
  response: unknown;
  failure?: 'network' | 'timeout' | 'aborted';
  /** Requests sent: more than 1 after 503s or lost answers. */
  attempts: number;
  /** Of those, attempts that got no answer and were sent again. */
  unanswered: number;
  /** Latency of the last request, in ms. */
  latencyMs: number;
}

export interface SimulationSummary extends Tally {
  runId: string;
  seed: number;
  agentUrl: string;
  target: { ratePerSecond: number; durationSeconds: number; tills: number; maxSubmissions: number };
  elapsedSeconds: number;
  /** Submissions per second actually achieved. */
  achievedRate: number;
  /** True when the caller's signal stopped the run before its duration. */
  aborted: boolean;
  /** Present with `priceWithAgent`. */
  pricing?: PricingSummary;
}

function requirePositive(name: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0))
    throw new RangeError(`${name} must be a positive number, got ${value}`);
}

/**
 * Runs simulated tills against a store agent: each till sells, waits for the answer, sells again, all
 * paced together to the target rate. Bounded by construction: at most rate × duration submissions, none
 * started after the duration, and in-flight requests cut off after the grace period.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  requirePositive('ratePerSecond', options.ratePerSecond);
  requirePositive('durationSeconds', options.durationSeconds);
  if (options.terminals.length === 0) throw new RangeError('at least one terminal is needed');
  const tillCount = options.tills ?? options.terminals.length;
  if (!Number.isInteger(tillCount) || tillCount < 1)
    throw new RangeError(`tills must be a whole number ≥ 1, got ${tillCount}`);
  // Relative to the base, so an agent behind a reverse proxy under a path prefix is reached there.
  const base = options.agentUrl.endsWith('/') ? options.agentUrl : `${options.agentUrl}/`;
  const endpoint = new URL('v1/transactions', base).toString();
  const priceEndpoint = new URL('v1/baskets/price', base).toString();
  const clock = options.clock ?? systemClock;
  const seed = options.seed ?? randomInt(1, 2 ** 31);
  const runId = options.runId ?? `sim-${randomBytes(6).toString('hex')}`;
  const terminalOf = (till: number) => options.terminals[till % options.terminals.length]!;

  const generator = createBasketGenerator({
    seed,
    runId,
    tills: Array.from({ length: tillCount }, (_, i) => ({ terminalId: terminalOf(i).id })),
    currency: options.currency ?? 'EUR',
    utcOffsetMinutes: options.utcOffsetMinutes ?? 0,
    retryProbability: options.retryProbability,
    returnProbability: options.returnProbability,
    voidProbability: options.voidProbability,
  });
  const tally = createTally();
  const pricing: PricingSummary | undefined = options.priceWithAgent
    ? { asked: 0, priced: 0, withPromotions: 0, promotions: {} }
    : undefined;

  // Two stages of stopping: `stop` ends new submissions; `hardStop`, a grace period later, cancels what is
  // still in flight, 503 retries included.
  const stop = new AbortController();
  const hardStop = new AbortController();
  let graceTimer: NodeJS.Timeout | undefined;
  stop.signal.addEventListener('abort', () => {
    graceTimer = setTimeout(() => hardStop.abort(), options.gracePeriodMs ?? 5000);
  });
  const onCallerAbort = () => stop.abort();
  if (options.signal?.aborted) stop.abort();
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const started = performance.now();
  const pacer = createPacer({
    ratePerSecond: options.ratePerSecond,
    durationSeconds: options.durationSeconds,
    now: () => performance.now(),
    signal: stop.signal,
  });
  const deadlineTimer = setTimeout(() => stop.abort(), options.durationSeconds * 1000);

  const summary = (): SimulationSummary => {
    const elapsedSeconds = (performance.now() - started) / 1000;
    const figures = tally.snapshot();
    return {
      runId,
      seed,
      agentUrl: options.agentUrl,
      target: {
        ratePerSecond: options.ratePerSecond,
        durationSeconds: options.durationSeconds,
        tills: tillCount,
        maxSubmissions: pacer.budget,
      },
      ...figures,
      elapsedSeconds: Math.round(elapsedSeconds * 1000) / 1000,
      achievedRate: elapsedSeconds > 0 ? Math.round((figures.submitted / elapsedSeconds) * 100) / 100 : 0,
      aborted: options.signal?.aborted ?? false,
      ...(pricing ? { pricing: structuredClone(pricing) } : {}),
    };
  };
  const progressTimer = options.onProgress
    ? setInterval(() => options.onProgress?.(summary()), options.progressIntervalMs ?? 5000)
    : undefined;

  const runTill = async (till: number): Promise<void> => {
    const terminal = terminalOf(till);
    const plan = async (at: number) => {
      if (!pricing) return generator.next(till, at);
      const next = generator.nextForPricing(till, at);
      if (next.kind !== 'basket') return next;
      pricing.asked += 1;
      const answer = await priceBasket({
        url: priceEndpoint,
        token: terminal.token,
        basket: next.basket,
        requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
        hardStop: hardStop.signal,
      });
      if (answer.priced) {
        pricing.priced += 1;
        if (answer.priced.promotions.length > 0) pricing.withPromotions += 1;
        for (const p of answer.priced.promotions)
          pricing.promotions[p.promotionId] = (pricing.promotions[p.promotionId] ?? 0) + 1;
      } else {
        pricing.failureSample ??= answer.failure.slice(0, 500);
      }
      return next.complete(answer.priced);
    };
    while ((await pacer.take()) !== undefined) {
      const planned = await plan(clock.now());
      const answer = await submitTransaction({
        url: endpoint,
        token: terminal.token,
        bodyText: planned.bodyText,
        requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
        hardStop: hardStop.signal,
        onAttempt: (ms) => tally.latency(ms),
      });
      const accepted = captureAcceptedSchema.safeParse(answer.body);
      const duplicate = answer.status === 200 && accepted.success && accepted.data.duplicate === true;
      if (answer.status === 201 || duplicate) generator.accepted(planned);
      tally.outcome({
        kind: planned.kind,
        type: planned.transaction.type,
        status: answer.status,
        duplicate,
        failure: answer.failure,
        detail: answer.text,
        attempts: answer.attempts,
        unanswered: answer.unanswered,
      });
      options.onResult?.({
        kind: planned.kind,
        type: planned.transaction.type,
        till,
        terminalId: planned.transaction.terminalId,
        transactionId: planned.transaction.transactionId,
        bodyText: planned.bodyText,
        transaction: planned.transaction,
        status: answer.status,
        response: answer.body,
        failure: answer.failure,
        attempts: answer.attempts,
        unanswered: answer.unanswered,
        latencyMs: answer.latencyMs,
      });
    }
  };

  try {
    const tills = Array.from({ length: tillCount }, (_, till) =>
      runTill(till).catch((error: unknown) => {
        // One till failing (a throwing onResult) ends the run rather than leave the others selling unseen.
        stop.abort();
        hardStop.abort();
        throw error;
      }),
    );
    const settled = await Promise.allSettled(tills);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return summary();
  } finally {
    clearTimeout(deadlineTimer);
    clearTimeout(graceTimer);
    clearInterval(progressTimer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}
