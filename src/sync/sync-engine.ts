import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { IConnackPacket, IDisconnectPacket, MqttClient } from 'mqtt';
import type { MqttConfig } from '../contracts/agent-config.js';
import {
  ackSchema,
  SYNC_LIMITS,
  SYNC_PROTOCOL_VERSION,
  topics,
  type Ack,
  type BatchAck,
  type CloseAck,
  type StoreStatusMessage,
} from '../contracts/sync-messages.js';
import type { BackoffPolicy } from '../lib/backoff.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { mqttClientOptions, type MqttConnect } from '../lib/mqtt-connection.js';
import { ReconnectingMqtt, type LinkState } from '../lib/reconnecting-mqtt.js';
import {
  batchesInFlight,
  decideSizeRefusal,
  isCloseInFlight,
  overdue,
  retireBatch,
  retireClose,
  type InFlight,
  type InFlightBatch,
  type InFlightClose,
} from './ack-rules.js';
import type { BatchLimits, MessageLimits, TooLargeEvent } from './batch-builder.js';
import {
  inThreadDeliveryStore,
  type DeliveryCursor,
  type DeliveryStore,
  type NextBatch,
  type OutgoingClose,
} from './delivery-store.js';
import type { Outbox } from './outbox.js';

export type ConnectionState = LinkState;

export interface SyncTuning {
  batch: BatchLimits;
  /** Wait this long after a capture before publishing, so a burst travels as one batch. */
  lingerMs: number;
  /** Batches published but not yet acknowledged, at most. */
  maxInFlightBatches: number;
  /** No acknowledgement for this long (monotonic time): publish everything unacknowledged again. */
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
  /**
   * Where the engine reads what to publish and records acknowledgements: by default on this thread, over
   * the outbox's file; the agent gives it a DeliveryThread. The engine closes it when it stops.
   */
  delivery?: DeliveryStore;
  /** Extra subscriptions (promotions) and where their messages go. */
  extraTopics?: string[];
  onMessage?: (topic: string, payload: Buffer) => void;
}

/** MQTT 5 reason code 0x95, "Packet too large": on a PUBACK, or on the DISCONNECT of a broker that drops the link. */
const PACKET_TOO_LARGE = 0x95;

/** A PUBLISH packet beyond its payload: fixed header (≤ 5), topic length (2), packet id (2), MQTT 5 properties (1), margin. */
const publishOverhead = (topic: string) => Buffer.byteLength(topic) + 16;

/**
 * Delivers the outbox to head office. The outbox is the only source of truth: on every (re)connect and
 * after an acknowledgement timeout, publishing restarts from the first unacknowledged event (and any
 * unacknowledged epoch close), so nothing depends on the broker's session or on mqtt.js's in-memory
 * queues. Publishing never blocks capture: reading and recording go through a DeliveryStore (usually on
 * its own thread), and nothing is published while disconnected. The acknowledgement rules themselves
 * are in ack-rules.ts.
 */
export class SyncEngine {
  private readonly tuning: SyncTuning;
  private readonly clock: Clock;
  private readonly topic: ReturnType<typeof topics>;
  private readonly link: ReconnectingMqtt;
  private readonly delivery: DeliveryStore;
  private cursor: DeliveryCursor | null = null;
  private window: InFlight[] = [];
  /** Bumped whenever publishing starts again from the outbox, so answers to older requests are dropped. */
  private generation = 0;
  private closesDue = true;
  private pumping = false;
  private pumpAgain = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastAckAt: number | null = null;
  private reportedBacklog: number | null = null;
  /** The broker's Maximum Packet Size (MQTT 5 CONNACK) on the current connection, if it announced one. */
  private brokerMaxPacket: number | undefined;
  /** Lowered when a broker refuses a multi-event batch as too large without announcing its limit. */
  private packLimit: number;
  /** Close parts this broker can never take (too large); reported, not retried in a loop. */
  private readonly unsendableCloses = new Set<string>();

