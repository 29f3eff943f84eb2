import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import type { SignedPromotion } from '../../src/contracts/promotion.js';
import type { ActivePromotionsAnswer } from '../../src/contracts/promotion-api.js';
import { catalogueMessageSchema, type CatalogueMessage } from '../../src/contracts/promotion-sync.js';
import { eventBatchSchema, topics, type BatchAck } from '../../src/contracts/sync-messages.js';
import {
  createPromotionSigner,
  generateSigningKeyPair,
  type PromotionSigner,
  type SigningKeyPair,
} from '../../src/promotions/index.js';
import { promotionDraft } from './promotion-documents.js';

/**
 * Head office as a promotions test of the store agent needs it, on a private broker: signs documents
 * with a key of its own (the agent trusts its public key), publishes them on the store's promotion topics
 * exactly as a hub does, collects the catalogue messages the store states, and (when asked) acknowledges
 * the store's events like a hub, so its rollout records leave the outbox. Free of vitest.
 */
export class HeadOfficeDesk {
  readonly keys: SigningKeyPair;
  readonly signer: PromotionSigner;
  readonly catalogues: { at: number; message: CatalogueMessage }[] = [];
  /** Every event the store published (when acknowledging): type and body, in arrival order. */
  readonly events: { seq: number; type: string; body: string }[] = [];
  private readonly topic: ReturnType<typeof topics>;
  private acking = false;

  private constructor(
    readonly client: MqttClient,
    readonly storeId: string,
    prefix: string,
    keys: SigningKeyPair | undefined,
  ) {
    this.keys = keys ?? generateSigningKeyPair();
    this.signer = createPromotionSigner(this.keys.privateKeyPem);
    this.topic = topics(prefix);
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  static async connect(
    url: string,
    storeId: string,
    options: { prefix?: string; keys?: SigningKeyPair } = {},
  ): Promise<HeadOfficeDesk> {
    const client = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      clientId: `head-office-${storeId}-${Math.random().toString(16).slice(2)}`,
    });
    const desk = new HeadOfficeDesk(client, storeId, options.prefix ?? 'outpost/v1', options.keys);
    await client.subscribeAsync([desk.topic.catalogue(storeId), desk.topic.events(storeId)], { qos: 1 });
    return desk;
  }

  /** Signs a document made from the test's known-good draft with these overrides. */
  sign(overrides: Record<string, unknown> = {}): SignedPromotion {
    return this.signer.sign(promotionDraft(overrides));
  }

  /** Publishes as a hub does: on the topic of the store (default), a region or every store; retained. */
  async publish(
    message: SignedPromotion | string | object,
    where: { audience?: 'store' | 'region' | 'all'; region?: string; retain?: boolean } = {},
  ): Promise<void> {
    const text = typeof message === 'string' ? message : JSON.stringify(message);
    const id =
      typeof message === 'object' && message !== null && 'document' in message
        ? String((message as { document: { promotionId?: unknown } }).document.promotionId ?? 'X')
        : 'X';
    const topic =
      where.audience === 'all'
        ? this.topic.promotionForAll(id)
        : where.audience === 'region'
          ? this.topic.promotionForRegion(where.region ?? 'north', id)
          : this.topic.promotionForStore(this.storeId, id);
    await this.client.publishAsync(topic, text, { qos: 1, retain: where.retain ?? true });
  }

  /** From now on, acknowledge every events batch of the store as a hub would after its commit. */
  ackEverything(): void {
    this.acking = true;
  }

  latestCatalogue(): CatalogueMessage | undefined {
    return this.catalogues.at(-1)?.message;
  }

  private onMessage(topic: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    if (topic === this.topic.catalogue(this.storeId)) {
      this.catalogues.push({ at: Date.now(), message: catalogueMessageSchema.parse(JSON.parse(text)) });
      return;
    }
    if (topic !== this.topic.events(this.storeId)) return;
    const parsed = eventBatchSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return;
    const batch = parsed.data;
    // A store withholds only events too large for any message (then `body` is absent): none here.
    for (const e of batch.events) this.events.push({ seq: e.seq, type: e.type, body: e.body ?? '' });
    if (!this.acking) return;
    const first = batch.events[0]!;
    const last = batch.events.at(-1)!;
    const ack: BatchAck = {
      v: 1,
      kind: 'batch',
      epoch: batch.epoch,
      ackedThrough: last.seq,
      highestSeq: last.seq,
      batch: { firstSeq: first.seq, lastSeq: last.seq, lastEventId: last.eventId },
      rejected: [],
      conflicts: [],
    };
    void this.client.publishAsync(this.topic.acks(this.storeId), JSON.stringify(ack), { qos: 1 });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true).catch(() => {});
  }
}

/**
 * Makes a store agent connect again without touching the broker: a client taking over its client id
 * makes the broker drop the agent's connection (MQTT session takeover), then leaves. The agent reconnects
 * and subscribes again, and retained messages come again, as after any reconnection.
 */
export async function kickStore(url: string, storeId: string): Promise<void> {
  const impostor = await mqtt.connectAsync(url, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    clientId: `outpost-agent-${storeId}`,
  });
  await impostor.endAsync(true);
}

/** Polls until `check` gives a value (not undefined or false), within a bound; the error says what was last seen. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; describe?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const seen = options.describe ? await options.describe() : undefined;
      throw new Error(
        `timed out waiting for ${what}${seen === undefined ? '' : `; last seen: ${JSON.stringify(seen)}`}`,
      );
    }
    await sleep(25);
  }
}

/** A till's view of the agent's promotion API. */
export class TillClient {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async active(at?: string): Promise<ActivePromotionsAnswer> {
    const query = at === undefined ? '' : `?at=${encodeURIComponent(at)}`;
    const response = await fetch(`${this.baseUrl}/v1/promotions/active${query}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (response.status !== 200) throw new Error(`active: ${response.status} ${await response.text()}`);
    return (await response.json()) as ActivePromotionsAnswer;
  }

  /** The promotion ids and versions in force (at now or `at`): what a refusal must leave unchanged. */
  async inForce(at?: string): Promise<string[]> {
    return (await this.active(at)).promotions.map((p) => `${p.promotionId}@${p.version}`);
  }

  async price(basket: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.baseUrl}/v1/baskets/price`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
      body: typeof basket === 'string' ? basket : JSON.stringify(basket),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body };
  }
}
