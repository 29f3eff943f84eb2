import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { MqttConfig } from '../contracts/agent-config.js';
import {
  ackSchema,
  SYNC_PROTOCOL_VERSION,
  topics,
  type Ack,
  type StoreStatusMessage,
} from '../contracts/sync-messages.js';
import type { BackoffPolicy } from '../lib/backoff.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { buildEventBatch, type BatchLimits } from './batch-builder.js';
import { mqttClientOptions, type MqttConnect } from '../lib/mqtt-connection.js';
import { ReconnectingMqtt, type LinkState } from '../lib/reconnecting-mqtt.js';
import type { Outbox } from './outbox.js';

export type ConnectionState = LinkState;

export interface SyncTuning {
  batch: BatchLimits;
  /** Wait this long after a capture before publishing, so a burst travels as one batch. */
  lingerMs: number;
  /** Batches published but not yet acknowledged, at most. */
  maxInFlightBatches: number;
  /** No acknowledgement progress for this long: publish everything unacknowledged again. */
  ackTimeoutMs: number;
  reconnect: BackoffPolicy;
  /** How often the retained status (with the backlog) is refreshed while online. */
  statusEveryMs: number;
}

export const DEFAULT_SYNC_TUNING: SyncTuning = {
  batch: { maxEvents: 500, maxBytes: 1024 * 1024 },
  lingerMs: 5,
  maxInFlightBatches: 8,
  ackTimeoutMs: 10_000,
  reconnect: { initialMs: 500, maxMs: 30_000 },
  statusEveryMs: 30_000,
};

export interface SyncEngineOptions {
  storeId: string;
  outbox: Outbox;
  mqtt: MqttConfig;
  logger: Logger;
  version: string;
  clock?: Clock;
  connect?: MqttConnect;
  tuning?: Partial<SyncTuning>;
  /** Extra subscriptions (promotions) and where their messages go. */
  extraTopics?: string[];
  onMessage?: (topic: string, payload: Buffer) => void;
}

interface InFlight {
  epoch: string;
  lastSeq: number;
  sentAt: number;
}

/**
 * Delivers the outbox to head office. The outbox is the only source of truth: on every (re)connect and
 * after an acknowledgement timeout, publishing restarts from the first unacknowledged event, so nothing
 * depends on the broker's session or on mqtt.js's in-memory queues. Publishing never blocks capture: it
 * runs in batches with a turn of the event loop between them, and never while disconnected.
 */
export class SyncEngine {
  private readonly tuning: SyncTuning;
  private readonly clock: Clock;
  private readonly topic: ReturnType<typeof topics>;
  private readonly link: ReconnectingMqtt;
  private cursor = 0;
  private inFlight: InFlight[] = [];
  private pumping = false;
  private pumpAgain = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastAckAt: number | null = null;
  private reportedBacklog: number | null = null;

  constructor(private readonly options: SyncEngineOptions) {
    this.tuning = { ...DEFAULT_SYNC_TUNING, ...options.tuning };
    this.clock = options.clock ?? systemClock;
    this.topic = topics(options.mqtt.topicPrefix);
    const { storeId, mqtt: config } = options;
    this.link = new ReconnectingMqtt({
      name: `store ${storeId}`,
      url: config.url,
      clientOptions: mqttClientOptions(config, {
        clientId: config.clientId ?? `outpost-agent-${storeId}`,
        // The will is fixed at connect time, so it carries no backlog: just "offline".
        will: {
          topic: this.topic.status(storeId),
          payload: Buffer.from(this.statusPayload('offline')),
          qos: 1,
          retain: true,
        },
      }),
      logger: options.logger,
      backoff: this.tuning.reconnect,
      clock: this.clock,
      ...(options.connect ? { connect: options.connect } : {}),
      onConnect: async (client) => {
        await client.subscribeAsync([this.topic.acks(storeId), ...(options.extraTopics ?? [])], { qos: 1 });
        await client.publishAsync(this.topic.status(storeId), this.statusPayload('online'), {
          qos: 1,
          retain: true,
        });
        // Every connection starts again from the outbox: whatever the last one had in flight may be lost.
        this.restartFromOutbox();
        setImmediate(() => void this.pump());
      },
      onMessage: (topic, payload) => this.onMessage(topic, payload),
      onDown: () => this.restartFromOutbox(),
    });
  }

