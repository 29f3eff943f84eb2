import {
  signedPromotionSchema,
  type Basket,
  type PricedBasket,
  type PromotionDocument,
} from '../contracts/promotion.js';
import type { ActivePromotionsAnswer } from '../contracts/promotion-api.js';
import { catalogueMessageSchema, type CatalogueMessage } from '../contracts/promotion-sync.js';
import type { PromotionsStatus } from '../contracts/status.js';
import { topics } from '../contracts/sync-messages.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage, StorageUnavailableError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { CatalogueAnswers } from './catalogue-answers.js';
import { catalogueStatement } from './catalogue-rules.js';
import {
  CatalogueOrderError,
  type CatalogueStore,
  type CatalogueWrite,
  type StoredRefusal,
  type WriteOutcome,
} from './catalogue-store.js';
import type { InForceAnswer, StoreContext } from './in-force.js';
import { decideVersions, type HeldPromotion, type ReceivedMessage } from './received-versions.js';
import { refusalAdvice } from './refusal-advice.js';
import { trustSettingsKey } from './rollout-records.js';
import type { TrustedKeyring } from './signing.js';

/**
 * The store's promotions at run time: receives signed versions from the sync engine's MQTT link, decides
 * on each with the pure rules (decideReceivedPromotion), stores the outcome with its rollout record in one
 * outbox transaction (catalogue-store.ts), states the catalogue to head office on every connection and
 * after every change, and answers tills from memory: what is in force at an instant and basket prices,
 * both from evaluators cached until the catalogue or the set in force changes, never a database read.
 *
 * Received messages are queued and applied a slice at a time, each slice one transaction (one fsync) with
 * a turn of the event loop between slices, so a burst of a thousand versions never holds the tills up.
 * A slice that cannot be stored (disk full) is tried again later; hubs re-offer anything still missing
 * when the store states its catalogue, so nothing depends on the queue surviving a restart.
 */

export interface CatalogueServiceOptions {
  store: CatalogueStore;
  identity: StoreContext;
  keyring: TrustedKeyring;
  logger: Logger;
  clock?: Clock;
  /** The MQTT topic prefix, for the catalogue message's topic. */
  topicPrefix: string;
  /** After a commit that added rollout records to the outbox: deliver them soon. */
  onRecorded?: () => void;
  /** Publishes on the store's link (QoS 1); false while offline. */
  publish?: (topic: string, payload: string) => Promise<boolean>;
  tuning?: Partial<CatalogueTuning>;
}

export interface CatalogueTuning {
  /** Received messages applied per transaction. */
  sliceSize: number;
  /** Received messages waiting at most; beyond, they are dropped (a hub re-offers them). */
  maxQueued: number;
  /** After a failed slice, wait this long before trying it again. */
  retryAfterMs: number;
  /** Attempts per message before it is dropped (a hub re-offers it on the next connection). */
  maxAttempts: number;
  /** The catalogue is stated this long after a change, so a burst of changes is stated once. */
  stateAfterMs: number;
  /**
   * After each connection the catalogue is stated at once, then again after each of these delays, then
   * every `restateEveryMs`. A statement no hub hears is lost (after a broker restart, stores may connect
   * before the hubs have subscribed again), and the broker may have kept nothing: stating again soon after
   * connecting, and now and then, is what makes sure a hub compares what the store holds.
   */
  restateAfterConnectMs: readonly number[];
  restateEveryMs: number;
}

const DEFAULT_TUNING: CatalogueTuning = {
  sliceSize: 64,
  maxQueued: 20_000,
  retryAfterMs: 5_000,
  maxAttempts: 5,
  stateAfterMs: 100,
  restateAfterConnectMs: [5_000, 30_000, 120_000],
  restateEveryMs: 15 * 60_000,
};

/** The catalogue message carries at most this many refused versions (catalogueMessageSchema). */
const MAX_REFUSED_STATED = 1000;

interface Received extends ReceivedMessage {
  attempts: number;
}

interface Refused {
  promotionId: string;
  version: number;
  digest: string;
  reason: StoredRefusal['reason'];
}

const iso = (ms: number) => new Date(ms).toISOString();

