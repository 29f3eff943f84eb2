import type { IPublishPacket, MqttClient } from 'mqtt';
import type { HubConfig } from '../contracts/hub-config.js';
import {
  storeStatusSchema,
  SYNC_PROTOCOL_VERSION,
  topics,
  type AckInput,
  type EventBatch,
} from '../contracts/sync-messages.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { mqttClientOptions, type MqttConnect } from '../lib/mqtt-connection.js';
import { ReconnectingMqtt } from '../lib/reconnecting-mqtt.js';
import type { HubMetrics } from './hub-metrics.js';
import type { HubStore, IncomingEvent } from './hub-store.js';
import { parseInThread, type BatchParser } from './parse-pool.js';

export interface HubIngestOptions {
  config: HubConfig;
  store: HubStore;
  logger: Logger;
  metrics: HubMetrics;
  clock?: Clock;
  connect?: MqttConnect;
  /** Test seam: runs after a batch is committed and before it is acknowledged. */
  afterCommit?: () => void;
  /** Where batches are parsed and validated; the hub passes its parse worker. */
  parse?: BatchParser;
}

/**
 * Takes store events from the broker, stores each exactly once and acknowledges after the commit.
 * Commits run one at a time; the next message is parsed and validated while the previous one commits
 * (PostgreSQL round trips leave the CPU idle otherwise), with at most MAX_AHEAD messages taken from the
 * broker ahead of their commit. Their MQTT PUBACK may thus precede the commit: harmless, because only the
 * application-level ack, sent after the commit, makes a store forget an event, and a store re-publishes
 * whatever is not acknowledged in time.
 */
const MAX_AHEAD = 2;

export class HubIngest {
  private readonly link: ReconnectingMqtt;
  private commits: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly held: (() => void)[] = [];
  private readonly topic: ReturnType<typeof topics>;
  private readonly clock: Clock;
  private readonly parse: BatchParser;

  constructor(private readonly options: HubIngestOptions) {
    this.parse = options.parse ?? parseInThread;
    const { config } = options;
    this.clock = options.clock ?? systemClock;
    this.topic = topics(config.mqtt.topicPrefix);
    const shared = config.mqtt.shareGroup;
    const eventsFilter = shared ? `$share/${shared}/${this.topic.allEvents()}` : this.topic.allEvents();
    this.link = new ReconnectingMqtt({
      name: `hub ${config.hubId}`,
      url: config.mqtt.url,
      clientOptions: mqttClientOptions(config.mqtt, {
        clientId: config.mqtt.clientId ?? `outpost-hub-${config.hubId}-${process.pid}`,
        protocolVersion: shared ? 5 : 4,
      }),
      logger: options.logger,
      backoff: { initialMs: 250, maxMs: 10_000 },
      clock: this.clock,
      ...(options.connect ? { connect: options.connect } : {}),
      configure: (client) => {
        client.handleMessage = (packet, done) => this.accept(client, packet, done);
      },
      onConnect: async (client) => {
        // Status is retained; shared subscriptions get no retained messages, so every hub reads it directly.
        await client.subscribeAsync([eventsFilter, this.topic.allStatus()], { qos: 1 });
      },
      onMessage: () => {},
    });
  }

  start(): void {
    this.link.start();
  }

  status() {
    return this.link.status();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }

  /** mqtt.js's handleMessage: prepare now, commit in turn, and take the next message if few are waiting. */
  private accept(client: MqttClient, packet: IPublishPacket, done: () => void): void {
    let commit: (() => Promise<void>) | undefined;
    try {
      commit = this.prepare(client, packet);
    } catch (error) {
      this.options.logger.error('could not read a message; the store will publish it again', {
        error: errorMessage(error),
      });
    }
    if (!commit) {
      done();
      return;
    }
    const work = commit;
    this.queued++;
    this.commits = this.commits
      .then(work)
      .catch((error: unknown) => {
        this.options.logger.error('storing a batch failed; the store will publish it again', {
          error: errorMessage(error),
        });
      })
      .finally(() => {
        this.queued--;
        this.held.shift()?.();
      });
    if (this.queued <= MAX_AHEAD) done();
    else this.held.push(done);
  }

