import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { CatalogueStatement } from '../../src/contracts/promotion.js';
import type {
  CatalogueMessage,
  PromotionAppliedBody,
  PromotionRefusedBody,
} from '../../src/contracts/promotion-sync.js';
import { topics, type Ack, type EventBatch } from '../../src/contracts/sync-messages.js';
import {
  catalogueStatement,
  decideReceivedPromotion,
  type TrustedKeyring,
} from '../../src/promotions/index.js';
import type { PromotionDocument } from '../../src/contracts/promotion.js';

/**
 * A lightweight store for hub-side promotion tests and the promotions benchmark: a bare MQTT client
 * that subscribes to its promotion topics like an agent, can state its catalogue and send rollout events
 * on the events path (acknowledged by the hub like any batch), and, in `auto` mode, decides on each
 * received version with the same pure rules as the agent (decideReceivedPromotion) and reports it.
 * Free of vitest, so the benchmark can use it.
 */

export interface ReceivedPromotion {
  topic: string;
  text: string;
  retained: boolean;
  at: number;
}

export interface PromotionStoreSimOptions {
  url: string;
  storeId: string;
  region?: string;
  prefix?: string;
  /** Decide on every received version and send promotion-applied/refused events, as an agent does. */
  auto?: { keyring: TrustedKeyring };
  /** Events per rollout batch (auto mode). */
  batchSize?: number;
  /** Auto mode: state the catalogue after each burst of changes, as an agent does after each change. */
  stateCatalogue?: boolean;
  /** Subscribe to the store's own promotion topic only: a broker that kept no retained message. */
  ownTopicOnly?: boolean;
}

type RolloutBody = PromotionAppliedBody | PromotionRefusedBody;

const ACK_TIMEOUT_MS = 5_000;
const MAX_ATTEMPTS = 10;

export class PromotionStoreSim {
  readonly received: ReceivedPromotion[] = [];
  /** What auto mode applied: the latest version of each promotion and its document. */
  readonly held = new Map<string, { version: number; digest: string; document: PromotionDocument }>();
  readonly epoch = randomBytes(8).toString('hex');
  private readonly topic: ReturnType<typeof topics>;
  private seq = 0;
  private readonly waitingAcks = new Map<number, () => void>();
  private readonly queued: RolloutBody[] = [];
  private flushing: Promise<void> | undefined;
  private readonly watchers = new Set<() => void>();
  private closed = false;
  /** The last failure to deliver rollout events in auto mode (the store gave up on a batch). */
  lastError: Error | undefined;

  private constructor(
    readonly client: MqttClient,
    private readonly options: PromotionStoreSimOptions,
  ) {
    this.topic = topics(options.prefix ?? 'outpost/v1');
  }

