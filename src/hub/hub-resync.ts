import { randomUUID } from 'node:crypto';
import {
  SYNC_PROTOCOL_VERSION,
  topics,
  type ResendReport,
  type StoreCommand,
  type StoreStatusMessage,
} from '../contracts/sync-messages.js';
import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { HubMetrics } from './hub-metrics.js';
import type { PromotionPublisher } from './hub-promotions.js';
import type { HubStore } from './hub-store.js';
import { PeriodicSweep } from './periodic-sweep.js';

export interface HubResyncOptions {
  hubId: string;
  store: HubStore;
  publisher: PromotionPublisher;
  topicPrefix: string;
  logger: Logger;
  clock: Clock;
  metrics?: Pick<HubMetrics, 'resendCommands' | 'unrecoverableSeqs'>;
  /** An unanswered resend is asked again after this long (the store was offline, or the command was lost). */
  reaskAfterMs: number;
  sweepEveryMs: number;
}

const SWEEP_LIMIT = 200;

/**
 * Gets back from the stores what a restored hub database lost (docs/protocol.md, "Resync"). Every store's
 * retained status says how far head office acknowledged each of its epochs; head office acknowledges only
 * what it committed, so a store ahead of what the hub holds means the hub's rows are gone. One hub (the
 * database decides which) then publishes a `resend` command on the store's commands topic; the store
 * publishes again, as ordinary batches, what it still retains, stored exactly once like any redelivery,
 * and says from which seq it still had events: the seqs before that are unrecoverable, and shown so.
 * An unanswered command is repeated after `reaskAfterMs` while the store is online.
 */
export class HubResync {
  private readonly topic: ReturnType<typeof topics>;
  private readonly sweeper: PeriodicSweep;

  constructor(private readonly options: HubResyncOptions) {
    this.topic = topics(options.topicPrefix);
    this.sweeper = new PeriodicSweep(
      () => this.sweepOnce(),
      (error) =>
        options.logger.warn('could not look for unanswered resends; trying again later', {
          hubId: options.hubId,
          error: errorMessage(error),
        }),
    );
  }

  start(): void {
    this.sweeper.start(this.options.sweepEveryMs);
  }

  stop(): Promise<void> {
    return this.sweeper.stop();
  }

  /** A store's status: each epoch it reports acknowledged beyond what this hub holds is asked for again. */
  async onStatus(storeId: string, status: StoreStatusMessage): Promise<void> {
    if (status.state !== 'online' || !status.acked) return;
    for (const { epoch, through } of status.acked) await this.check(storeId, epoch, through);
  }

  /** Re-asks unanswered resends of online stores. */
  sweep(): Promise<void> {
    return this.sweeper.run();
  }

  private async sweepOnce(): Promise<void> {
    const { store, clock, reaskAfterMs } = this.options;
    for (const due of await store.dueResends(clock.now() - reaskAfterMs, SWEEP_LIMIT)) {
      if (this.sweeper.stopped) break;
      await this.check(due.storeId, due.epoch, due.ackedThrough);
    }
  }

  /** The store's answer: what it re-sent arrives as ordinary batches; what it no longer had is recorded as lost. */
  async onReport(storeId: string, report: ResendReport): Promise<void> {
    const { store, clock, logger, metrics } = this.options;
    const { epoch, resend } = report;
    const outcome = await store.recordResendReport(storeId, epoch, resend, clock.now());
    const fields = {
      storeId,
      epoch,
      requestId: resend.requestId,
      fromSeq: resend.fromSeq,
      availableFrom: resend.availableFrom,
      through: resend.through,
      askedByAHub: outcome.asked,
    };
    if (outcome.unrecoverable) {
      const { from, to } = outcome.unrecoverable;
      metrics?.unrecoverableSeqs.inc(to - from + 1);
      logger.error('the store no longer had events head office lost: they are unrecoverable', {
        ...fields,
        unrecoverableFrom: from,
        unrecoverableTo: to,
        count: to - from + 1,
      });
    } else {
      logger.info('the store re-sent everything head office lost', fields);
    }
  }

  private async check(storeId: string, epoch: string, ackedThrough: number): Promise<void> {
    const { store, clock, hubId, reaskAfterMs, logger, publisher, metrics } = this.options;
    let ask;
    try {
      ask = await store.planResend(storeId, epoch, ackedThrough, {
        hubId,
        now: clock.now(),
        reaskAfterMs,
        requestId: randomUUID(),
      });
    } catch (error) {
      logger.warn('could not decide on a resend; the next status or sweep decides again', {
        storeId,
        epoch,
        ackedThrough,
        error: errorMessage(error),
      });
      return;
    }
    if (!ask) return;
    const command: StoreCommand = {
      v: SYNC_PROTOCOL_VERSION,
      kind: 'resend',
      requestId: ask.requestId,
      epoch,
      fromSeq: ask.fromSeq,
      reason: `head office holds epoch ${epoch} only through seq ${ask.fromSeq - 1} but the store reports it acknowledged through ${ackedThrough} (the hub database was restored from a backup)`,
    };
    const fields = {
      storeId,
      epoch,
      fromSeq: ask.fromSeq,
      ackedThrough,
      requestId: ask.requestId,
      asks: ask.asks,
      hubId,
    };
    logger.warn(
      ask.asks === 1
        ? 'asking a store to send again what head office lost'
        : 'asking a store again to send what head office lost',
      fields,
    );
    metrics?.resendCommands.inc({ ask: ask.asks === 1 ? 'first' : 'again' });
    // Not awaited by ingest: a PUBACK may wait behind paused reading. A lost command is asked again.
    void publisher
      .publish(this.topic.commands(storeId), JSON.stringify(command), { retain: false })
      .catch((error: unknown) =>
        logger.warn('resend command not sent; it is asked again later', {
          ...fields,
          error: errorMessage(error),
        }),
      );
  }
}