  constructor(private readonly options: SyncEngineOptions) {
    this.tuning = { ...DEFAULT_SYNC_TUNING, ...options.tuning };
    this.clock = options.clock ?? systemClock;
    this.topic = topics(options.mqtt.topicPrefix);
    this.packLimit = this.tuning.batch.maxBytes;
    this.delivery =
      options.delivery ?? inThreadDeliveryStore(options.outbox.file, options.storeId, { clock: this.clock });
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
      configure: (client) => this.watchBrokerLimits(client),
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

  connection(): ReturnType<ReconnectingMqtt['status']> & { lastAckAt: number | null } {
    return { ...this.link.status(), lastAckAt: this.lastAckAt };
  }

  /** Messages published and not yet acknowledged (for diagnostics and tests). */
  inFlight(): readonly InFlight[] {
    return this.window;
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
    await this.delivery.close();
  }

  private publishStatus(): void {
    this.link.client?.publish(this.topic.status(this.options.storeId), this.statusPayload('online'), {
      qos: 1,
      retain: true,
    });
  }

  /** Forget what was published and start again from the first unacknowledged event in the outbox. */
  private restartFromOutbox(): void {
    this.cursor = null;
    this.window = [];
    this.generation += 1;
    this.closesDue = true;
  }

  private checkAckTimeout(): void {
    if (this.window.length === 0) {
      // Idle, but another process may have queued work in the outbox (`outpost deadletters retry` beside
      // a running agent): no capture, ack or reconnect would wake the pump for it, so look now and then.
      if (this.link.client) void this.pump();
      return;
    }
    const late = overdue(this.window, this.clock.monotonic(), this.tuning.ackTimeoutMs);
    if (!late) return;
    this.options.logger.warn('no acknowledgement in time; publishing unacknowledged events again', {
      storeId: this.options.storeId,
      epoch: late.epoch,
      ...(late.kind === 'batch'
        ? { firstSeq: late.firstSeq, lastSeq: late.lastSeq }
        : { closePart: late.part }),
    });
    this.restartFromOutbox();
    void this.pump();
  }

  private limits(): MessageLimits {
    const topicOverhead = publishOverhead(this.topic.events(this.options.storeId));
    return {
      maxEvents: this.tuning.batch.maxEvents,
      maxBytes: Math.min(this.tuning.batch.maxBytes, this.packLimit),
      maxMessageBytes: Math.min(
        SYNC_LIMITS.maxBatchBytes,
        this.brokerMaxPacket === undefined ? Infinity : this.brokerMaxPacket - topicOverhead,
      ),
    };
  }

  /** Publishes close parts and batches until the window is full or nothing is left; one pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.publishCloses();
        for (;;) {
          const client = this.link.client;
          if (!client || this.stopped || batchesInFlight(this.window) >= this.tuning.maxInFlightBatches)
            break;
          const generation = this.generation;
          const next: NextBatch = await this.delivery.nextBatch(this.cursor, this.limits());
          if (generation !== this.generation || client !== this.link.client) {
            // Restarted from the outbox meanwhile: read again from the new starting point.
            this.pumpAgain = true;
            break;
          }
          const message = next.message;
          if (!message) break;
          if (message.kind === 'too-large') {
            await this.deadLetterTooLarge(next.epoch, message);
            continue;
          }
          const entry: InFlightBatch = {
            kind: 'batch',
            epoch: next.epoch,
            firstSeq: message.firstSeq,
            lastSeq: message.lastSeq,
            lastEventId: message.lastEventId,
            count: message.count,
            bytes: message.bytes,
            sentAt: this.clock.monotonic(),
            brokerAccepted: false,
          };
          this.cursor = { epoch: next.epoch, seq: message.lastSeq };
          this.window.push(entry);
          this.publish(client, message.payload, entry);
          // Let capture requests in between batches: a big backlog must not starve live sales.
          await yieldToEventLoop();
        }
      } while (this.pumpAgain && !this.stopped);
    } catch (error) {
      if (!this.stopped)
        this.options.logger.error('publishing failed; will retry', {
          storeId: this.options.storeId,
          error: errorMessage(error),
        });
    } finally {
      this.pumping = false;
    }
  }

  /** Epoch closes go out before the events of the epoch that follows, on every connection, until acknowledged. */
  private async publishCloses(): Promise<void> {
    const client = this.link.client;
    if (!this.closesDue || !client || this.stopped) return;
    const generation = this.generation;
    const closes: OutgoingClose[] = await this.delivery.pendingCloses();
    if (generation !== this.generation || client !== this.link.client) {
      this.pumpAgain = true;
      return;
    }
    this.closesDue = false;
    const maxMessageBytes = this.limits().maxMessageBytes;
    for (const close of closes) {
      const key = `${close.epoch}/${close.nextEpoch}/${close.part}`;
      if (isCloseInFlight(this.window, close) || this.unsendableCloses.has(key)) continue;
      if (close.bytes > maxMessageBytes) {
        this.unsendableCloses.add(key);
        this.reportUnsendableClose(close, maxMessageBytes);
        continue;
      }
      const entry: InFlightClose = {
        kind: 'close',
        epoch: close.epoch,
        nextEpoch: close.nextEpoch,
        part: close.part,
        bytes: close.bytes,
        sentAt: this.clock.monotonic(),
        brokerAccepted: false,
      };
      this.window.push(entry);
      this.publish(client, close.payload, entry);
    }
  }

  private publish(client: MqttClient, payload: string | Buffer, entry: InFlight): void {
    client.publish(this.topic.events(this.options.storeId), payload, { qos: 1 }, (error) => {
      if (!error) {
        entry.brokerAccepted = true;
        return;
      }
      // With MQTT 5 the broker says why it refused (an ACL, a size limit). Errors without a reason code
      // are the link going down, which the link reports; the outbox still holds everything either way.
      const code = (error as { code?: unknown }).code;
      if (code === PACKET_TOO_LARGE) this.onSizeRefusal(entry);
      else if (typeof code === 'number') this.reportPublishRefused(error);
    });
  }

  /** Reads the broker's announced limits, and its DISCONNECT reason, on each fresh client. */
  private watchBrokerLimits(client: MqttClient): void {
    this.brokerMaxPacket = undefined;
    client.on('connect', (connack: IConnackPacket) => {
      this.brokerMaxPacket = connack.properties?.maximumPacketSize;
    });
    client.on('disconnect', (packet: IDisconnectPacket) => {
      // The broker dropped the link over a message too large, without saying which: decided now, before
      // the link's close clears the window.
      if (packet.reasonCode === PACKET_TOO_LARGE) this.onSizeRefusal();
    });
  }

  /**
   * The broker refused a message as too large. A batch of several events is split (later batches are
   * packed smaller); a single event can never pass this broker and becomes a dead letter, so the events
   * behind it flow. Only an explicit refusal counts: a timeout alone proves nothing (a down hub looks the same).
   */
  private onSizeRefusal(refused?: InFlight): void {
    const { logger, storeId } = this.options;
    const decision = decideSizeRefusal(this.window, refused);
    if (decision.action === 'unknown') {
      logger.warn('the broker refused a message as too large; nothing in flight to blame', { storeId });
      return;
    }
    if (decision.action === 'split') {
      this.packLimit = Math.min(this.packLimit, Math.max(1, decision.maxBytes));
      logger.warn('the broker refused a batch as too large; sending smaller batches', {
        storeId,
        maxBytes: this.packLimit,
      });
    } else if (decision.message.kind === 'close') {
      const close = decision.message;
      this.unsendableCloses.add(`${close.epoch}/${close.nextEpoch}/${close.part}`);
      this.reportUnsendableClose(close, undefined);
    } else {
      const event = decision.message;
      const reason =
        `the broker refused it as too large (MQTT reason 0x95, packet too large): ${event.bytes} bytes as a message. ` +
        'Raise the broker’s message size limit, then retry it.';
      void this.delivery
        .markUndeliverable({ epoch: event.epoch, seq: event.lastSeq, eventId: event.lastEventId }, reason)
        .then(
          (marked) => {
            if (marked)
              logger.error('event refused by the broker as too large; dead-lettered', {
                storeId,
                epoch: event.epoch,
                seq: event.lastSeq,
                eventId: event.lastEventId,
                bytes: event.bytes,
              });
          },
          (error: unknown) =>
            logger.error('could not dead-letter an event the broker refused as too large; will retry', {
              storeId,
              epoch: event.epoch,
              seq: event.lastSeq,
              error: errorMessage(error),
            }),
        );
    }
    if (refused) {
      // The link is still up (a PUBACK refusal): publish again from the outbox, under the new limits.
      this.restartFromOutbox();
      setImmediate(() => void this.pump());
    }
  }

  private async deadLetterTooLarge(epoch: string, event: TooLargeEvent): Promise<void> {
    const { logger, storeId } = this.options;
    const reason =
      event.limit < SYNC_LIMITS.maxBatchBytes
        ? `too large to send: ${event.bytes} bytes as a message, and the broker accepts at most ${event.limit} bytes ` +
          '(its maximum packet size). Raise that limit on the broker, then retry it.'
        : `too large to send: ${event.bytes} bytes as a message, and head office accepts at most ` +
          `${SYNC_LIMITS.maxBatchBytes} bytes per message. It cannot be sent: pass the sale on by other means, then discard it.`;
    if (await this.delivery.markUndeliverable({ epoch, seq: event.seq, eventId: event.eventId }, reason)) {
      logger.error('event too large to send; dead-lettered', {
        storeId,
        epoch,
        seq: event.seq,
        eventId: event.eventId,
        bytes: event.bytes,
        limit: event.limit,
      });
    }
  }

  private reportUnsendableClose(
    close: { epoch: string; part: number; bytes: number },
    limit: number | undefined,
  ) {
    const message =
      `the close of epoch ${close.epoch} (part ${close.part}, ${close.bytes} bytes) is larger than the broker accepts` +
      (limit === undefined ? '' : ` (${limit} bytes)`) +
      ': raise the broker’s message size limit';
    this.link.noteError(message);
    this.options.logger.error('epoch close too large for the broker', {
      storeId: this.options.storeId,
      epoch: close.epoch,
      part: close.part,
      bytes: close.bytes,
    });
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
      void this.onAck(payload);
      return;
    }
    this.options.onMessage?.(topic, payload);
  }

