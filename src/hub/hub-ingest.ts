import type { IPublishPacket, MqttClient } from 'mqtt';
import type { DayResult } from '../contracts/day-close.js';
import type { HubConfig } from '../contracts/hub-config.js';
import {
  storeStatusSchema,
  SYNC_LIMITS,
  SYNC_PROTOCOL_VERSION,
  topics,
  type BatchAck,
  type CloseAck,
  type EpochClose,
  type ResendReport,
  type StoreStatusMessage,
} from '../contracts/sync-messages.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { mqttClientOptions, type MqttConnect } from '../lib/mqtt-connection.js';
import { ReconnectingMqtt } from '../lib/reconnecting-mqtt.js';
import { refusesMqtt5, shareGroupAdvice } from './broker-refusal.js';
import { UnjudgedEventError } from './classify-events.js';
import { describeCommitFailure } from './db-errors.js';
import type { HubMetrics } from './hub-metrics.js';
import type { HubStore, IncomingEvent } from './hub-store.js';
import { IngestHealth } from './ingest-health.js';
import { parseInThread, type MessageParser } from './parse-pool.js';
import type { HeldThrough, ParsedMessage } from './parse-event-batch.js';
import { StoreLanes } from './store-lanes.js';

export interface HubIngestOptions {
  config: HubConfig;
  store: HubStore;
  logger: Logger;
  metrics: HubMetrics;
  clock?: Clock;
  connect?: MqttConnect;
  /** Test seam: runs after a message is committed and before it is acknowledged. */
  afterCommit?: () => void;
  /** Where messages are parsed and validated; the hub passes its parse worker. */
  parse?: MessageParser;
  /** Promotions ride on this link: catalogue statements in, rollout news and link-up out. */
  promotions?: IngestPromotionHooks;
  /** Verdicts on business days go out on it (hub-days.ts). */
  days?: IngestDayHooks;
  /** Resync rides on it: stores' statuses and resend reports in, commands out (hub-resync.ts). */
  resync?: IngestResyncHooks;
}

/** What ingest tells the business-day side. */
export interface IngestDayHooks {
  /** A committed batch made or changed these verdicts. */
  publish(storeId: string, results: readonly DayResult[]): void;
  /** This hub's write turned the store's retained status online. */
  onStoreOnline(storeId: string): Promise<void>;
}

/** What ingest tells the resync side. */
export interface IngestResyncHooks {
  /** A store's status, once recorded. */
  onStatus(storeId: string, status: StoreStatusMessage): Promise<void>;
  /** A store's answer to a resend command, in order behind the batches it re-sent. */
  onReport(storeId: string, report: ResendReport): Promise<void>;
}

/** What ingest tells the promotions side (hub-promotions.ts). */
export interface IngestPromotionHooks {
  /** A store's catalogue message (the latest one per store, when several arrive while one is handled). */
  onCatalogue(storeId: string, payload: Buffer): Promise<void>;
  /** A committed batch held promotion-applied events of these promotions. */
  onRolloutApplied(promotionIds: Iterable<string>): void;
  /** The link is up and subscribed again. */
  onLinkUp(): void;
}

/**
 * Messages of one store waiting in its lane, the one being committed included: as many as an agent may
 * have in flight (its window is capped at the same figure), so a draining store is never cut short; a
 * store whose commit is stuck gets its retransmissions dropped beyond it, which it repairs by publishing
 * them again.
 */
const PER_STORE_LIMIT = SYNC_LIMITS.maxInFlightPerStore;
/** Messages taken from the broker and not yet committed, over all stores, before reading from it pauses. */
const MAX_PENDING = 64;

const seqRange = (first: number, last: number) => (first === last ? `seq ${first}` : `seqs ${first}–${last}`);

