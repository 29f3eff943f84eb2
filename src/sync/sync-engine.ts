import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from '../contracts/agent-config.js';
import type { DayResult } from '../contracts/day-close.js';
import {
  acksTopicMessageSchema,
  storeCommandSchema,
  SYNC_PROTOCOL_VERSION,
  topics,
  type AcksTopicMessage,
  type BatchAck,
  type CloseAck,
  type ResendReport,
  type StoreCommand,
  type StoreStatusMessage,
} from '../contracts/sync-messages.js';
import type { BackoffPolicy } from '../lib/backoff.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { mqttClientOptions, type MqttConnect } from '../lib/mqtt-connection.js';
import { ReconnectingMqtt, type LinkState } from '../lib/reconnecting-mqtt.js';
import {
  overdue,
  retireBatch,
  retireClose,
  type InFlight,
  type InFlightBatch,
  type InFlightClose,
} from './ack-rules.js';
import type { BatchLimits } from './batch-builder.js';
import type { HandledCommand } from './command-answers.js';
import {
  inThreadDeliveryStore,
  type ClosePartCursor,
  type DeliveryCursor,
  type DeliveryStore,
  type EventAt,
} from './delivery-store.js';
import {
  MessageSizePolicy,
  PACKET_TOO_LARGE,
  refusedAsTooLargeReason,
  tooLargeReason,
} from './message-size-policy.js';
import type { Outbox } from './outbox.js';
import { releasePublishedCopy } from './published-copy.js';
import { statusChangeKey } from './status-changes.js';
import {
  admitResend,
  newResendJob,
  nextResendJob,
  resendBatchAcked,
  resendCap,
  resendDone,
  restartResends,
  type ResendJob,
} from './resend-jobs.js';

export type ConnectionState = LinkState;

export interface SyncTuning {
  batch: BatchLimits;
  /** Wait this long after a capture before publishing, so a burst travels as one batch. */
  lingerMs: number;
  /**
   * Messages (batches and close parts) published but not yet acknowledged, at most; never above what a
   * hub holds for one store (SYNC_LIMITS.maxInFlightPerStore), or it would drop the rest.
   */
  maxInFlightBatches: number;
  /** No acknowledgement for this long (monotonic time): publish everything unacknowledged again. */
  ackTimeoutMs: number;
  reconnect: BackoffPolicy;
  /** How often the retained status (with the backlog) is refreshed while online. */
  statusEveryMs: number;
  /**
   * What the status says changed (an epoch, a day with unsent sales, a command answered): it is
   * published again, but at most this often, so a store draining a backlog does not flood head office.
   */
  statusMinIntervalMs: number;
}

export const DEFAULT_SYNC_TUNING: SyncTuning = {
  batch: { maxEvents: 500, maxBytes: 1024 * 1024 },
  lingerMs: 5,
  maxInFlightBatches: 8,
  ackTimeoutMs: 10_000,
  reconnect: { initialMs: 500, maxMs: 30_000 },
  statusEveryMs: 30_000,
  statusMinIntervalMs: 1000,
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
  /**
   * Called on every connection once the subscriptions are in place, so what arrives in answer (a hub's
   * re-offer of promotions) is received; publish with publishMessage from there.
   */
  onConnected?: () => void;
  /** Head office judged a till's business day (recorded already); `taken` is false for an older verdict. */
  onDayResult?: (result: DayResult, taken: boolean) => void;
  /** Head office's retry or discard of a dead letter was handled (or answered again). */
  onCommandHandled?: (handled: HandledCommand) => void;
}

/** What one step of the pump did. */
type PumpStep = 'published' | 'skipped' | 'nothing-left' | 'restarted';

/**
 * Delivers the outbox to head office. The outbox is the only source of truth: on every (re)connect and
 * after an acknowledgement timeout, publishing restarts from the first unacknowledged event (and any
 * unacknowledged epoch close), so nothing depends on the broker's session or on mqtt.js's in-memory
 * queues. Publishing never blocks capture: reading and recording go through a DeliveryStore (usually on
 * its own thread), and nothing is published while disconnected. The acknowledgement rules themselves
 * are in ack-rules.ts, the limits on message size in message-size-policy.ts.
 */
