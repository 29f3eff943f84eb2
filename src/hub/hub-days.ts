import type { DayResult } from '../contracts/day-close.js';
import { SYNC_PROTOCOL_VERSION, topics, type DayAck } from '../contracts/sync-messages.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { HubMetrics } from './hub-metrics.js';
import type { PromotionPublisher } from './hub-promotions.js';
import type { HubStore } from './hub-store.js';
import { PeriodicSweep } from './periodic-sweep.js';

export interface HubDaysOptions {
  store: HubStore;
  publisher: PromotionPublisher;
  topicPrefix: string;
  logger: Logger;
  clock: Clock;
  metrics?: Pick<HubMetrics, 'dayVerdicts'>;
  /** A verdict no broker took this long after its judgement (its hub stopped first) is sent by any hub. */
  sweepAfterMs?: number;
  sweepEveryMs?: number;
}

/** How far back a store that comes online is sent its verdicts again: a week of business days. */
const RESEND_ON_CONNECT_MS = 7 * 24 * 3600_000;
const SWEEP_LIMIT = 500;

/**
 * Head office's verdicts on the tills' business days, on their way to the stores (`day` acks on each
 * store's acks topic, docs/protocol.md "Business days"). A verdict is stored by the commit that made it;
 * publishing it is this class's job:
 * - after that commit, at once (not awaited: on the ingest path a PUBACK may wait behind paused reading);
 * - marked sent once the broker took it, so a verdict whose hub stopped first is published by a sweep;
 * - sent again, a week's worth, whenever a store comes back online: stores connect with a clean session,
 *   so whatever was published while one was offline never reached it. The latest `at` wins at the store.
 */
export class HubDays {
  private readonly topic: ReturnType<typeof topics>;
  private readonly sweeper: PeriodicSweep;

  constructor(private readonly options: HubDaysOptions) {
    this.topic = topics(options.topicPrefix);
    this.sweeper = new PeriodicSweep(
      () => this.sendUnsent(),
      (error) =>
        options.logger.warn('could not look for unsent day verdicts; trying again later', {
          error: errorMessage(error),
        }),
    );
  }

  start(): void {
    this.sweeper.start(this.options.sweepEveryMs ?? 30_000);
  }

  stop(): Promise<void> {
    return this.sweeper.stop();
  }

  /** Verdicts a commit made or changed. */
  publish(storeId: string, results: readonly DayResult[]): void {
    if (results.length === 0 || this.sweeper.stopped) return;
    void this.send(storeId, results, 'judged');
  }

  /** The store's retained status turned online: its recent verdicts again. */
  async onStoreOnline(storeId: string): Promise<void> {
    const { store, clock } = this.options;
    const results = await store.recentDayVerdicts(storeId, clock.now() - RESEND_ON_CONNECT_MS, SWEEP_LIMIT);
    if (results.length > 0) await this.send(storeId, results, 'store online');
  }

  /** Publishes verdicts judged a while ago that no broker took (their hub stopped before publishing). */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private async sendUnsent(): Promise<void> {
    const { store, clock } = this.options;
    const due = await store.unsentDayVerdicts(
      clock.now() - (this.options.sweepAfterMs ?? 15_000),
      SWEEP_LIMIT,
    );
    const byStore = new Map<string, DayResult[]>();
    for (const v of due) byStore.set(v.storeId, [...(byStore.get(v.storeId) ?? []), v.result]);
    await Promise.all([...byStore].map(([storeId, results]) => this.send(storeId, results, 'unsent')));
  }

  private async send(storeId: string, results: readonly DayResult[], why: string): Promise<void> {
    const { publisher, store, clock, logger, metrics } = this.options;
    const sent: DayResult[] = [];
    await Promise.all(
      results.map(async (day) => {
        const ack: DayAck = { v: SYNC_PROTOCOL_VERSION, kind: 'day', day };
        const fields = {
          storeId,
          terminalId: day.terminalId,
          businessDay: day.businessDay,
          state: day.state,
          why,
        };
        try {
          await publisher.publish(this.topic.acks(storeId), JSON.stringify(ack), { retain: false });
          sent.push(day);
          metrics?.dayVerdicts.inc({ state: day.state });
          logger.info('sent a day verdict to the store', {
            ...fields,
            missing: day.differences.missing.length,
            extra: day.differences.extra.length,
            totalsDiffering: day.differences.totals.length,
          });
        } catch (error) {
          logger.warn('day verdict not sent; it is sent again later', {
            ...fields,
            error: errorMessage(error),
          });
        }
      }),
    );
    if (sent.length === 0) return;
    await store.markDayVerdictsSent(storeId, sent, clock.now()).catch((error: unknown) =>
      logger.warn('could not mark day verdicts as sent; they may be sent again', {
        storeId,
        error: errorMessage(error),
      }),
    );
  }
}