/**
 * Takes store messages from the broker, stores each event exactly once (and records epoch closes), and
 * acknowledges after the commit. Each store has its own lane (store-lanes.ts): its messages commit in
 * arrival order while other stores' commit alongside, on other database connections, so one store stuck
 * on a lock stalls no one else. Messages are parsed and validated (on the parse worker) as they arrive,
 * ahead of their commit; their MQTT PUBACK may thus precede the commit: harmless, because only the
 * application-level ack, sent after the commit, makes a store forget an event, and a store re-publishes
 * whatever is not acknowledged in time.
 */
export class HubIngest {
  readonly health: IngestHealth;
  private readonly link: ReconnectingMqtt;
  private readonly lanes: StoreLanes;
  private readonly held: (() => void)[] = [];
  /**
   * Per store, how far its latest committed epoch is held contiguously (from this hub's own commits:
   * never beyond what the database holds). Events of later messages up to there are only digested
   * (parse-event-batch.ts, digestOnly): a redelivered batch is not validated a second time.
   */
  private readonly heldThrough = new Map<string, HeldThrough>();
  /** Catalogue messages waiting for their store's catalogue lane: only the latest of each store matters. */
  private readonly catalogues = new Map<string, Buffer>();
  private readonly topic: ReturnType<typeof topics>;
  private readonly clock: Clock;
  private readonly parse: MessageParser;
  /** What the technician must change before this hub can connect at all, or null. */
  private brokerProblem: string | null = null;
  private stopping = false;

