import { promotionDocumentSchema } from '../contracts/promotion.js';
import {
  promotionAppliedBodySchema,
  promotionRefusedBodySchema,
  type PromotionAppliedBody,
  type PromotionRefusedBody,
} from '../contracts/promotion-sync.js';
import { canonicalHash, textDigest } from '../lib/canonical-hash.js';
import type { ApplyDecision, RefuseDecision } from './catalogue-rules.js';
import type { StoreIdentity } from './targeting.js';

/**
 * What a store writes to its outbox about each promotion version it received (its proof of rollout to
 * head office), and what makes two refusals the same one. Pure: the agent's catalogue service stores
 * these in the transaction that applies (or refuses) the version.
 */

const iso = (ms: number) => new Date(ms).toISOString();

/** The `promotion-applied` record of an applied version. */
export function appliedRecord(decision: ApplyDecision, at: number): PromotionAppliedBody {
  return promotionAppliedBodySchema.parse({
    v: 1,
    type: 'promotion-applied',
    promotionId: decision.promotion.promotionId,
    version: decision.promotion.version,
    digest: decision.digest,
    keyId: decision.signed.signature.keyId,
    change: decision.change,
    ...(decision.previousVersion === undefined ? {} : { previousVersion: decision.previousVersion }),
    appliedAt: iso(at),
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The digest of the document a message carries (as `documentDigest` computes it for a valid one), read
 * before anything is verified: a refusal names the very document it refused, so head office can match it
 * with the version it pushed. Null when the message holds no document object.
 */
export function receivedDocumentDigest(received: unknown): string | null {
  if (!isObject(received) || !isObject(received.document)) return null;
  try {
    return canonicalHash(received.document);
  } catch {
    return null;
  }
}

const claimedId = promotionDocumentSchema.shape.promotionId;
const claimedVersion = promotionDocumentSchema.shape.version;

/** Reported only when they would pass head office's schema: a refusal must never itself be refused. */
const fit = <T>(schema: { safeParse(v: unknown): { success: boolean } }, value: T | undefined): T | null =>
  value !== undefined && schema.safeParse(value).success ? value : null;

/** The `promotion-refused` record of a refused message. */
export function refusedRecord(
  decision: RefuseDecision,
  digest: string | null,
  at: number,
): PromotionRefusedBody {
  return promotionRefusedBodySchema.parse({
    v: 1,
    type: 'promotion-refused',
    promotionId: fit(claimedId, decision.promotionId),
    version: fit(claimedVersion, decision.version),
    digest,
    keyId: decision.keyId ?? null,
    reason: decision.reason,
    message: decision.message.slice(0, 2000),
    refusedAt: iso(at),
  });
}

/**
 * What a refusal was judged under: the trusted keys and the store's identity. A refusal recorded under
 * other settings says nothing about these (a key added to promotions.trustedKeys since), so it is neither
 * "the same refusal" nor reported to hubs as a version not to offer again.
 */
export function trustSettingsKey(keyIds: readonly string[], store: StoreIdentity): string {
  return textDigest(JSON.stringify([[...keyIds].sort(), store.storeId, store.region ?? null])).slice(0, 22);
}

/**
 * Two refusals are the same one when they were judged under the same settings, for the same reason, of
 * the same version and document (or, with no document to name, of the same text): a retained message
 * refused again on every reconnection is recorded, logged and reported once.
 */
export function refusalKey(
  settingsKey: string,
  decision: Pick<RefuseDecision, 'reason' | 'promotionId' | 'version'>,
  digest: string | null,
  text: string,
): string {
  const what =
    digest === null
      ? ['text', textDigest(text)]
      : ['document', decision.promotionId ?? null, decision.version ?? null, digest];
  return textDigest(JSON.stringify([settingsKey, decision.reason, ...what]));
}