  private async onAck(payload: Buffer): Promise<void> {
    const { storeId, logger } = this.options;
    let ack: Ack;
    try {
      ack = ackSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (error) {
      logger.warn('ignoring malformed acknowledgement', { storeId, error: errorMessage(error) });
      return;
    }
    try {
      if (ack.kind === 'close') await this.onCloseAck(ack);
      else await this.onBatchAck(ack);
    } catch (error) {
      if (this.stopped) return;
      logger.error('could not record an acknowledgement; it will come again', {
        storeId,
        epoch: ack.epoch,
        error: errorMessage(error),
      });
      return;
    }
    // A turn of the event loop first: tills waiting behind this ack get their answers.
    setImmediate(() => void this.pump());
  }

  private async onBatchAck(ack: BatchAck): Promise<void> {
    const { outbox, storeId, logger } = this.options;
    const outcome = await this.delivery.recordBatchAck(ack);
    if (outcome.action === 'ignored') {
      logger.debug('ignoring an acknowledgement of a batch this database did not send', {
        storeId,
        epoch: ack.epoch,
        firstSeq: ack.batch.firstSeq,
        lastSeq: ack.batch.lastSeq,
        why: outcome.why,
      });
      return;
    }
    this.lastAckAt = this.clock.now();
    for (const r of outcome.deadLetters) {
      logger.warn('event refused by head office; dead-lettered', {
        storeId,
        epoch: ack.epoch,
        seq: r.seq,
        reason: r.reason,
      });
    }
    if (outcome.acked > 0) {
      logger.debug('acknowledged', {
        storeId,
        epoch: ack.epoch,
        firstSeq: ack.batch.firstSeq,
        lastSeq: ack.batch.lastSeq,
        count: outcome.acked,
      });
    }
    if (outcome.newEpoch) {
      const { previousEpoch, epoch, moved, reason } = outcome.newEpoch;
      logger.warn('started a new epoch', { storeId, previousEpoch, epoch, moved, reason });
      this.restartFromOutbox();
      this.publishStatus();
      return;
    }
    // A batch leaves the window only with its own acknowledgement, keyed by (epoch, firstSeq, lastSeq):
    // ackedThrough may cover it while its answer was lost, and then only the ack timeout would notice.
    this.window = retireBatch(this.window, { epoch: ack.epoch, ...ack.batch });
    // The retained status carries the backlog: once it is gone, say so rather than wait for the refresh.
    if (this.window.length === 0 && this.reportedBacklog !== 0 && outbox.unsentCount() === 0)
      this.publishStatus();
  }

  private async onCloseAck(ack: CloseAck): Promise<void> {
    const { storeId, logger } = this.options;
    const outcome = await this.delivery.recordCloseAck(ack);
    if (outcome.action === 'ignored') {
      logger.debug('ignoring an acknowledgement of a close this database did not send', {
        storeId,
        epoch: ack.epoch,
        nextEpoch: ack.close.nextEpoch,
        why: outcome.why,
      });
      return;
    }
    logger.info('head office recorded the close of an epoch', {
      storeId,
      epoch: ack.epoch,
      nextEpoch: ack.close.nextEpoch,
      part: ack.close.part,
      parts: ack.close.parts,
    });
    this.window = retireClose(this.window, {
      epoch: ack.epoch,
      nextEpoch: ack.close.nextEpoch,
      part: ack.close.part,
    });
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const message: StoreStatusMessage = {
      v: SYNC_PROTOCOL_VERSION,
      state,
      at: new Date(this.clock.now()).toISOString(),
    };
    if (state === 'online') {
      message.version = this.options.version;
      try {
        message.epoch = this.options.outbox.epoch;
        message.backlog = this.options.outbox.unsentCount();
        this.reportedBacklog = message.backlog;
      } catch {
        // storage trouble is reported by capture; the status still goes out
      }
    }
    return JSON.stringify(message);
  }
}
