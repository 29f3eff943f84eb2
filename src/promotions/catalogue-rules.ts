import { z } from 'zod';
import type { ApiIssue } from '../contracts/api.js';
import {
  promotionDocumentSchema,
  promotionSignatureSchema,
  type CatalogueStatement,
  type PromotionDocument,
  type PromotionRefusalReason,
  type SignedPromotion,
} from '../contracts/promotion.js';
import { toApiIssues } from '../lib/api-issues.js';
import { canonicalHash } from '../lib/canonical-hash.js';
import { verifyPromotionSignature, type TrustedKeyring } from './signing.js';
import { targetsStore, type StoreIdentity } from './targeting.js';

/**
 * What a store does with a promotion version it receives, and what it states about its catalogue so a hub
 * can re-offer what is missing. Pure decisions over plain data: the agent's shell stores, logs and reports
 * the outcome; nothing here touches a database or the network.
 */

/** What a store holds of one promotion: its latest version, and the digest of that document. */
export interface HeldVersion {
  version: number;
  digest: string;
}

/** The digest that tells two documents of one version apart (SHA-256 of the canonical JSON). */
export function documentDigest(document: PromotionDocument): string {
  return canonicalHash(document);
}

export interface ReceivedPromotionContext {
  store: StoreIdentity;
  keyring: TrustedKeyring;
  /** The version the store holds of a promotion, if any (withdrawn and no-longer-targeted ones included). */
  held: (promotionId: string) => HeldVersion | undefined;
}

/**
 * new: first version held here; update: a later version of a held one (activation and changes);
 * withdrawal: a later version that withdraws it; no-longer-targeted: a later version that no longer targets
 * this store, taken so that the earlier one stops being in force here.
 */
export type CatalogueChange = 'new' | 'update' | 'withdrawal' | 'no-longer-targeted';

export interface ApplyDecision {
  outcome: 'apply';
  change: CatalogueChange;
  promotion: PromotionDocument;
  /** Exactly what to store (and what a later re-offer is compared against). */
  signed: SignedPromotion;
  digest: string;
  previousVersion?: number;
}

export interface RefuseDecision {
  outcome: 'refuse';
  reason: PromotionRefusalReason;
  /** Plain language with what to do, for the status window and head office. */
  message: string;
  /**
   * The same version arriving again (QoS 1 redelivery, a retained message, a re-offer) is normal: the
   * store answers it like any refusal but should not count or report it as a problem.
   */
  redelivery: boolean;
  /** Read from the document even when it is refused, so head office can tell which push it was. */
  promotionId?: string;
  version?: number;
  keyId?: string;
  issues?: ApiIssue[];
}

export type PromotionDecision = ApplyDecision | RefuseDecision;

