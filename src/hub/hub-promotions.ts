import type { PromotionDocument } from '../contracts/promotion.js';
import { catalogueMessageSchema, type CatalogueMessage } from '../contracts/promotion-sync.js';
import { topics } from '../contracts/sync-messages.js';
import type { Clock } from '../lib/clock.js';
import { ConflictError, NotConfiguredError, NotFoundError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { documentDigest, isLiveFor, promotionsToReoffer, type PromotionSigner } from '../promotions/index.js';
import type { HubMetrics } from './hub-metrics.js';
import type { HubStore, PromotionOrigin, PromotionVersionRecord, RolloutRecord } from './hub-store.js';
import { publishTopics } from './promotion-audience.js';
import {
  activationDue,
  versionRollout,
  type RolloutSummary,
  type VersionRollout,
} from './promotion-rollout.js';
import {
  checkPush,
  nextVersionDocument,
  parsePushedDocument,
  storedDocument,
  type VersionChange,
} from './promotion-versions.js';

/** Sends on the hub's broker link; resolves once the broker acknowledged (QoS 1). */
export interface PromotionPublisher {
  publish(topic: string, payload: string, options: { retain: boolean }): Promise<void>;
}

export interface HubPromotionsOptions {
  hubId: string;
  store: HubStore;
  /** Undefined when hub.json names no promotions.signingKeyFile: nothing can be signed here. */
  signer: PromotionSigner | undefined;
  publisher: PromotionPublisher;
  topicPrefix: string;
  logger: Logger;
  clock: Clock;
  metrics?: Pick<HubMetrics, 'promotionVersions' | 'promotionCatalogues' | 'promotionReoffers'>;
  /** How long a push waits for the broker's acknowledgement before answering without it. */
  publishWaitMs?: number;
  /** A version left unpublished this long (its hub stopped, or lost the broker) is published by any hub. */
  sweepAfterMs?: number;
  sweepEveryMs?: number;
}

/** A version as the operator API shows it: the record, with the document and signature it carries. */
export type PromotionVersionView = Omit<PromotionVersionRecord, 'signedText'> & {
  document: PromotionDocument;
  signature: { keyId: string; algorithm: string; signature: string };
};

export interface PublishOutcome {
  version: PromotionVersionView;
  /** False when this request did not create it: the same version already existed (an identical one). */
  created: boolean;
  /** Whether the broker acknowledged every audience topic before the answer; if not, it is sent later. */
  published: boolean;
  topics: string[];
}

export interface PromotionListEntry {
  promotionId: string;
  name: string;
  latest: Omit<PromotionVersionRecord, 'signedText'>;
  rollout: RolloutSummary;
}

export interface PromotionDetail {
  promotionId: string;
  name: string;
  /** Newest first, each with its targeted stores and what each did. */
  versions: (PromotionVersionView & { rollout: VersionRollout })[];
  /** Versions stores reported on that this hub never published: forged, or from another hub database. */
  unknownVersions: { version: number; stores: RolloutRecord[] }[];
}

const NO_KEY =
  'this hub has no promotion signing key, so it cannot publish promotions: make a key pair with ' +
  '`outpost promo keygen --out DIR`, set promotions.signingKeyFile in hub.json to the private key file, ' +
  "add the public key to every store's promotions.trustedKeys, and restart the hub";

/**
 * A store states its catalogue on every connection and after every change: during a large push that is a
 * statement per applied burst. Its region is written when it changes, and otherwise at most this often
 * (each write is a commit), so a storm of statements costs reads only.
 */
const CATALOGUE_RECORD_EVERY_MS = 60_000;

const percent = (share: number) => `${Math.round(share * 1000) / 10}%`;

export function versionView(record: PromotionVersionRecord): PromotionVersionView {
  const { signedText, ...fields } = record;
  const signed = storedDocument({ signedText });
  return { ...fields, document: signed.document, signature: signed.signature };
}

/**
 * Head office's side of promotions: sign and publish versions, answer a store's catalogue statement with
 * what it is missing, show rollout, and activate staged promotions when enough stores hold them.
 *
 * Delivery never rests on the broker alone: a version is stored before it is published, a version no
 * hub got to publish is published by the next sweep, and a store that missed a retained message (offline
 * at push time, a broker restarted without persistence) states what it holds on every connection and is
 * re-offered exactly what it lacks.
 */
export class HubPromotions {
  private readonly topic: ReturnType<typeof topics>;
  private current: { count: number; byId: Map<string, PromotionVersionRecord> } | undefined;
  private readonly checks = new Set<string>();
  private checking: Promise<void> | undefined;
  private readonly publishing = new Set<string>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private warnedNoKey = false;
  /** What this hub last wrote of each store's catalogue statement (region, when). */
  private readonly recorded = new Map<string, { region: string | null; at: number }>();
  private stopped = false;

  constructor(private readonly options: HubPromotionsOptions) {
    this.topic = topics(options.topicPrefix);
  }

  start(): void {
    const every = this.options.sweepEveryMs ?? 30_000;
    this.sweepTimer = setInterval(() => {
      void this.sweep(this.options.sweepAfterMs ?? 15_000);
    }, every);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    this.checks.clear();
    await this.checking;
  }

  // ---- publishing -------------------------------------------------------------------------------

  /** `POST /v1/promotions`: validate, refuse a version not above the latest, sign, store, publish. */
  async push(body: unknown, options: { activateWhenShare?: number } = {}): Promise<PublishOutcome> {
    const signer = this.requireSigner();
    const document = parsePushedDocument(body);
    const versions = await this.options.store.promotionVersions(document.promotionId);
    const latest = versions.at(-1);
    checkPush(document, latest, options.activateWhenShare);
    return this.createVersion(signer, document, {
      origin: 'push',
      createdBy: `operator via ${this.options.hubId}`,
      activateWhenShare: options.activateWhenShare ?? null,
      previous: latest,
    });
  }

  /** `POST /v1/promotions/{id}/withdraw` and `…/activate`: the next version, in another state. */
  async change(promotionId: string, change: VersionChange): Promise<PublishOutcome> {
    const signer = this.requireSigner();
    const latest = (await this.options.store.promotionVersions(promotionId)).at(-1);
    if (!latest) throw new NotFoundError(`no promotion ${promotionId} on this hub`);
    const next = nextVersionDocument(change, latest, storedDocument(latest).document);
    return this.createVersion(signer, next, {
      origin: change,
      createdBy: `operator via ${this.options.hubId}`,
      activateWhenShare: null,
      previous: latest,
    });
  }

  private requireSigner(): PromotionSigner {
    if (!this.options.signer) throw new NotConfiguredError(NO_KEY);
    return this.options.signer;
  }

  private async createVersion(
    signer: PromotionSigner,
    document: PromotionDocument,
    meta: {
      origin: PromotionOrigin;
      createdBy: string;
      activateWhenShare: number | null;
      previous: PromotionVersionRecord | undefined;
    },
  ): Promise<PublishOutcome> {
    const { store, logger, clock } = this.options;
    const signed = signer.sign(document);
    const digest = documentDigest(signed.document);
    const createdAt = clock.now();
    const record: PromotionVersionRecord = {
      promotionId: document.promotionId,
      version: document.version,
      name: document.name,
      state: document.state,
      target: document.target,
      signedText: JSON.stringify(signed),
      digest,
      keyId: signer.keyId,
      origin: meta.origin,
      createdBy: meta.createdBy,
      createdAt: new Date(createdAt).toISOString(),
      activateWhenShare: meta.activateWhenShare,
      publishedAt: null,
    };
    const { createdAt: _iso, publishedAt: _none, ...row } = record;
    const fields = { promotionId: record.promotionId, version: record.version };
    if (!(await store.insertPromotionVersion({ ...row, createdAt }))) {
      // Another hub (or request) created this version first. A derived version is the same document
      // whoever derives it, so finding an identical one there means the change is done, once.
      const existing = (await store.promotionVersions(record.promotionId)).find(
        (v) => v.version === record.version,
      );
      if (existing && existing.digest === digest && meta.origin !== 'push') {
        logger.info('promotion version already created by another hub', { ...fields, origin: meta.origin });
        return {
          version: versionView(existing),
          created: false,
          published: existing.publishedAt !== null,
          topics: [],
        };
      }
      throw new ConflictError(
        `promotion ${record.promotionId} version ${record.version} was created meanwhile` +
          `${existing ? ` (${existing.state}, by ${existing.createdBy})` : ''}; push a higher version`,
      );
    }
    // The latest version of its promotion now. The count goes up by one: if another hub added a version
    // meanwhile, the count read next time differs and the cache is read again.
    if (this.current) {
      this.current.byId.set(record.promotionId, record);
      this.current.count += 1;
    }
    this.options.metrics?.promotionVersions.inc({ origin: record.origin });
    logger.info('promotion version signed and stored', {
      ...fields,
      state: record.state,
      origin: record.origin,
      keyId: record.keyId,
      digest,
      createdBy: record.createdBy,
    });
    const topicsOut = publishTopics(record.target, meta.previous?.target, record.promotionId, this.topic);
    const publishing = this.publishVersion(record, topicsOut);
    const waitMs = this.options.publishWaitMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const published = await Promise.race([
      publishing,
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      }),
    ]);
    clearTimeout(timer);
    return { version: versionView(record), created: true, published, topics: topicsOut };
  }

  /**
   * Publishes one version, retained, on every topic of its audience (and of the version it replaces),
   * then records it as published. False when the broker did not take it: the version stays unpublished
   * and the sweep sends it again; stores that connect meanwhile get it from their catalogue exchange.
   */
  private async publishVersion(
    record: PromotionVersionRecord,
    topicsOut: readonly string[],
  ): Promise<boolean> {
    const key = `${record.promotionId}\u0000${record.version}`;
    if (this.publishing.has(key)) return false;
    this.publishing.add(key);
    const fields = { promotionId: record.promotionId, version: record.version };
    try {
      await Promise.all(
        topicsOut.map((t) => this.options.publisher.publish(t, record.signedText, { retain: true })),
      );
      await this.options.store.markPromotionPublished(
        record.promotionId,
        record.version,
        this.options.clock.now(),
      );
      this.options.logger.info('promotion version published', { ...fields, topics: topicsOut.length });
      return true;
    } catch (error) {
      this.options.logger.warn(
        'promotion version stored but not published yet; it is sent again when the broker link allows, and stores get it from their catalogue exchange meanwhile',
        { ...fields, error: errorMessage(error) },
      );
      return false;
    } finally {
      this.publishing.delete(key);
    }
  }

  /**
   * Publishes latest versions that no hub has published (a hub stopped between storing and publishing,
   * or lost the broker). Only those at least `minAgeMs` old, so that the hub that just stored one has its
   * turn first; a version published twice is harmless (a store takes a version it holds as a redelivery).
   */
  async sweep(minAgeMs = 0): Promise<void> {
    if (this.stopped) return;
    try {
      const now = this.options.clock.now();
      const due = (await this.options.store.unpublishedPromotionVersions()).filter(
        (v) => now - Date.parse(v.createdAt) >= minAgeMs,
      );
      for (const record of due) {
        const versions = await this.options.store.promotionVersions(record.promotionId);
        const previous = versions.filter((v) => v.version < record.version).at(-1);
        await this.publishVersion(
          record,
          publishTopics(record.target, previous?.target, record.promotionId, this.topic),
        );
      }
    } catch (error) {
      this.options.logger.warn('could not look for unpublished promotion versions', {
        hubId: this.options.hubId,
        error: errorMessage(error),
      });
    }
  }

  // ---- re-offer ---------------------------------------------------------------------------------

  /** The latest version of every promotion, read again only when a version was added (by any hub). */
  private async currentVersions(): Promise<Map<string, PromotionVersionRecord>> {
    const count = await this.options.store.promotionVersionCount();
    if (this.current?.count === count) return this.current.byId;
    const latest = await this.options.store.latestPromotionVersions();
    const byId = new Map(latest.map((v) => [v.promotionId, v]));
    this.current = { count, byId };
    return byId;
  }

  /**
   * A store's catalogue message: record its region, and publish on its own topics (QoS 1, not retained)
   * every version it lacks or holds older, and every one it holds that was since withdrawn or retargeted
   * away from it. Versions it says it refused, with the same digest, are not offered again: it would only
   * refuse them again, on every connection.
   */
  async onCatalogue(storeId: string, payload: Buffer): Promise<void> {
    const { logger, store, clock } = this.options;
    let message: CatalogueMessage;
    try {
      const parsed = catalogueMessageSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        this.options.metrics?.promotionCatalogues.inc({ outcome: 'ignored' });
        logger.warn('ignoring a catalogue message that is not one', {
          storeId,
          reason: `${issue.path.join('.') || '(root)'}: ${issue.message}`,
        });
        return;
      }
      message = parsed.data;
    } catch (error) {
      this.options.metrics?.promotionCatalogues.inc({ outcome: 'ignored' });
      logger.warn('ignoring a catalogue message that is not JSON', { storeId, error: errorMessage(error) });
      return;
    }
    if (message.storeId !== storeId) {
      logger.warn("ignoring a catalogue message published on another store's topic", {
        storeId,
        claimedStoreId: message.storeId,
      });
      this.options.metrics?.promotionCatalogues.inc({ outcome: 'ignored' });
      return;
    }
    const region = message.region ?? null;
    const now = clock.now();
    const last = this.recorded.get(storeId);
    if (!last || last.region !== region || now - last.at >= CATALOGUE_RECORD_EVERY_MS) {
      await store.recordStoreCatalogue(storeId, region, now);
      this.recorded.set(storeId, { region, at: now });
    }
    const current = await this.currentVersions();
    const identity = { storeId, ...(message.region === undefined ? {} : { region: message.region }) };
    const plan = promotionsToReoffer(message.statement, current.values(), identity);
    for (const anomaly of plan.anomalies) {
      logger.warn(
        anomaly.reason === 'store-ahead'
          ? 'a store holds a newer promotion version than head office: was the hub database restored from an older backup?'
          : 'a store holds a promotion head office does not know: was the hub database restored from an older backup?',
        { storeId, promotionId: anomaly.promotionId, stated: anomaly.stated, current: anomaly.current },
      );
    }
    if (plan.inSync) {
      this.options.metrics?.promotionCatalogues.inc({ outcome: 'in-sync' });
      logger.debug('store catalogue in sync', { storeId, count: message.statement.count });
      return;
    }
    // A short statement that disagrees: without its versions, offer everything live for the store;
    // what it holds already it takes as a redelivery.
    const offer = plan.needVersions
      ? [...current.values()].filter((v) => isLiveFor(v, identity)).map((v) => v.promotionId)
      : plan.offer.map((o) => o.promotionId);
    const refused = new Set(
      message.refused.map((r) => `${r.promotionId}\u0000${r.version}\u0000${r.digest}`),
    );
    let sent = 0;
    for (const promotionId of offer) {
      const version = current.get(promotionId);
      if (!version) continue;
      const fields = { storeId, promotionId, version: version.version };
      if (refused.has(`${promotionId}\u0000${version.version}\u0000${version.digest}`)) {
        logger.info('not re-offering a promotion version the store refused', fields);
        continue;
      }
      sent++;
      // Not awaited: this runs on the ingest path, where waiting for our own PUBACK could stall reading.
      this.options.publisher
        .publish(this.topic.promotionForStore(storeId, promotionId), version.signedText, { retain: false })
        .catch((error: unknown) =>
          logger.warn('re-offer not sent; the store states its catalogue again on its next connection', {
            ...fields,
            error: errorMessage(error),
          }),
        );
    }
    this.options.metrics?.promotionCatalogues.inc({ outcome: 're-offered' });
    this.options.metrics?.promotionReoffers.inc(sent);
    logger.info('re-offered promotion versions a store lacks', {
      storeId,
      offered: sent,
      stated: message.statement.count,
      ...(plan.needVersions ? { statement: 'short' } : {}),
    });
  }

  // ---- automatic activation --------------------------------------------------------------------

  /**
   * Stores applied versions of these promotions: check, one promotion at a time and off the ingest path,
   * whether a staged one is now held by enough of its stores to be activated.
   */
  onRolloutApplied(promotionIds: Iterable<string>): void {
    if (this.stopped) return;
    for (const id of promotionIds) this.checks.add(id);
    this.checking ??= this.runChecks().finally(() => {
      this.checking = undefined;
    });
  }

  /** Resolves once no activation check is queued or running. */
  async settled(): Promise<void> {
    while (this.checking) await this.checking;
  }

  private async runChecks(): Promise<void> {
    while (this.checks.size > 0 && !this.stopped) {
      const ids = [...this.checks];
      this.checks.clear();
      try {
        // Most applied versions are not staged with a share: one cheap look at the current versions
        // (re-read only when a version was added) rules them out without a query each.
        const current = await this.currentVersions();
        for (const promotionId of ids) {
          const latest = current.get(promotionId);
          if (latest?.state !== 'staged' || latest.activateWhenShare === null || this.stopped) continue;
          await this.checkActivation(promotionId).catch((error: unknown) =>
            this.options.logger.warn(
              'automatic activation check failed; the next rollout event checks again',
              {
                promotionId,
                error: errorMessage(error),
              },
            ),
          );
        }
      } catch (error) {
        this.options.logger.warn('automatic activation checks failed; the next rollout events check again', {
          promotions: ids.length,
          error: errorMessage(error),
        });
      }
    }
  }

  /**
   * Activates a staged version once its share is reached. Every hub may run this for the same promotion
   * at once: the activation is the same document whoever derives it, and the database takes one version
   * per (promotionId, version), so exactly one activation version exists and only its creator publishes it.
   */
  private async checkActivation(promotionId: string): Promise<void> {
    const { store, logger, hubId } = this.options;
    const versions = await store.promotionVersions(promotionId);
    const latest = versions.at(-1);
    if (!latest || latest.state !== 'staged' || latest.activateWhenShare === null) return;
    const [stores, rows] = await Promise.all([store.knownStores(), store.promotionRollout(promotionId)]);
    const { summary } = versionRollout(
      latest.target,
      stores,
      rows.filter((r) => r.version === latest.version),
    );
    if (!activationDue(latest, summary)) return;
    const signer = this.options.signer;
    if (!signer) {
      if (!this.warnedNoKey)
        logger.warn(
          'a staged promotion is due for activation but this hub cannot sign; a hub with the key will',
          {
            promotionId,
            hubId,
          },
        );
      this.warnedNoKey = true;
      return;
    }
    const next = nextVersionDocument('activate', latest, storedDocument(latest).document);
    const outcome = await this.createVersion(signer, next, {
      origin: 'auto-activate',
      createdBy:
        `automatic: ${summary.applied} of ${summary.targeted} targeted stores applied version ${latest.version} ` +
        `(threshold ${percent(latest.activateWhenShare)}) via ${hubId}`,
      activateWhenShare: null,
      previous: latest,
    }).catch((error: unknown) => {
      if (error instanceof ConflictError) {
        logger.info('staged promotion changed meanwhile; no automatic activation', {
          promotionId,
          reason: error.message,
        });
        return undefined;
      }
      throw error;
    });
    if (outcome?.created)
      logger.info('staged promotion activated automatically', {
        promotionId,
        version: outcome.version.version,
        applied: summary.applied,
        targeted: summary.targeted,
      });
  }

  // ---- rollout views ----------------------------------------------------------------------------

  /** `GET /v1/promotions`: each promotion's latest version and its rollout summary. */
  async list(): Promise<PromotionListEntry[]> {
    const { store } = this.options;
    const [latest, stores, rows] = await Promise.all([
      store.latestPromotionVersions(),
      store.knownStores(),
      store.latestPromotionRollout(),
    ]);
    const rowsOf = new Map<string, RolloutRecord[]>();
    for (const row of rows) rowsOf.set(row.promotionId, [...(rowsOf.get(row.promotionId) ?? []), row]);
    return latest.map((v) => {
      const { signedText: _text, ...fields } = v;
      return {
        promotionId: v.promotionId,
        name: v.name,
        latest: fields,
        rollout: versionRollout(v.target, stores, rowsOf.get(v.promotionId) ?? []).summary,
      };
    });
  }

  /** `GET /v1/promotions/{id}`: every version, newest first, with its targeted stores and what each did. */
  async detail(promotionId: string): Promise<PromotionDetail> {
    const { store } = this.options;
    const versions = await store.promotionVersions(promotionId);
    if (versions.length === 0) throw new NotFoundError(`no promotion ${promotionId} on this hub`);
    const [stores, rows] = await Promise.all([store.knownStores(), store.promotionRollout(promotionId)]);
    const known = new Set(versions.map((v) => v.version));
    const unknown = new Map<number, RolloutRecord[]>();
    for (const row of rows) {
      if (known.has(row.version)) continue;
      unknown.set(row.version, [...(unknown.get(row.version) ?? []), row]);
    }
    return {
      promotionId,
      name: versions.at(-1)!.name,
      versions: [...versions].reverse().map((v) => ({
        ...versionView(v),
        rollout: versionRollout(
          v.target,
          stores,
          rows.filter((r) => r.version === v.version),
        ),
      })),
      unknownVersions: [...unknown]
        .sort((a, b) => a[0] - b[0])
        .map(([version, storesOf]) => ({ version, stores: storesOf })),
    };
  }
}
