import type { AgentStatus } from '../contracts/status.js';
import {
  deadLetterIdSchema,
  discardRequestSchema,
  type DeadLetterActionOutcome,
  type PromotionsPanel,
  type WindowSnapshot,
} from '../contracts/window-api.js';
import type { Clock } from '../lib/clock.js';
import { ConflictError, errorMessage, NotFoundError, ValidationError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { CaptureInput, CaptureResult, TerminalActivity } from '../sync/index.js';
import { ActivityRing } from './activity-history.js';
import { LogNoticesTransport, RecentNotices } from './log-notices.js';
import { TerminalsToday, startOfLocalDay } from './terminals-today.js';
import { WindowChanges } from './window-changes.js';

/**
 * The store agent as the status window and the desktop shell use it. The running agent implements it
 * (startAgent's handle); the desktop app reaches it across its utility process (src/main/agent-service.ts),
 * the headless agent serves it over HTTP and server-sent events (src/capture/window-routes.ts).
 */
export interface ShellAgent {
  /** Captures accepted but not yet durable (their group commit still to run). */
  commitsInFlight(): number;
  /** False while the outbox cannot take writes (disk full, read-only, locked). */
  storageWritable(): boolean;
  /** Sales on this PC that head office has not acknowledged yet. */
  unsentCount(): number;
  /** What the status window shows; the desktop shell fills in the update line. */
  windowSnapshot(): Promise<WindowSnapshot>;
  /** Calls `listener` whenever the snapshot may have changed (coalesced); returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  retryDeadLetter(eventId: string): Promise<DeadLetterActionOutcome>;
  discardDeadLetter(eventId: string, note: string): Promise<DeadLetterActionOutcome>;
  /** Stops taking sales, finishes the commits in flight, closes the outbox. */
  stop(): Promise<void>;
}

export interface WindowServiceOptions {
  version: string;
  /** The store's IANA time zone, in which the window tells times. */
  timeZone?: string;
  clock: Clock;
  logger: Logger;
  /** The agent's status report, as GET /v1/status answers it. */
  status: () => AgentStatus;
  unsentCount: () => number;
  deadLetters: { retry(eventId: string): unknown; discard(eventId: string, note: string): void };
  /** Wakes delivery after a retry, so the sale leaves now rather than at delivery's next idle look. */
  afterRetry?: () => void;
  /** The tills that captured since an instant, read once at start (the outbox's terminalsSince). */
  terminalsSince: (sinceMs: number) => TerminalActivity[];
  /** In-memory state that changes without announcing itself (see WindowChanges.watch). */
  watch?: () => string;
  /** Promotions in force and the next one; without it, the panel says none. */
  promotions?: () => PromotionsPanel;
  pushIntervalMs?: number;
}

const NO_PROMOTIONS: PromotionsPanel = { inForce: [], next: null };
/** The backlog is sampled this often for the chart even while no window is open (a count, from a small table). */
const BACKLOG_SAMPLE_MS = 15_000;

/** The one place an error from a retry or discard becomes an answer the window can put into words. */
export function outcomeOfError(error: unknown): DeadLetterActionOutcome {
  const message = errorMessage(error);
  if (error instanceof NotFoundError) return { ok: false, refusal: 'not-found', message };
  if (error instanceof ConflictError) return { ok: false, refusal: 'not-dead', message };
  if (error instanceof ValidationError) return { ok: false, refusal: 'invalid', message };
  // Storage trouble (StorageUnavailableError) and anything else: the agent cannot do it now.
  return { ok: false, refusal: 'unavailable', message };
}

/**
 * What the status window shows, kept by the agent: the minute-by-minute chart, the tills seen today, the
 * recent warnings and errors (fed by a log transport), and the status itself; the two actions on dead
 * letters; and the change signal that drives live updates. Nothing here runs on the tills' path but an
 * in-memory count per capture.
 */
export class WindowService {
  private readonly history = new ActivityRing();
  private readonly terminals = new TerminalsToday();
  private readonly notices = new RecentNotices();
  private readonly changes: WindowChanges;
  private readonly transport: LogNoticesTransport;
  private sampler: NodeJS.Timeout | undefined;

  constructor(private readonly options: WindowServiceOptions) {
    this.changes = new WindowChanges({
      clock: options.clock,
      ...(options.watch ? { watch: options.watch } : {}),
      ...(options.pushIntervalMs !== undefined ? { minIntervalMs: options.pushIntervalMs } : {}),
    });
    this.transport = new LogNoticesTransport(
      this.notices,
      () => options.clock.now(),
      () => this.changes.notify(),
    );
  }

  /** Seeds today's tills from the outbox, starts hearing the log's warnings and sampling the backlog. */
  start(): void {
    const { clock, logger } = this.options;
    const now = clock.now();
    try {
      this.terminals.seed(this.options.terminalsSince(startOfLocalDay(now)), now);
    } catch (error) {
      logger.warn("could not read today's tills from the outbox", { error: errorMessage(error) });
    }
    logger.add(this.transport);
    this.sampleBacklog();
    this.sampler = setInterval(() => this.sampleBacklog(), BACKLOG_SAMPLE_MS);
    this.sampler.unref();
  }

  /**
   * After a group commit: counts the new sales. In memory only, and it never throws: it runs on the tills'
   * path, after their sales are durable, and the window must never cost a till its answer.
   */
  recordCaptures(items: readonly CaptureInput[], outcomes: readonly (CaptureResult | Error)[]): void {
    try {
      const now = this.options.clock.now();
      let sales = 0;
      outcomes.forEach((outcome, i) => {
        if (outcome instanceof Error || outcome.duplicate) return;
        sales += 1;
        this.terminals.record(items[i]!.terminalId, now);
      });
      if (sales === 0) return;
      this.history.addSales(now, sales);
      this.changes.notify();
    } catch (error) {
      this.options.logger.debug('the window could not count a capture', { error: errorMessage(error) });
    }
  }

  windowSnapshot(): Promise<WindowSnapshot> {
    return Promise.resolve().then(() => this.snapshot());
  }

  snapshot(): WindowSnapshot {
    const now = this.options.clock.now();
    const status = this.options.status();
    // Every look at the status feeds the chart, so the chart and the figures beside it agree.
    this.history.setBacklog(now, status.backlog.count);
    return {
      ...(this.options.timeZone ? { timeZone: this.options.timeZone } : {}),
      status,
      history: this.history.view(now),
      terminals: this.terminals.view(now),
      notices: this.notices.list(),
      promotions: this.promotions(),
      app: { version: this.options.version, update: { state: 'not-applicable' } },
    };
  }

  onChange(listener: () => void): () => void {
    return this.changes.subscribe(listener);
  }

  retryDeadLetter(eventId: string): Promise<DeadLetterActionOutcome> {
    return Promise.resolve(this.retry(eventId));
  }

  discardDeadLetter(eventId: string, note: string): Promise<DeadLetterActionOutcome> {
    return Promise.resolve(this.discard(eventId, note));
  }

  private retry(eventId: string): DeadLetterActionOutcome {
    const id = deadLetterIdSchema.safeParse(eventId);
    if (!id.success) return { ok: false, refusal: 'invalid', message: id.error.issues[0]!.message };
    return this.act(id.data, 'retried', () => {
      this.options.deadLetters.retry(id.data);
      this.options.afterRetry?.();
    });
  }

  private discard(eventId: string, note: string): DeadLetterActionOutcome {
    const id = deadLetterIdSchema.safeParse(eventId);
    if (!id.success) return { ok: false, refusal: 'invalid', message: id.error.issues[0]!.message };
    const request = discardRequestSchema.safeParse({ note });
    if (!request.success) return { ok: false, refusal: 'invalid', message: request.error.issues[0]!.message };
    return this.act(id.data, 'discarded', () => this.options.deadLetters.discard(id.data, request.data.note));
  }

  stop(): void {
    clearInterval(this.sampler);
    this.sampler = undefined;
    this.changes.stop();
    this.options.logger.remove(this.transport);
  }

  private act(eventId: string, state: 'retried' | 'discarded', run: () => void): DeadLetterActionOutcome {
    try {
      run();
    } catch (error) {
      return outcomeOfError(error);
    }
    this.options.logger.info(`dead letter ${state} from the status window`, { eventId });
    this.changes.notify();
    return { ok: true, result: { eventId, state } };
  }

  private promotions(): PromotionsPanel {
    try {
      return this.options.promotions?.() ?? NO_PROMOTIONS;
    } catch (error) {
      this.options.logger.debug('promotions for the window could not be read', {
        error: errorMessage(error),
      });
      return NO_PROMOTIONS;
    }
  }

  private sampleBacklog(): void {
    try {
      this.history.setBacklog(this.options.clock.now(), this.options.unsentCount());
    } catch {
      // storage trouble is reported by the status; the chart carries the last sample meanwhile
    }
  }
}