const envelopeShape = z.strictObject({
  document: z.record(z.string(), z.unknown(), { error: 'the document must be a JSON object' }),
  signature: promotionSignatureSchema,
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Best-effort id and version of a document that may be refused, for attribution only. */
function claimedIdentity(received: unknown): { promotionId?: string; version?: number } {
  const document = isObject(received) && isObject(received.document) ? received.document : received;
  if (!isObject(document)) return {};
  const claimed: { promotionId?: string; version?: number } = {};
  if (typeof document.promotionId === 'string' && document.promotionId.length <= 128) {
    claimed.promotionId = document.promotionId;
  }
  if (typeof document.version === 'number' && Number.isSafeInteger(document.version)) {
    claimed.version = document.version;
  }
  return claimed;
}

function describe(claimed: { promotionId?: string; version?: number }): string {
  if (claimed.promotionId === undefined) return 'a promotion';
  return `promotion ${claimed.promotionId}${claimed.version === undefined ? '' : ` version ${claimed.version}`}`;
}

const firstIssue = (issues: ApiIssue[]): string => {
  const issue = issues[0];
  return issue === undefined ? '' : ` (${issue.path.join('.') || 'the message'}: ${issue.message})`;
};

/**
 * The store's decision on one received message. Checks run cheapest-to-trust first: the envelope's shape,
 * then the signature over the document exactly as received, and only then the document itself, so nothing
 * unauthenticated is ever interpreted. A refusal never changes the catalogue in force.
 */
export function decideReceivedPromotion(
  received: unknown,
  context: ReceivedPromotionContext,
): PromotionDecision {
  const claimed = claimedIdentity(received);
  const what = describe(claimed);
  const refuse = (
    reason: PromotionRefusalReason,
    message: string,
    extra: Partial<Pick<RefuseDecision, 'keyId' | 'issues'>> = {},
  ): RefuseDecision => ({
    outcome: 'refuse',
    reason,
    message,
    redelivery: reason === 'already-held',
    ...claimed,
    ...extra,
  });

  if (!isObject(received)) {
    return refuse('malformed', `${what} arrived as something other than a JSON object; nothing changed.`, {
      issues: [{ path: [], message: 'must be a JSON object' }],
    });
  }
  if (received.signature === undefined || received.signature === null) {
    return refuse(
      'unsigned',
      `${what} arrived without a signature; this store applies only what head office signed, so nothing changed. ` +
        'If it happens again, find out what else publishes on the promotions topics.',
    );
  }
  const envelope = envelopeShape.safeParse(received);
  if (!envelope.success) {
    const issues = toApiIssues(envelope.error);
    return refuse(
      'malformed',
      `${what} arrived in a malformed envelope${firstIssue(issues)}; nothing changed.`,
      {
        issues,
      },
    );
  }
  const { document, signature } = envelope.data;
  const check = verifyPromotionSignature(document, signature, context.keyring);
  if (check === 'unknown-key') {
    return refuse(
      'unknown-key',
      `${what} is signed with key ${signature.keyId}, which this store does not trust; nothing changed. ` +
        'If head office has rotated its signing key, add the new public key to promotions.trustedKeys.',
      { keyId: signature.keyId },
    );
  }
  if (check === 'bad-signature') {
    return refuse(
      'bad-signature',
      `${what} does not match its signature (key ${signature.keyId}): it was altered or forged; nothing changed. ` +
        'Tell head office IT.',
      { keyId: signature.keyId },
    );
  }
  const parsed = promotionDocumentSchema.safeParse(document);
  if (!parsed.success) {
    const issues = toApiIssues(parsed.error).map((issue) => ({
      ...issue,
      path: ['document', ...issue.path],
    }));
    return refuse(
      'malformed',
      `${what} is signed but is not a valid promotion document${firstIssue(issues)}; nothing changed. ` +
        'The hub may run a newer version than this store: update the store agent.',
      { keyId: signature.keyId, issues },
    );
  }
  const promotion = parsed.data;
  const digest = documentDigest(promotion);
  const held = context.held(promotion.promotionId);
  const keyId = { keyId: signature.keyId };

  if (held !== undefined && promotion.version < held.version) {
    return refuse(
      'stale-version',
      `${what} is older than version ${held.version} held here (a replay or a late delivery); nothing changed.`,
      keyId,
    );
  }
  if (held !== undefined && promotion.version === held.version) {
    return held.digest === digest
      ? refuse('already-held', `${what} is already held here; nothing changed.`, keyId)
      : refuse(
          'version-conflict',
          `${what} differs from the version ${held.version} held here: two different documents were signed under ` +
            'one version; nothing changed. Tell head office IT, and push a new version.',
          keyId,
        );
  }
  const targeted = targetsStore(promotion.target, context.store);
  if (!targeted && held === undefined) {
    const region = context.store.region === undefined ? '' : ` (region ${context.store.region})`;
    return refuse(
      'not-targeted',
      `${what} is not for store ${context.store.storeId}${region}; nothing changed.`,
      keyId,
    );
  }
  const signed: SignedPromotion = { document: promotion, signature };
  const change: CatalogueChange =
    held === undefined
      ? 'new'
      : !targeted
        ? 'no-longer-targeted'
        : promotion.state === 'withdrawn'
          ? 'withdrawal'
          : 'update';
  return {
    outcome: 'apply',
    change,
    promotion,
    signed,
    digest,
    ...(held === undefined ? {} : { previousVersion: held.version }),
  };
}

/** The part of a promotion that decides whether a store should hold it. */
export type PromotionHead = Pick<PromotionDocument, 'promotionId' | 'version' | 'state' | 'target'>;

/** Staged or active, and targeted at the store: what the store must hold, and what its statement covers. */
export function isLiveFor(promotion: PromotionHead, store: StoreIdentity): boolean {
  return promotion.state !== 'withdrawn' && targetsStore(promotion.target, store);
}

const byId = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Count and digest of (promotionId, version) pairs: equal on both sides exactly when they hold the same. */
export function catalogueDigest(entries: Iterable<readonly [string, number]>): {
  count: number;
  digest: string;
} {
  const pairs = [...entries].map(([id, version]): [string, number] => [id, version]).sort(byId);
  return { count: pairs.length, digest: canonicalHash(pairs) };
}

/**
 * What the store states to the hub: the promotions it holds that are live for it. With `versions: false`
 * it is the short form (count and digest, a few dozen bytes) fit for a retained status message.
 */
export function catalogueStatement(
  held: Iterable<PromotionHead>,
  store: StoreIdentity,
  options: { versions?: boolean } = {},
): CatalogueStatement {
  const live = new Map<string, number>();
  for (const promotion of held) {
    if (isLiveFor(promotion, store)) live.set(promotion.promotionId, promotion.version);
  }
  const summary = catalogueDigest(live);
  if (options.versions === false) return summary;
  const versions: Record<string, number> = {};
  for (const [id, version] of [...live].sort(byId)) versions[id] = version;
  return { ...summary, versions };
}

export interface CatalogueAnomaly {
  promotionId: string;
  stated: number;
  current?: number;
  /** unknown-to-hub: the hub has no such promotion; store-ahead: the store holds a version the hub has not. */
  reason: 'unknown-to-hub' | 'store-ahead';
}

export interface ReofferPlan {
  /** The store holds exactly what it should: nothing to send. */
  inSync: boolean;
  /** The short statement disagrees: ask the store for its versions (or offer everything live for it). */
  needVersions: boolean;
  /** The hub's current version of each promotion to send again, in promotionId order. */
  offer: { promotionId: string; version: number }[];
  /** What the hub cannot fix by sending: worth a log line (a hub database restored from an older backup). */
  anomalies: CatalogueAnomaly[];
}

/**
 * The hub's side: from a store's statement and the hub's current version of every promotion, the versions
 * to re-offer. A live promotion is offered when the store lacks it or holds an older version; a promotion
 * the store still states as live but that is now withdrawn or no longer targets it is offered too, so the
 * store takes it out of force.
 */
export function promotionsToReoffer(
  statement: CatalogueStatement,
  hubCurrent: Iterable<PromotionHead>,
  store: StoreIdentity,
): ReofferPlan {
  const current = new Map<string, PromotionHead>();
  for (const promotion of hubCurrent) current.set(promotion.promotionId, promotion);
  const expected = catalogueDigest(
    [...current.values()]
      .filter((p) => isLiveFor(p, store))
      .map((p): [string, number] => [p.promotionId, p.version]),
  );
  if (expected.digest === statement.digest && expected.count === statement.count) {
    return { inSync: true, needVersions: false, offer: [], anomalies: [] };
  }
  if (statement.versions === undefined) {
    return { inSync: false, needVersions: true, offer: [], anomalies: [] };
  }
  // A Map, not the object: a promotion id such as "constructor" must not find Object.prototype members.
  const stated = new Map(Object.entries(statement.versions));
  const offer = new Map<string, number>();
  const anomalies: CatalogueAnomaly[] = [];
  for (const promotion of current.values()) {
    if (!isLiveFor(promotion, store)) continue;
    const version = stated.get(promotion.promotionId);
    if (version === undefined || version < promotion.version)
      offer.set(promotion.promotionId, promotion.version);
  }
  for (const [promotionId, version] of stated) {
    const promotion = current.get(promotionId);
    if (promotion === undefined) {
      anomalies.push({ promotionId, stated: version, reason: 'unknown-to-hub' });
    } else if (version > promotion.version) {
      anomalies.push({ promotionId, stated: version, current: promotion.version, reason: 'store-ahead' });
    } else if (version < promotion.version && !isLiveFor(promotion, store)) {
      offer.set(promotionId, promotion.version);
    }
  }
  return {
    inSync: false,
    needVersions: false,
    offer: [...offer].sort(byId).map(([promotionId, version]) => ({ promotionId, version })),
    anomalies: anomalies.sort((a, b) => (a.promotionId < b.promotionId ? -1 : 1)),
  };
}