  start(): void {
    this.link.start();
    this.watchdog = setInterval(() => this.checkAckTimeout(), Math.min(1000, this.tuning.ackTimeoutMs));
    this.watchdog.unref();
    this.statusTimer = setInterval(() => this.publishStatus(), this.tuning.statusEveryMs);
    this.statusTimer.unref();
  }

  /** Called after each durable capture: schedules a publish soon, so bursts share a batch. */
  notifyCaptured(): void {
    if (this.lingerTimer || !this.link.client) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      void this.pump();
    }, this.tuning.lingerMs);
  }

  connection(): {
    state: ConnectionState;
    since: number;
    lastError: string | null;
    lastAckAt: number | null;
  } {
    return { ...this.link.status(), lastAckAt: this.lastAckAt };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.lingerTimer);
    clearInterval(this.watchdog);
    clearInterval(this.statusTimer);
    // A clean goodbye: the retained status says offline now, rather than after the broker's keep-alive.
    await this.link.stop((client) =>
      client
        .publishAsync(this.topic.status(this.options.storeId), this.statusPayload('offline'), {
          qos: 1,
          retain: true,
        })
        .then(() => {}),
    );
  }

  private publishStatus(): void {
    this.link.client?.publish(this.topic.status(this.options.storeId), this.statusPayload('online'), {
      qos: 1,
      retain: true,
    });
  }

  /** Forget what was published and start again from the first unacknowledged event in the outbox. */
  private restartFromOutbox(): void {
    this.cursor = 0;
    this.inFlight = [];
  }

  private checkAckTimeout(): void {
    const oldest = this.inFlight[0];
    if (!oldest) {
      // Idle, but another process may have queued work in the outbox (`outpost deadletters retry` beside
      // a running agent): no capture, ack or reconnect would wake the pump for it, so look now and then.
      if (this.link.client) void this.pump();
      return;
    }
    if (this.clock.now() - oldest.sentAt < this.tuning.ackTimeoutMs) return;
    this.options.logger.warn('no acknowledgement in time; publishing unacknowledged events again', {
      storeId: this.options.storeId,
      epoch: oldest.epoch,
      afterSeq: oldest.lastSeq,
    });
    this.restartFromOutbox();
    void this.pump();
  }

  /** Publishes batches until the window is full or nothing is left; one pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (;;) {
          const client = this.link.client;
          if (!client || this.stopped || this.inFlight.length >= this.tuning.maxInFlightBatches) break;
          const { outbox, storeId } = this.options;
          const epoch = outbox.epoch;
          const events = outbox.unsentAfter(this.cursor, this.tuning.batch.maxEvents);
          const batch = buildEventBatch(storeId, epoch, events, this.tuning.batch);
          if (!batch) break;
          client.publish(this.topic.events(storeId), batch.payload, { qos: 1 }, (error) => {
            // With MQTT 5 the broker says why it refused (an ACL, a size limit); the outbox still holds the
            // events and the ack timeout publishes them again, so this is reported, not handled.
            if (error) this.reportPublishRefused(error);
          });
          this.cursor = batch.lastSeq;
          this.inFlight.push({ epoch, lastSeq: batch.lastSeq, sentAt: this.clock.now() });
          // Let capture requests in between batches: a big backlog must not starve live sales.
          await yieldToEventLoop();
        }
      } while (this.pumpAgain);
    } catch (error) {
      this.options.logger.error('publishing failed; will retry', {
        storeId: this.options.storeId,
        error: errorMessage(error),
      });
    } finally {
      this.pumping = false;
    }
  }

  private reportPublishRefused(error: Error): void {
    this.link.noteError(`the broker refused a batch: ${errorMessage(error)}`);
    this.options.logger.error('broker refused a batch; it will be published again', {
      storeId: this.options.storeId,
      error: errorMessage(error),
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === this.topic.acks(this.options.storeId)) {
      this.onAck(payload);
      return;
    }
    this.options.onMessage?.(topic, payload);
  }

  private onAck(payload: Buffer): void {
    const { outbox, storeId, logger } = this.options;
    let ack: Ack;
    try {
      ack = ackSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (error) {
      logger.warn('ignoring malformed acknowledgement', { storeId, error: errorMessage(error) });
      return;
    }
    try {
      // Another writer under this epoch (a cloned PC, or this store's own database before it was restored)
      // reads the same acks topic: its answers say nothing about this database's events.
      if (ack.batch && outbox.eventIdAt(ack.epoch, ack.batch.lastSeq) !== ack.batch.lastEventId) {
        logger.debug('ignoring an acknowledgement of a batch this database did not send', {
          storeId,
          epoch: ack.epoch,
          lastSeq: ack.batch.lastSeq,
        });
        return;
      }
      const applied = outbox.applyAck(ack);
      this.lastAckAt = this.clock.now();
      for (const r of ack.rejected) {
        logger.warn('event refused by head office; dead-lettered', {
          storeId,
          epoch: ack.epoch,
          seq: r.seq,
          reason: r.reason,
        });
      }
      if (applied.acked > 0) {
        logger.debug('acknowledged', {
          storeId,
          epoch: ack.epoch,
          ackedThrough: ack.ackedThrough,
          count: applied.acked,
        });
      }
      const lastSeq = outbox.lastSeqOf(ack.epoch);
      const restored = ack.epoch === outbox.epoch && ack.highestSeq > lastSeq;
      if (ack.epoch === outbox.epoch && (ack.conflicts.length > 0 || restored)) {
        const reason = restored
          ? `head office holds seq ${ack.highestSeq} of epoch ${ack.epoch}, beyond this database's last seq ${lastSeq}: it was restored from an old backup or copied`
          : `head office holds different events under ${ack.conflicts.length} seq(s) of epoch ${ack.epoch}: this database was copied or restored`;
        const next = outbox.startNewEpoch(reason);
        logger.warn('started a new epoch', {
          storeId,
          previousEpoch: ack.epoch,
          epoch: next.epoch,
          moved: next.moved,
          reason,
        });
        this.restartFromOutbox();
        this.publishStatus();
      } else {
        // A batch leaves the window only with its own acknowledgement: ackedThrough may cover it while its
        // answer was lost, and then only the ack timeout would notice its events are still unsent.
        this.inFlight = this.inFlight.filter(
          (f) =>
            f.epoch !== ack.epoch ||
            (ack.batch ? f.lastSeq !== ack.batch.lastSeq : f.lastSeq > ack.ackedThrough),
        );
        // The retained status carries the backlog: once it is gone, say so rather than wait for the refresh.
        if (this.inFlight.length === 0 && this.reportedBacklog !== 0 && outbox.unsentCount() === 0)
          this.publishStatus();
      }
    } catch (error) {
      logger.error('could not record an acknowledgement; it will come again', {
        storeId,
        error: errorMessage(error),
      });
      return;
    }
    // A turn of the event loop first: tills waiting behind this ack's bookkeeping get their answers.
    setImmediate(() => void this.pump());
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const message: StoreStatusMessage = {
      v: SYNC_PROTOCOL_VERSION,
      state,
      at: new Date(this.clock.now()).toISOString(),
    };
    if (state === 'online') {
      message.epoch = this.options.outbox.epoch;
      message.version = this.options.version;
      try {
        message.backlog = this.options.outbox.unsentCount();
        this.reportedBacklog = message.backlog;
      } catch {
        // storage trouble is reported by capture; the status still goes out
      }
    }
    return JSON.stringify(message);
  }
}