export class SyncEngine {
  private readonly tuning: SyncTuning;
  private readonly clock: Clock;
  private readonly topic: ReturnType<typeof topics>;
  private readonly link: ReconnectingMqtt;
  private readonly delivery: DeliveryStore;
  private cursor: DeliveryCursor | null = null;
  private closeCursor: ClosePartCursor | null = null;
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
  /** How long the window may wait on head office: ack-rules.ts, ackTimedOut. */
  private patience = { timeoutsInARow: 0, lastProgressAt: -Infinity };
  private readonly size: MessageSizePolicy;
  /** Head office's resend requests under way (resend-jobs.ts). */
  private resends: ResendJob[] = [];
  /** What the last published status said, as far as its changes matter (status-changes.ts). */
  private statusKey: string | null = null;
  /** The key seen at the last look that did not publish: a change is published once it held for two looks. */
  private statusSeen: string | null = null;
  /** An answer to a command waits in the next status: published at the next look whatever the key. */
  private statusForced = false;
  private statusPublishedAt = Number.NEGATIVE_INFINITY;
  private statusLookedAt = Number.NEGATIVE_INFINITY;
  private statusSoon: NodeJS.Timeout | undefined;

  constructor(private readonly options: SyncEngineOptions) {
    this.tuning = { ...DEFAULT_SYNC_TUNING, ...options.tuning };
    this.clock = options.clock ?? systemClock;
    this.topic = topics(options.mqtt.topicPrefix);
    this.size = new MessageSizePolicy(this.tuning.batch, this.topic.events(options.storeId));
    this.delivery = options.delivery ?? inThreadDeliveryStore(options.outbox.file, options.storeId);
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
      // The broker dropped the link over a message too large, without saying which: decided at once,
      // before the link's close clears the window.
      configure: (client) => this.size.watch(client, () => this.onSizeRefusal()),
      onConnect: async (client) => {
        await client.subscribeAsync(
          [this.topic.acks(storeId), this.topic.commands(storeId), ...(options.extraTopics ?? [])],
          { qos: 1 },
        );
        const status = this.onlineStatus();
        await client.publishAsync(this.topic.status(storeId), status.payload, { qos: 1, retain: true });
        this.statusKey = status.key;
        this.statusPublishedAt = this.clock.monotonic();
        // Every connection starts again from the outbox: whatever the last one had in flight may be lost.
        this.restartFromOutbox();
        setImmediate(() => void this.pump());
        if (options.onConnected) setImmediate(options.onConnected);
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
    // A day with sales waiting shows in the status, once they wait for more than a moment.
    this.statusMayHaveChanged();
    if (this.lingerTimer || !this.link.client) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      void this.pump();
    }, this.tuning.lingerMs);
  }

  connection(): ReturnType<ReconnectingMqtt['status']> & { lastAckAt: number | null } {
    return { ...this.link.status(), lastAckAt: this.lastAckAt };
  }

  /**
   * Publishes on another topic of this store's link (QoS 1), e.g. its promotion catalogue. False while
   * offline: nothing is queued, since what is published this way is stated again on every connection.
   */
  async publishMessage(topic: string, payload: string): Promise<boolean> {
    const client = this.link.client;
    if (!client || this.stopped) return false;
    await client.publishAsync(topic, payload, { qos: 1 });
    return true;
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
    clearTimeout(this.statusSoon);
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
    const client = this.link.client;
    if (!client || this.stopped) return;
    const { payload, key } = this.onlineStatus();
    this.sendStatus(client, payload, key);
  }

  /**
   * Something the status reports may have changed (a capture, an acknowledgement, a command answered):
   * it is looked at again, at most every statusMinIntervalMs, and published when what matters to head
   * office changed (status-changes.ts) and stayed so for two looks in a row. A sale in flight for a few
   * milliseconds of live trading never makes a status of its own; a backlog that stays, or drains, is
   * said within a couple of seconds. Counts and ages ride on the periodic refresh (statusEveryMs).
   */
  private statusMayHaveChanged(options: { force?: boolean } = {}): void {
    if (options.force) this.statusForced = true;
    if (this.statusSoon || this.stopped || !this.link.client) return;
    const min = this.tuning.statusMinIntervalMs;
    const due = Math.max(this.statusPublishedAt + min, this.statusLookedAt + min);
    this.statusSoon = setTimeout(
      () => {
        this.statusSoon = undefined;
        this.lookAtStatus();
      },
      Math.max(0, due - this.clock.monotonic()),
    );
    this.statusSoon.unref();
  }

  private lookAtStatus(): void {
    const client = this.link.client;
    if (!client || this.stopped) return;
    this.statusLookedAt = this.clock.monotonic();
    const { payload, key } = this.onlineStatus();
    if (key === this.statusKey && !this.statusForced) {
      this.statusSeen = null;
      return;
    }
    if (key !== this.statusSeen && !this.statusForced) {
      // Changed since the last look: published if it still holds at the next.
      this.statusSeen = key;
      this.statusMayHaveChanged();
      return;
    }
    this.sendStatus(client, payload, key);
  }

  private sendStatus(client: MqttClient, payload: string, key: string): void {
    this.statusKey = key;
    this.statusSeen = null;
    this.statusForced = false;
    this.statusPublishedAt = this.clock.monotonic();
    client.publish(this.topic.status(this.options.storeId), payload, { qos: 1, retain: true });
  }

  /** Forget what was published and start again from the first unacknowledged event in the outbox. */
  private restartFromOutbox(): void {
    this.cursor = null;
    this.closeCursor = null;
    this.window = [];
    this.generation += 1;
    this.closesDue = true;
    this.resends = restartResends(this.resends);
  }

  private checkAckTimeout(): void {
    if (this.window.length === 0) {
      // Idle, but another process may have queued work in the outbox (`outpost deadletters retry` beside
      // a running agent): no capture, ack or reconnect would wake the pump for it, so look now and then.
      if (this.link.client) void this.pump();
      return;
    }
    const late = overdue(this.window, this.clock.monotonic(), {
      timeoutMs: this.tuning.ackTimeoutMs,
      ...this.patience,
    });
    if (!late) return;
    this.patience.timeoutsInARow += 1;
    this.options.logger.warn('no acknowledgement in time; publishing unacknowledged events again', {
      storeId: this.options.storeId,
      timeoutsInARow: this.patience.timeoutsInARow,
      epoch: late.epoch,
      ...(late.kind === 'batch'
        ? { firstSeq: late.firstSeq, lastSeq: late.lastSeq }
        : { closePart: late.part }),
    });
    this.restartFromOutbox();
    void this.pump();
  }

  /**
   * Publishes close parts, then batches, until the window is full or nothing is left; one pump at a time.
   * Close parts count in the window like batches: a hub holds only so many messages of one store.
   */
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
          if (!client || this.stopped || this.window.length >= this.tuning.maxInFlightBatches) break;
          let step = this.closesDue
            ? await this.publishNextClosePart(client)
            : await this.publishNextBatch(client);
          // Resends take what live delivery leaves of the window, never all of it.
          if (step === 'nothing-left') step = await this.publishNextResend(client);
          if (step === 'restarted') this.pumpAgain = true;
          if (step === 'restarted' || step === 'nothing-left') break;
          // Let capture requests in between messages: a big backlog must not starve live sales.
          if (step === 'published') await yieldToEventLoop();
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
  private async publishNextClosePart(client: MqttClient): Promise<PumpStep> {
    const generation = this.generation;
    const close = await this.delivery.nextClosePart(this.closeCursor);
    // Restarted from the outbox meanwhile: read again from the new starting point.
    if (generation !== this.generation || client !== this.link.client) return 'restarted';
    if (!close) {
      this.closesDue = false;
      return 'skipped';
    }
    this.closeCursor = { closedAt: close.closedAt, epoch: close.epoch, part: close.part };
    if (!this.size.admitsClose(close, (limit) => this.reportUnsendableClose(close, limit))) return 'skipped';
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
    return 'published';
  }

  private async publishNextBatch(client: MqttClient): Promise<PumpStep> {
    const generation = this.generation;
    const next = await this.delivery.nextBatch(this.cursor, this.size.limits());
    if (generation !== this.generation || client !== this.link.client) return 'restarted';
    const message = next.message;
    if (!message) return 'nothing-left';
    if (message.kind === 'too-large') {
      // Withheld, it goes on the next read as a marker without its body (a few hundred bytes). Not
      // withheld (it already was: even its marker is too large for this broker): read no further now,
      // rather than spin; the pump runs again on the next answer, capture or connection.
      const withheld = await this.withhold(
        { epoch: next.epoch, seq: message.seq, eventId: message.eventId },
        tooLargeReason(message),
        { bytes: message.bytes, limit: message.limit },
      );
      return withheld ? 'skipped' : 'nothing-left';
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
    return 'published';
  }

  /** The next batch of a resend head office asked for: events held here, published again as they are. */
  private async publishNextResend(client: MqttClient): Promise<PumpStep> {
    const inFlight = this.window.filter((f) => f.kind === 'batch' && f.resendOf !== undefined).length;
    const job = nextResendJob(this.resends, inFlight, resendCap(this.tuning.maxInFlightBatches));
    if (!job) return 'nothing-left';
    const generation = this.generation;
    const next = await this.delivery.nextResendBatch(job.epoch, job.cursor, this.size.limits());
    if (generation !== this.generation || client !== this.link.client) return 'restarted';
    const message = next.message;
    if (!message) {
      this.updateResend(job.requestId, (j) => ({ ...j, readAll: true }));
      this.finishResends();
      return 'skipped';
    }
    const key = { epoch: job.epoch, firstSeq: message.firstSeq, lastSeq: message.lastSeq };
    const entry: InFlightBatch = {
      kind: 'batch',
      ...key,
      lastEventId: message.lastEventId,
      count: message.count,
      bytes: message.bytes,
      sentAt: this.clock.monotonic(),
      brokerAccepted: false,
      resendOf: job.requestId,
    };
    this.updateResend(job.requestId, (j) => ({
      ...j,
      cursor: message.lastSeq,
      outstanding: [...j.outstanding, key],
    }));
    this.window.push(entry);
    this.publish(client, message.payload, entry);
    return 'published';
  }

  private updateResend(requestId: string, change: (job: ResendJob) => ResendJob): void {
    this.resends = this.resends.map((j) => (j.requestId === requestId ? change(j) : j));
  }

  /** Answers every resend whose events were all published and acknowledged (resendReportSchema). */
  private finishResends(): void {
    const client = this.link.client;
    if (!client) return;
    const { storeId, logger } = this.options;
    for (const job of this.resends.filter(resendDone)) {
      this.resends = this.resends.filter((j) => j !== job);
      const report: ResendReport = {
        v: SYNC_PROTOCOL_VERSION,
        storeId,
        epoch: job.epoch,
        resend: {
          requestId: job.requestId,
          fromSeq: job.fromSeq,
          availableFrom: job.availableFrom,
          through: job.through,
        },
      };
      const fields = { storeId, epoch: job.epoch, ...report.resend };
      // Not acknowledged by head office: an answer lost here leaves the request open, and it asks again.
      client.publish(this.topic.events(storeId), JSON.stringify(report), { qos: 1 }, (error) => {
        if (error)
          logger.warn('resend answer not published; head office will ask again', {
            ...fields,
            error: errorMessage(error),
          });
      });
      if (job.availableFrom > job.fromSeq)
        logger.warn('head office asked for events this store no longer holds', {
          ...fields,
          missingFrom: job.fromSeq,
          missingTo: Math.min(job.availableFrom - 1, job.through),
        });
      else logger.info('re-sent what head office asked for', fields);
    }
  }

  private publish(client: MqttClient, payload: string | Buffer, entry: InFlight): void {
    client.publish(this.topic.events(this.options.storeId), payload, { qos: 1 }, (error, stored) => {
      if (!error) {
        entry.brokerAccepted = true;
        // The broker has it (PUBACK), and mqtt.js let go of it and of its copy: the payload's memory can
        // carry a later batch. A batch not acknowledged this way stays with mqtt.js, which may send its
        // copy again on reconnecting.
        if (typeof payload !== 'string') {
          releasePublishedCopy(stored, payload);
          this.delivery.releasePayload(payload);
        }
        return;
      }
      // With MQTT 5 the broker says why it refused (an ACL, a size limit). Errors without a reason code
      // are the link going down, which the link reports; the outbox still holds everything either way.
      const code = (error as { code?: unknown }).code;
      if (code === PACKET_TOO_LARGE) this.onSizeRefusal(entry);
      else if (typeof code === 'number') this.reportPublishRefused(error);
    });
  }

  /**
   * The broker refused a message as too large. A batch of several events is split (later batches are
   * packed smaller); a single event can never pass this broker and is withheld, so the events behind it
   * flow. Only an explicit refusal counts: a timeout alone proves nothing (a down hub looks the same).
   */
  private onSizeRefusal(refused?: InFlight): void {
    const { logger, storeId } = this.options;
    const decision = this.size.refused(this.window, refused);
    if (decision.action === 'unknown') {
      logger.warn('the broker refused a message as too large; nothing in flight to blame', { storeId });
      return;
    }
    if (decision.action === 'split') {
      logger.warn('the broker refused a batch as too large; sending smaller batches', {
        storeId,
        maxBytes: this.size.packedBytes,
      });
    } else if (decision.message.kind === 'close') {
      this.reportUnsendableClose(decision.message, undefined);
    } else {
      const event = decision.message;
      // Queued on the delivery store before the publishing below reads again, so that read sees it withheld.
      this.withhold(
        { epoch: event.epoch, seq: event.lastSeq, eventId: event.lastEventId },
        refusedAsTooLargeReason(event.bytes),
        { bytes: event.bytes },
      ).catch((error: unknown) =>
        logger.error('could not withhold an event the broker refused as too large; will retry', {
          storeId,
          epoch: event.epoch,
          seq: event.lastSeq,
          eventId: event.lastEventId,
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

  /**
   * Withholds an event no message can carry: it goes as a marker without its body, head office keeps its
   * seq as refused (no gap), and its answer makes the event a dead letter here with the reason.
   */
  private async withhold(event: EventAt, reason: string, fields: Record<string, number>): Promise<boolean> {
    const withheld = await this.delivery.withhold(event, reason);
    if (withheld)
      this.options.logger.error('event too large to send; withheld, and sent without its body', {
        storeId: this.options.storeId,
        ...event,
        ...fields,
        reason,
      });
    return withheld;
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
    if (topic === this.topic.commands(this.options.storeId)) {
      void this.onCommand(payload);
      return;
    }
    this.options.onMessage?.(topic, payload);
  }

  private async onAck(payload: Buffer): Promise<void> {
    const { storeId, logger } = this.options;
    let ack: AcksTopicMessage;
    try {
      ack = acksTopicMessageSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (error) {
      logger.warn('ignoring malformed acknowledgement', { storeId, error: errorMessage(error) });
      return;
    }
    if (ack.kind === 'day') {
      this.onDayResult(ack.day);
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
    const { storeId, logger } = this.options;
    const outcome = await this.delivery.recordBatchAck(ack, this.clock.now());
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
    const key = { epoch: ack.epoch, ...ack.batch };
    if (this.resends.length > 0) {
      this.resends = resendBatchAcked(this.resends, key);
      this.finishResends();
    }
    // Only when this answer made them dead letters: a resend of events refused long ago repeats the refusal.
    for (const r of outcome.dead > 0 ? outcome.deadLetters : []) {
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
    const before = this.window.length;
    this.window = retireBatch(this.window, key);
    if (this.window.length < before) this.madeProgress();
    // The retained status says what is unsent per day and whether anything waits: say when that changes.
    this.statusMayHaveChanged();
  }

  /** Head office's verdict on a till's business day: kept (the latest judgement wins) and shown in the status. */
  private onDayResult(day: DayResult): void {
    const { storeId, logger, outbox } = this.options;
    const fields = {
      storeId,
      terminalId: day.terminalId,
      businessDay: day.businessDay,
      state: day.state,
      at: day.at,
    };
    let taken: boolean;
    try {
      taken = outbox.recordDayResult(day);
    } catch (error) {
      // Head office sends its verdicts again whenever this store comes back online.
      logger.error('could not record head office’s verdict on a business day', {
        ...fields,
        error: errorMessage(error),
      });
      return;
    }
    if (taken) {
      const { missing, extra, totals } = day.differences;
      logger.log(day.state === 'confirmed' ? 'info' : 'warn', 'head office judged a till’s business day', {
        ...fields,
        missing: missing.slice(0, 20),
        extra: extra.slice(0, 20),
        totalsDiffering: totals.length,
      });
    }
    this.options.onDayResult?.(day, taken);
  }

  /** A command from head office (only hubs may publish on this topic). */
  private async onCommand(payload: Buffer): Promise<void> {
    const { storeId, logger } = this.options;
    let command: StoreCommand;
    try {
      command = storeCommandSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (error) {
      logger.warn('ignoring a malformed command from head office', { storeId, error: errorMessage(error) });
      return;
    }
    try {
      if (command.kind === 'resend') await this.onResendCommand(command);
      else this.onDeadLetterCommand(command);
    } catch (error) {
      if (this.stopped) return;
      // Head office asks again while the command stays unanswered.
      logger.error('could not carry out a command from head office; it will be asked again', {
        storeId,
        kind: command.kind,
        requestId: command.requestId,
        error: errorMessage(error),
      });
    }
  }

  private async onResendCommand(command: Extract<StoreCommand, { kind: 'resend' }>): Promise<void> {
    const { storeId, logger } = this.options;
    const fields = {
      storeId,
      epoch: command.epoch,
      fromSeq: command.fromSeq,
      requestId: command.requestId,
      reason: command.reason,
    };
    const admission = admitResend(this.resends, command.requestId);
    if (admission.action === 'running') {
      logger.debug('head office asked again for a resend under way', fields);
      return;
    }
    if (admission.action === 'busy') {
      logger.warn('too many resends under way; head office will ask again', fields);
      return;
    }
    const bounds = await this.delivery.resendBounds(command.epoch, command.fromSeq);
    // Asked twice while the bounds were read: one job.
    if (admitResend(this.resends, command.requestId).action !== 'start') return;
    const job = newResendJob(command, bounds);
    // Built from the bounds just read, it starts from its first held seq: a restart meanwhile changes nothing.
    this.resends = [...this.resends, job];
    logger.warn('head office asked to have events again; publishing what this store still holds', {
      ...fields,
      availableFrom: bounds.availableFrom,
      through: bounds.through,
    });
    this.finishResends();
    setImmediate(() => void this.pump());
  }

  private onDeadLetterCommand(
    command: Extract<StoreCommand, { kind: 'retry-dead-letter' | 'discard-dead-letter' }>,
  ): void {
    const { storeId, logger, outbox } = this.options;
    const handled = outbox.handleDeadLetterCommand(command);
    const fields = {
      storeId,
      kind: command.kind,
      requestId: command.requestId,
      eventId: command.eventId,
      note: command.note,
      outcome: handled.answer.outcome,
      answer: handled.answer.message,
      ...(handled.retriedAs ?? {}),
    };
    if (!handled.handledNow)
      logger.info('head office repeated a command already handled; answering again', fields);
    else if (handled.answer.outcome === 'done')
      logger.warn(
        command.kind === 'retry-dead-letter'
          ? 'dead letter retried at head office’s request'
          : 'dead letter discarded at head office’s request',
        fields,
      );
    else logger.warn('refused a command from head office', fields);
    this.options.onCommandHandled?.(handled);
    if (handled.retriedAs) setImmediate(() => void this.pump());
    // The answer travels in the status: always published again, even when it repeats an earlier one.
    this.statusMayHaveChanged({ force: true });
  }

  private async onCloseAck(ack: CloseAck): Promise<void> {
    const { storeId, logger } = this.options;
    const outcome = await this.delivery.recordCloseAck(ack, this.clock.now());
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
    const before = this.window.length;
    this.window = retireClose(this.window, {
      epoch: ack.epoch,
      nextEpoch: ack.close.nextEpoch,
      part: ack.close.part,
    });
    if (this.window.length < before) this.madeProgress();
  }

  /** An acknowledgement retired a message: head office is working through this store's messages. */
  private madeProgress(): void {
    this.patience = { timeoutsInARow: 0, lastProgressAt: this.clock.monotonic() };
  }

  private statusPayload(state: 'online' | 'offline'): string {
    const message: StoreStatusMessage = {
      v: SYNC_PROTOCOL_VERSION,
      state,
      at: new Date(this.clock.now()).toISOString(),
    };
    return JSON.stringify(message);
  }

  /**
   * The retained status while online: what waits and since when, per business day, how far head office
   * acknowledged each epoch held here (so a hub restored from a backup asks for what it lost), and the
   * answers to its latest commands; with the key of what in it matters when it changes.
   */
  private onlineStatus(): { payload: string; key: string } {
    const { outbox, version } = this.options;
    const message: StoreStatusMessage = {
      v: SYNC_PROTOCOL_VERSION,
      state: 'online',
      at: new Date(this.clock.now()).toISOString(),
      version,
    };
    try {
      const facts = outbox.deliveryFacts();
      message.epoch = facts.epoch;
      message.backlog = facts.backlog;
      if (facts.oldestUnsentAt !== null)
        message.oldestUnsentAt = new Date(facts.oldestUnsentAt).toISOString();
      message.acked = facts.acked;
      message.unsentByDay = facts.unsentByDay;
      const commands = outbox.commandAnswers(20);
      if (commands.length > 0) message.commands = commands;
    } catch {
      // storage trouble is reported by capture; the status still goes out
    }
    return { payload: JSON.stringify(message), key: statusChangeKey(message) };
  }
}