const documentsOf = (held: Iterable<HeldPromotion>): PromotionDocument[] =>
  [...held].flatMap((h) => (h.document ? [h.document] : []));

export class CatalogueService {
  private readonly clock: Clock;
  private readonly tuning: CatalogueTuning;
  private readonly topic: ReturnType<typeof topics>;
  private readonly settingsKey: string;
  private readonly answers: CatalogueAnswers;
  private held = new Map<string, HeldPromotion>();
  private refusedStated: Refused[] = [];
  private lastRefusal: StoredRefusal | undefined;
  private refusals = 0;
  private queue: Received[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stateTimer: NodeJS.Timeout | undefined;
  private restateTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private started = false;
  private stopped = false;

  constructor(private readonly options: CatalogueServiceOptions) {
    this.clock = options.clock ?? systemClock;
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.topic = topics(options.topicPrefix);
    this.settingsKey = trustSettingsKey(options.keyring.keyIds, options.identity);
    this.answers = new CatalogueAnswers(options.identity);
  }

  /** Reads the catalogue and the refusals from the outbox database. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { store, logger, identity } = this.options;
    const held = new Map<string, HeldPromotion>();
    for (const row of store.loadCatalogue()) {
      let document: PromotionDocument | undefined;
      try {
        // Verified when it was received; what a store holds stays (docs/promotions.md, key rotation).
        document = signedPromotionSchema.parse(JSON.parse(row.signedText)).document;
      } catch (error) {
        logger.error(
          'a stored promotion version cannot be read; it is out of force until a newer version arrives',
          {
            storeId: identity.storeId,
            promotionId: row.promotionId,
            version: row.version,
            error: errorMessage(error),
          },
        );
      }
      held.set(row.promotionId, {
        promotionId: row.promotionId,
        version: row.version,
        digest: row.digest,
        keyId: row.keyId,
        state: row.state,
        document,
      });
    }
    this.replaceHeld(held);
    this.refusedStated = store.refusalsUnder(this.settingsKey, MAX_REFUSED_STATED).map((r) => ({
      promotionId: r.promotionId!,
      version: r.version!,
      digest: r.digest!,
      reason: r.reason,
    }));
    this.lastRefusal = store.lastRefusal();
    this.refusals = store.refusalCount();
    logger.info('promotions loaded', {
      storeId: identity.storeId,
      held: held.size,
      trustedKeys: this.options.keyring.keyIds.length,
      timeZone: identity.timeZone,
    });
  }

  /** Stops taking messages; what is still queued is dropped (hubs re-offer it on the next connection). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.stateTimer);
    clearTimeout(this.restateTimer);
    this.timer = undefined;
    this.stateTimer = undefined;
    this.restateTimer = undefined;
    this.queue = [];
    this.wakeIdle();
  }

  /** A message on one of the store's promotion topics (from the sync engine's link). Never throws. */
  receive(topic: string, payload: Buffer): void {
    if (this.stopped || !this.started) return;
    // A zero-length retained message only clears the broker's copy: it carries nothing to decide on.
    if (payload.length === 0) return;
    if (this.queue.length >= this.tuning.maxQueued) {
      this.options.logger.warn('promotion message dropped: too many waiting; head office offers it again', {
        storeId: this.options.identity.storeId,
        topic,
        waiting: this.queue.length,
      });
      this.stateCatalogueSoon();
      return;
    }
    this.queue.push({ topic, payload, attempts: 0 });
    this.schedule(0);
  }

  /** The link is up (subscriptions in place): state what this store holds, now and again soon after. */
  connected(): void {
    if (this.stopped || !this.started) return;
    void this.stateCatalogue();
    this.scheduleRestatement(0);
  }

  private scheduleRestatement(step: number): void {
    clearTimeout(this.restateTimer);
    const { restateAfterConnectMs, restateEveryMs } = this.tuning;
    const delay = restateAfterConnectMs[step] ?? restateEveryMs;
    this.restateTimer = setTimeout(() => {
      void this.stateCatalogue();
      this.scheduleRestatement(step + 1);
    }, delay);
    this.restateTimer.unref();
  }

  /** Resolves once every received message has been applied, refused or given up on (tests, shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.timer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** What is in force at `at` for this store, in its time zone (catalogue-answers.ts: from memory, cached). */
  active(at: number): InForceAnswer {
    return this.answers.active(at);
  }

  /** The answer of `GET /v1/promotions/active`. */
  activeAt(at: number): ActivePromotionsAnswer {
    return this.answers.activeAt(at);
  }

  /** The same, as JSON text, kept serialised while it holds. */
  activeJson(at: number): string {
    return this.answers.activeJson(at);
  }

  /** Prices a basket with what is in force at `at`. */
  price(basket: Basket, at: number): PricedBasket {
    return this.answers.price(basket, at);
  }

  /** The promotions part of /v1/status. */
  status(now: number): PromotionsStatus {
    const answer = this.active(now);
    const first = answer.next?.promotions[0];
    const last = this.lastRefusal;
    let unsentReports: number | undefined;
    try {
      unsentReports = this.options.store.unsentReports();
    } catch {
      // storage trouble is reported by capture; the status still answers
    }
    return {
      active: answer.inForce.length,
      held: this.held.size,
      timeZone: this.options.identity.timeZone,
      trustedKeys: this.options.keyring.keyIds.length,
      next:
        answer.next && first
          ? { promotionId: first.promotionId, name: first.name, startsAt: iso(answer.next.startsAt) }
          : null,
      refused: this.refusals,
      lastRefusal: last
        ? {
            at: iso(last.at),
            promotionId: last.promotionId,
            version: last.version,
            reason: last.reason,
            message: last.message,
            ...refusalAdvice(last.reason),
            resolved: this.resolves(last),
          }
        : null,
      ...(unsentReports === undefined ? {} : { unsentReports }),
    };
  }

  /** Whether the store has since taken the refused version (the very document) or a later one. */
  private resolves(refusal: StoredRefusal): boolean {
    if (refusal.promotionId === null || refusal.version === null) return false;
    const held = this.held.get(refusal.promotionId);
    if (held === undefined) return false;
    return (
      held.version > refusal.version || (held.version === refusal.version && held.digest === refusal.digest)
    );
  }

  /** What this store states to head office: the versions live for it, its region, the versions it refused. */
  catalogueMessage(now: number = this.clock.now()): CatalogueMessage {
    const { identity } = this.options;
    const heads = documentsOf(this.held.values());
    const refused = this.refusedStated
      .filter((r) => {
        const held = this.held.get(r.promotionId);
        return held === undefined || r.version > held.version;
      })
      .slice(0, MAX_REFUSED_STATED);
    return catalogueMessageSchema.parse({
      v: 1,
      storeId: identity.storeId,
      ...(identity.region === undefined ? {} : { region: identity.region }),
      at: iso(now),
      statement: catalogueStatement(heads, identity),
      refused,
    });
  }

  private async stateCatalogue(): Promise<void> {
    clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    const { publish, logger, identity } = this.options;
    if (!publish || this.stopped) return;
    try {
      const message = this.catalogueMessage();
      const sent = await publish(this.topic.catalogue(identity.storeId), JSON.stringify(message));
      if (sent)
        logger.debug('catalogue stated', {
          storeId: identity.storeId,
          count: message.statement.count,
          refused: message.refused.length,
        });
    } catch (error) {
      // Stated again on the next connection and after the next change.
      logger.warn(
        'could not state the promotion catalogue to head office; it is stated again on the next connection',
        {
          storeId: identity.storeId,
          error: errorMessage(error),
        },
      );
    }
  }

  private stateCatalogueSoon(): void {
    if (this.stateTimer || this.stopped) return;
    this.stateTimer = setTimeout(() => void this.stateCatalogue(), this.tuning.stateAfterMs);
    this.stateTimer.unref();
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.applyNextSlice();
    }, delayMs);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private applyNextSlice(): void {
    if (this.stopped) return;
    const slice = this.queue.splice(0, this.tuning.sliceSize);
    try {
      this.applySlice(slice);
    } catch (error) {
      this.onSliceFailed(slice, error);
      return;
    }
    if (this.queue.length > 0) this.schedule(0);
    else this.wakeIdle();
  }