  static async connect(options: PromotionStoreSimOptions): Promise<PromotionStoreSim> {
    const client = mqtt.connect(options.url, {
      clientId: `sim-${options.storeId}-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clean: true,
      protocolVersion: 4,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    const sim = new PromotionStoreSim(client, options);
    client.on('message', (topic, payload, packet) => sim.onMessage(topic, payload, packet.retain));
    const promotionFilters = options.ownTopicOnly
      ? [sim.topic.promotionFilters(options.storeId, undefined)[0]!]
      : sim.topic.promotionFilters(options.storeId, options.region);
    await client.subscribeAsync([...promotionFilters, sim.topic.acks(options.storeId)], { qos: 1 });
    return sim;
  }

  get storeId(): string {
    return this.options.storeId;
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === this.topic.acks(this.options.storeId)) {
      const ack = JSON.parse(payload.toString('utf8')) as Ack;
      if (ack.kind === 'batch' && ack.epoch === this.epoch) this.waitingAcks.get(ack.batch.lastSeq)?.();
      return;
    }
    const text = payload.toString('utf8');
    this.received.push({ topic, text, retained, at: Date.now() });
    if (this.options.auto) this.decide(text);
    for (const watcher of this.watchers) watcher();
  }

  private decide(text: string): void {
    let received: unknown;
    try {
      received = JSON.parse(text);
    } catch {
      received = text;
    }
    const decision = decideReceivedPromotion(received, {
      store: { storeId: this.options.storeId, region: this.options.region },
      keyring: this.options.auto!.keyring,
      held: (id) => this.held.get(id),
    });
    const at = new Date().toISOString();
    if (decision.outcome === 'apply') {
      this.held.set(decision.promotion.promotionId, {
        version: decision.promotion.version,
        digest: decision.digest,
        document: decision.promotion,
      });
      this.queueRollout({
        v: 1,
        type: 'promotion-applied',
        promotionId: decision.promotion.promotionId,
        version: decision.promotion.version,
        digest: decision.digest,
        keyId: decision.signed.signature.keyId,
        change: decision.change,
        ...(decision.previousVersion === undefined ? {} : { previousVersion: decision.previousVersion }),
        appliedAt: at,
      });
    } else if (!decision.redelivery) {
      this.queueRollout({
        v: 1,
        type: 'promotion-refused',
        promotionId: decision.promotionId ?? null,
        version: decision.version ?? null,
        digest: null,
        keyId: decision.keyId ?? null,
        reason: decision.reason,
        message: decision.message,
        refusedAt: at,
      });
    }
  }

  private queueRollout(body: RolloutBody): void {
    this.queued.push(body);
    this.scheduleFlush();
  }

  /** One flush at a time; what is queued while one runs (even during its statement) gets the next. */
  private scheduleFlush(): void {
    this.flushing ??= new Promise<void>((r) => setTimeout(r, 20))
      .then(async () => {
        while (this.queued.length > 0) {
          await this.sendRollout(this.queued.splice(0, this.options.batchSize ?? 500));
        }
        if (this.options.stateCatalogue) await this.publishCatalogue();
      })
      .catch((error: unknown) => {
        if (!this.closed) this.lastError = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.queued.length > 0 && !this.closed && !this.lastError) this.scheduleFlush();
      });
  }

  /** Resolves once every queued rollout event is acknowledged by a hub. */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Sends rollout records as one events batch and waits for the hub's acknowledgement of it. */
  async sendRollout(
    bodies: readonly RolloutBody[],
    options: { type?: string; text?: (body: RolloutBody) => string } = {},
  ): Promise<number[]> {
    const first = this.seq + 1;
    const events = bodies.map((body, i) => ({
      seq: first + i,
      // The epoch is random per simulated store: unique across stores and runs.
      eventId: `01S${this.epoch}${String(first + i).padStart(10, '0')}`,
      type: options.type ?? body.type,
      capturedAt: new Date().toISOString(),
      body: options.text ? options.text(body) : JSON.stringify(body),
    }));
    this.seq += bodies.length;
    const batch = { v: 1, storeId: this.options.storeId, epoch: this.epoch, events } as EventBatch;
    await this.publishUntilAcked(batch);
    return events.map((e) => e.seq);
  }

  private async publishUntilAcked(batch: EventBatch): Promise<void> {
    const lastSeq = batch.events.at(-1)!.seq;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const acked = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ACK_TIMEOUT_MS);
        this.waitingAcks.set(lastSeq, () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      await this.client.publishAsync(this.topic.events(this.options.storeId), JSON.stringify(batch), {
        qos: 1,
      });
      if (await acked) {
        this.waitingAcks.delete(lastSeq);
        return;
      }
    }
    throw new Error(`store ${this.options.storeId}: batch up to seq ${lastSeq} never acknowledged`);
  }

  async publishStatus(state: 'online' | 'offline'): Promise<void> {
    await this.client.publishAsync(
      this.topic.status(this.options.storeId),
      JSON.stringify({ v: 1, state, at: new Date().toISOString() }),
      { qos: 1, retain: true },
    );
  }

  /** What this store holds, as its statement (auto mode's holdings unless one is given). */
  statement(options: { versions?: boolean } = {}): CatalogueStatement {
    return catalogueStatement(
      [...this.held.values()].map((h) => h.document),
      { storeId: this.options.storeId, region: this.options.region },
      options,
    );
  }

  async publishCatalogue(
    statement: CatalogueStatement = this.statement(),
    refused: CatalogueMessage['refused'] = [],
  ): Promise<void> {
    const message: CatalogueMessage = {
      v: 1,
      storeId: this.options.storeId,
      ...(this.options.region === undefined ? {} : { region: this.options.region }),
      at: new Date().toISOString(),
      statement,
      refused,
    };
    await this.client.publishAsync(this.topic.catalogue(this.options.storeId), JSON.stringify(message), {
      qos: 1,
    });
  }

  /** The first received message (from index `from` on) that satisfies `match`, waiting at most `timeoutMs`. */
  async waitForMessage(
    match: (message: ReceivedPromotion) => boolean,
    options: { from?: number; timeoutMs?: number; what?: string } = {},
  ): Promise<ReceivedPromotion> {
    const find = () => this.received.slice(options.from ?? 0).find(match);
    const found = find();
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(
          new Error(
            `store ${this.options.storeId}: no ${options.what ?? 'matching promotion message'} within ${options.timeoutMs ?? 10_000} ms; received: ${this.received.map((r) => r.topic).join(', ')}`,
          ),
        );
      }, options.timeoutMs ?? 10_000);
      const check = () => {
        const hit = find();
        if (!hit) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve(hit);
      };
      this.watchers.add(check);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.endAsync(true).catch(() => {});
  }
}