  constructor(private readonly options: HubIngestOptions) {
    this.parse = options.parse ?? parseInThread;
    const { config } = options;
    this.clock = options.clock ?? systemClock;
    this.health = new IngestHealth(this.clock, config.ingest);
    this.topic = topics(config.mqtt.topicPrefix);
    // PostgreSQL: one connection per concurrent commit, one left for the operator API. SQLite commits
    // synchronously, one at a time, whatever this says.
    const concurrency = options.store.kind === 'postgres' ? Math.max(1, config.db.poolSize - 1) : 1;
    this.lanes = new StoreLanes({
      concurrency,
      perLaneLimit: PER_STORE_LIMIT,
      onSettled: () => this.resumeReading(),
      onError: (error) =>
        options.logger.error('a commit failed unexpectedly', { error: errorMessage(error) }),
    });
    const shared = config.mqtt.shareGroup;
    const sharedFilter = (filter: string) => (shared ? `$share/${shared}/${filter}` : filter);
    const eventsFilter = sharedFilter(this.topic.allEvents());
    // One hub of the group answers a store's catalogue statement; every hub could, but once is enough.
    const catalogueFilters = options.promotions ? [sharedFilter(this.topic.allCatalogues())] : [];
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
        client.on('error', (error) => {
          if (!shared || !refusesMqtt5(error)) return;
          const advice = shareGroupAdvice(config.mqtt.url, shared, error);
          if (advice !== this.brokerProblem) options.logger.error(advice, { hubId: config.hubId });
          this.brokerProblem = advice;
        });
      },
      onConnect: async (client) => {
        // Status is retained; shared subscriptions get no retained messages, so every hub reads it directly.
        await client.subscribeAsync([eventsFilter, ...catalogueFilters, this.topic.allStatus()], { qos: 1 });
        this.brokerProblem = null;
        // After this resolves the link counts as online, which publishing needs.
        if (options.promotions) setImmediate(() => options.promotions?.onLinkUp());
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

  /**
   * Publishes on the hub's link (QoS 1) and resolves on the broker's PUBACK. Never awaited on the ingest
   * path itself: while reading is paused (backed-up commits), PUBACKs wait too.
   */
  publish(topic: string, payload: string, options: { retain: boolean }): Promise<void> {
    const client = this.link.client;
    if (!client) {
      const link = this.link.status();
      return Promise.reject(
        new Error(`the hub's broker link is ${link.state}${link.lastError ? ` (${link.lastError})` : ''}`),
      );
    }
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos: 1, retain: options.retain }, (error) =>
        error ? reject(error) : resolve(),
      );
    });
  }

  /** Everything that keeps ingest from working, in words (empty: healthy as far as ingest can tell). */
  problems(): string[] {
    return [...(this.brokerProblem ? [this.brokerProblem] : []), ...this.health.problems()];
  }

  /**
   * Stops taking messages and lets the commits already running finish (each is bounded by the db.*
   * timeouts); messages still waiting in a lane are left to their stores, which publish them again.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.link.stop();
    for (const done of this.held.splice(0)) done();
    await this.lanes.drain();
  }

  /** mqtt.js's handleMessage: start parsing now, commit in the store's lane, read on while few are pending. */
  private accept(client: MqttClient, packet: IPublishPacket, done: () => void): void {
    try {
      this.route(client, packet);
    } catch (error) {
      this.options.logger.error('could not read a message; the store will publish it again', {
        topic: packet.topic,
        error: errorMessage(error),
      });
    }
    if (this.lanes.size <= MAX_PENDING) done();
    else this.held.push(done);
  }

  private resumeReading(): void {
    while (this.held.length > 0 && this.lanes.size <= MAX_PENDING) this.held.shift()!();
  }

  private route(client: MqttClient, packet: IPublishPacket): void {
    const storeId = this.topic.storeIdOf(packet.topic);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (!storeId) return;
    if (packet.topic === this.topic.status(storeId)) {
      // Its own lane: a store's status never waits behind that store's commits.
      this.lanes.push(`${storeId}\u0000status`, () => this.handleStatus(storeId, payload));
      return;
    }
    if (packet.topic === this.topic.catalogue(storeId)) {
      this.queueCatalogue(storeId, payload);
      return;
    }
    if (packet.topic !== this.topic.events(storeId)) return;
    if (!this.lanes.hasRoom(storeId)) {
      this.options.metrics.droppedMessages.inc();
      this.options.logger.warn(
        'dropped a message of a store whose commits are backed up; it will publish it again',
        {
          storeId,
          bytes: payload.length,
        },
      );
      return;
    }
    const started = performance.now();
    const parsing = this.parse(storeId, payload, this.heldThrough.get(storeId));
    // Observed at once, so a failed parse never counts as unhandled while earlier commits run.
    parsing.catch(() => {});
    this.lanes.push(storeId, () => this.handle(client, storeId, payload, parsing, started));
  }

  /** A catalogue statement supersedes the store's previous one: one waits per store, the latest. */
  private queueCatalogue(storeId: string, payload: Buffer): void {
    const hooks = this.options.promotions;
    if (!hooks) return;
    const waiting = this.catalogues.has(storeId);
    this.catalogues.set(storeId, payload);
    if (waiting) return;
    this.lanes.push(`${storeId}\u0000catalogue`, async () => {
      const latest = this.catalogues.get(storeId);
      this.catalogues.delete(storeId);
      if (!latest || this.stopping) return;
      try {
        await hooks.onCatalogue(storeId, latest);
      } catch (error) {
        this.options.logger.warn(
          'could not answer a store catalogue; the store states it again on its next connection',
          {
            storeId,
            error: describeCommitFailure(error),
          },
        );
      }
    });
  }

  private async handle(
    client: MqttClient,
    storeId: string,
    payload: Buffer,
    parsing: Promise<ParsedMessage>,
    started: number,
  ): Promise<void> {
    if (this.stopping) return;
    const bytes = payload.length;
    let parsed: ParsedMessage;
    try {
      parsed = await parsing;
    } catch (error) {
      this.options.logger.error('could not parse a message; the store will publish it again', {
        storeId,
        bytes,
        error: errorMessage(error),
      });
      return;
    }
    if (!parsed.ok) {
      this.options.metrics.refusedMessages.inc();
      this.options.logger.warn('refused a message of a store', { storeId, bytes, reason: parsed.reason });
      return;
    }
    if (parsed.kind === 'close') await this.commitClose(client, storeId, parsed.close);
    else if (parsed.kind === 'resend') await this.recordResendReport(storeId, parsed.report);
    else if ((await this.commitBatch(client, storeId, parsed.epoch, parsed.events, started)) === 'judge') {
      // Some event parsed by its digest alone must be written after all: parse it in full, once.
      const full = await this.parse(storeId, payload).catch(() => undefined);
      if (full?.ok && full.kind === 'batch')
        await this.commitBatch(client, storeId, full.epoch, full.events, started);
    }
  }

  private publishAck(client: MqttClient, storeId: string, ack: BatchAck | CloseAck): void {
    // Not awaited: inside handleMessage mqtt.js reads no further packets, so waiting here for the ack's
    // own PUBACK could deadlock. A lost ack costs only a retransmission, which the store handles.
    client.publish(this.topic.acks(storeId), JSON.stringify(ack), { qos: 1 }, (error) => {
      if (error)
        this.options.logger.warn('acknowledgement not sent; the store will retransmit', {
          storeId,
          epoch: ack.epoch,
          error: errorMessage(error),
        });
    });
  }

  private async commitBatch(
    client: MqttClient,
    storeId: string,
    epoch: string,
    events: IncomingEvent[],
    started: number,
  ): Promise<'done' | 'judge'> {
    const { logger, metrics, store } = this.options;
    const firstSeq = Math.min(...events.map((e) => e.seq));
    const last = events.reduce((a, b) => (b.seq > a.seq ? b : a));
    const attempt = this.health.begin(storeId, epoch, seqRange(firstSeq, last.seq));
    let outcome;
    try {
      outcome = await store.insertEventsOnce(storeId, epoch, events, this.clock.now(), attempt.phase);
    } catch (error) {
      if (error instanceof UnjudgedEventError && events.some((e) => e.unjudged)) {
        attempt.succeeded();
        this.heldThrough.delete(storeId);
        return 'judge';
      }
      const reason = describeCommitFailure(error);
      attempt.failed(reason);
      metrics.failedCommits.inc();
      logger.error('storing a batch failed; the store will publish it again', {
        storeId,
        epoch,
        firstSeq,
        lastSeq: last.seq,
        events: events.length,
        error: reason,
      });
      return 'done';
    }
    attempt.succeeded();
    const known = this.heldThrough.get(storeId);
    if (known?.epoch !== epoch || known.through < outcome.ackedThrough)
      this.heldThrough.set(storeId, { epoch, through: outcome.ackedThrough });
    metrics.batches.inc();
    metrics.ingestSeconds.observe((performance.now() - started) / 1000);
    metrics.events.inc({ outcome: 'stored' }, outcome.stored);
    metrics.events.inc({ outcome: 'duplicate' }, outcome.duplicates);
    metrics.events.inc({ outcome: 'rejected' }, outcome.rejected.length);
    metrics.events.inc({ outcome: 'conflict' }, outcome.conflicts.length);
    for (const r of outcome.rejected)
      logger.warn('rejected event', { storeId, epoch, seq: r.seq, reason: r.reason });
    const quarantined = new Set<number>();
    for (const q of outcome.quarantined ?? []) {
      quarantined.add(q.seq);
      // A redelivery of an event already in quarantine is the same incident, logged once.
      if (q.alreadyHeld)
        logger.debug('conflicting event already in quarantine', { storeId, epoch, seq: q.seq });
      else logger.error('quarantined conflicting event', { storeId, epoch, seq: q.seq, reason: q.reason });
    }
    for (const c of outcome.conflicts) {
      if (quarantined.has(c.seq)) continue;
      logger.warn(
        'refused a conflicting event without keeping it; its store sends it under an epoch of its own',
        {
          storeId,
          epoch,
          seq: c.seq,
          reason: c.reason,
        },
      );
    }
    this.options.afterCommit?.();
    const applied = new Set(
      events.flatMap((e) => (e.rollout?.outcome === 'applied' ? [e.rollout.promotionId] : [])),
    );
    if (applied.size > 0) this.options.promotions?.onRolloutApplied(applied);
    // Names the batch answered, so that only its sender applies the answer (see batchAckSchema).
    this.publishAck(client, storeId, {
      v: SYNC_PROTOCOL_VERSION,
      kind: 'batch',
      epoch,
      ackedThrough: outcome.ackedThrough,
      highestSeq: outcome.highestSeq,
      batch: { firstSeq, lastSeq: last.seq, lastEventId: last.eventId },
      rejected: outcome.rejected,
      conflicts: outcome.conflicts,
      ...(outcome.closedTowards ? { closedTowards: outcome.closedTowards } : {}),
    });
    if (outcome.days) this.options.days?.publish(storeId, outcome.days);
    logger.debug('acknowledged batch', {
      storeId,
      epoch,
      firstSeq,
      lastSeq: last.seq,
      ackedThrough: outcome.ackedThrough,
    });
    return 'done';
  }

  private async commitClose(client: MqttClient, storeId: string, message: EpochClose): Promise<void> {
    const { logger, metrics, store } = this.options;
    const { epoch, close } = message;
    const fields = {
      storeId,
      epoch,
      nextEpoch: close.nextEpoch,
      lastSeq: close.lastSeq,
      part: close.part,
      parts: close.parts,
      moves: close.moved.length,
      ...(close.moved.length > 0
        ? { firstSeq: close.moved[0]!.seq, lastMovedSeq: close.moved.at(-1)!.seq }
        : {}),
    };
    const attempt = this.health.begin(storeId, epoch, `part ${close.part} of ${close.parts} of its close`);
    let outcome;
    try {
      outcome = await store.closeEpoch(storeId, epoch, close, this.clock.now(), attempt.phase);
    } catch (error) {
      const reason = describeCommitFailure(error);
      attempt.failed(reason);
      metrics.failedCommits.inc();
      logger.error('recording an epoch close failed; the store will publish it again', {
        ...fields,
        error: reason,
      });
      return;
    }
    attempt.succeeded();
    metrics.events.inc({ outcome: 'moved' }, outcome.moved);
    for (const u of outcome.unmatched)
      logger.warn('moved event not found under the closed epoch', {
        storeId,
        epoch,
        seq: u.seq,
        reason: u.reason,
      });
    logger.info('recorded epoch close', {
      ...fields,
      reason: close.reason,
      moved: outcome.moved,
      markedInQuarantine: outcome.markedInQuarantine,
      alreadyHeld: outcome.alreadyHeld,
      unmatched: outcome.unmatched.length,
      closedAtSeq: outcome.closedAtSeq,
      ackedThrough: outcome.ackedThrough,
    });
    this.options.afterCommit?.();
    this.publishAck(client, storeId, {
      v: SYNC_PROTOCOL_VERSION,
      kind: 'close',
      epoch,
      ackedThrough: outcome.ackedThrough,
      highestSeq: outcome.highestSeq,
      close: { nextEpoch: close.nextEpoch, part: close.part, parts: close.parts },
    });
  }

  private async handleStatus(storeId: string, payload: Buffer): Promise<void> {
    if (payload.length === 0) return;
    const { logger, store, days, resync } = this.options;
    let status;
    try {
      status = storeStatusSchema.parse(JSON.parse(payload.toString('utf8')));
      const { cameOnline } = await store.recordStoreStatus(storeId, status, this.clock.now());
      if (cameOnline && days)
        void days.onStoreOnline(storeId).catch((error: unknown) =>
          logger.warn('could not send a store its recent day verdicts', {
            storeId,
            error: describeCommitFailure(error),
          }),
        );
    } catch (error) {
      logger.warn('ignoring a store status it could not record', {
        storeId,
        error: describeCommitFailure(error),
      });
      return;
    }
    await resync?.onStatus(storeId, status);
  }

  private async recordResendReport(storeId: string, report: ResendReport): Promise<void> {
    try {
      await this.options.resync?.onReport(storeId, report);
    } catch (error) {
      this.options.logger.warn('could not record a resend report; the hub asks the store again', {
        storeId,
        epoch: report.epoch,
        requestId: report.resend.requestId,
        error: describeCommitFailure(error),
      });
    }
  }
}