  private onSliceFailed(slice: Received[], error: unknown): void {
    const { logger, identity } = this.options;
    if (error instanceof CatalogueOrderError) {
      // A fault of ours, not of the storage: trying again would fail again. Hubs re-offer what is missing.
      logger.error('promotion versions not applied', { storeId: identity.storeId, error: error.message });
      this.stateCatalogueSoon();
    } else {
      const retry = slice.filter((m) => ++m.attempts < this.tuning.maxAttempts);
      logger.error(
        error instanceof StorageUnavailableError
          ? 'promotion versions could not be stored; trying again later'
          : 'promotion versions could not be applied; trying again later',
        {
          storeId: identity.storeId,
          messages: slice.length,
          givenUp: slice.length - retry.length,
          error: errorMessage(error),
        },
      );
      this.queue = [...retry, ...this.queue];
    }
    if (this.queue.length > 0) this.schedule(this.tuning.retryAfterMs);
    else this.wakeIdle();
  }

  /**
   * Decides on each message against what is held (and what this slice already took), then writes every
   * outcome in one transaction. Decisions need no lock: only this service writes the catalogue, and the
   * store's conditional write refuses anything that would not move a promotion forward.
   */
  private applySlice(slice: readonly Received[]): void {
    const { store, keyring, identity, logger } = this.options;
    const decided = decideVersions(slice, {
      store: identity,
      keyring,
      settingsKey: this.settingsKey,
      held: (id) => this.held.get(id),
      now: this.clock.now(),
    });
    if (decided.redeliveries > 0)
      logger.debug('promotion versions already held, received again', {
        storeId: identity.storeId,
        count: decided.redeliveries,
      });
    if (decided.writes.length === 0) return;
    const outcomes = store.record(decided.writes);
    this.afterCommit(decided.taken, decided.writes, outcomes, decided.sources);
  }