  /** Starts parsing a message (on the parse worker) and returns what commits and acknowledges it. */
  private prepare(client: MqttClient, packet: IPublishPacket): (() => Promise<void>) | undefined {
    const storeId = this.topic.storeIdOf(packet.topic);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (storeId && packet.topic === this.topic.status(storeId))
      return () => this.handleStatus(storeId, payload);
    if (!storeId || packet.topic !== this.topic.events(storeId)) return undefined;

    const started = performance.now();
    const parsing = this.parse(storeId, payload);
    // Observed at once, so a failed parse never counts as unhandled while earlier commits run.
    parsing.catch(() => {});
    return async () => {
      const parsed = await parsing;
      if (!parsed.ok) {
        this.options.metrics.refusedMessages.inc();
        this.options.logger.warn('refused an events message', {
          storeId,
          topic: packet.topic,
          bytes: payload.length,
          reason: parsed.reason,
        });
        return;
      }
      await this.commit(client, storeId, parsed.batch, parsed.events, started);
    };
  }

  private async commit(
    client: MqttClient,
    storeId: string,
    batch: EventBatch,
    events: IncomingEvent[],
    started: number,
  ): Promise<void> {
    const { logger, metrics, store } = this.options;
    const outcome = await store.insertEventsOnce(storeId, batch.epoch, events, this.clock.now());
    metrics.batches.inc();
    metrics.ingestSeconds.observe((performance.now() - started) / 1000);
    metrics.events.inc({ outcome: 'stored' }, outcome.stored);
    metrics.events.inc({ outcome: 'duplicate' }, outcome.duplicates);
    metrics.events.inc({ outcome: 'rejected' }, outcome.rejected.length);
    metrics.events.inc({ outcome: 'conflict' }, outcome.conflicts.length);
    for (const r of outcome.rejected)
      logger.warn('rejected event', { storeId, epoch: batch.epoch, seq: r.seq, reason: r.reason });
    for (const c of outcome.conflicts)
      logger.error('quarantined conflicting event', {
        storeId,
        epoch: batch.epoch,
        seq: c.seq,
        reason: c.reason,
      });
    this.options.afterCommit?.();
    // Names the batch answered, so that only its sender applies the answer (see ackSchema.batch).
    const last = events.reduce((a, b) => (b.seq > a.seq ? b : a));
    const ack: AckInput = {
      v: SYNC_PROTOCOL_VERSION,
      epoch: batch.epoch,
      ackedThrough: outcome.ackedThrough,
      highestSeq: outcome.highestSeq,
      rejected: outcome.rejected,
      conflicts: outcome.conflicts,
      batch: {
        firstSeq: Math.min(...events.map((e) => e.seq)),
        lastSeq: last.seq,
        lastEventId: last.eventId,
      },
    };
    // Not awaited: inside handleMessage mqtt.js reads no further packets, so waiting here for the ack's
    // own PUBACK would deadlock. A lost ack costs only a retransmission, which the store handles.
    client.publish(this.topic.acks(storeId), JSON.stringify(ack), { qos: 1 }, (error) => {
      if (error)
        logger.warn('acknowledgement not sent; the store will retransmit', {
          storeId,
          error: errorMessage(error),
        });
    });
    logger.debug('acknowledged batch', {
      storeId,
      epoch: batch.epoch,
      firstSeq: events[0]?.seq,
      lastSeq: events.at(-1)?.seq,
      ackedThrough: outcome.ackedThrough,
    });
  }

  private async handleStatus(storeId: string, payload: Buffer): Promise<void> {
    if (payload.length === 0) return;
    try {
      const status = storeStatusSchema.parse(JSON.parse(payload.toString('utf8')));
      await this.options.store.recordStoreStatus(storeId, status, this.clock.now());
    } catch (error) {
      this.options.logger.warn('ignoring malformed store status', { storeId, error: errorMessage(error) });
    }
  }
}