  private afterCommit(
    taken: Map<string, HeldPromotion>,
    writes: readonly CatalogueWrite[],
    outcomes: readonly WriteOutcome[],
    sources: readonly Received[],
  ): void {
    const { logger, identity } = this.options;
    if (taken.size > 0) {
      const held = new Map(this.held);
      for (const [id, promotion] of taken) held.set(id, promotion);
      this.replaceHeld(held);
    }
    let recorded = false;
    let refusedNow = false;
    writes.forEach((write, i) => {
      const outcome = outcomes[i]!;
      const topic = sources[i]!.topic;
      if (!outcome.recorded) {
        logger.debug('promotion refused again; recorded before', {
          storeId: identity.storeId,
          topic,
          reason: write.kind === 'refuse' ? write.record.reason : undefined,
        });
        return;
      }
      recorded = true;
      const event = { eventId: outcome.eventId, epoch: outcome.epoch, seq: outcome.seq };
      if (write.kind === 'apply') {
        logger.info('promotion applied', {
          storeId: identity.storeId,
          promotionId: write.promotionId,
          version: write.version,
          state: write.state,
          change: write.change,
          previousVersion: write.previousVersion,
          keyId: write.keyId,
          topic,
          ...event,
        });
        return;
      }
      const r = write.record;
      refusedNow = true;
      this.refusals += 1;
      this.lastRefusal = {
        at: write.at,
        promotionId: r.promotionId,
        version: r.version,
        digest: r.digest,
        reason: r.reason,
        message: r.message,
      };
      if (r.promotionId !== null && r.version !== null && r.digest !== null) {
        this.refusedStated = [
          { promotionId: r.promotionId, version: r.version, digest: r.digest, reason: r.reason },
          ...this.refusedStated,
        ].slice(0, MAX_REFUSED_STATED);
      }
      logger.warn('promotion refused', {
        storeId: identity.storeId,
        promotionId: r.promotionId,
        version: r.version,
        reason: r.reason,
        keyId: r.keyId,
        topic,
        message: r.message,
        ...event,
      });
    });
    if (recorded) this.options.onRecorded?.();
    if (taken.size > 0 || refusedNow) this.stateCatalogueSoon();
  }

  private replaceHeld(held: Map<string, HeldPromotion>): void {
    this.held = held;
    this.answers.replace(documentsOf(held.values()));
  }
}
