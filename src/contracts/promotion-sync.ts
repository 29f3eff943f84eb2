import { z } from 'zod';
import { catalogueStatementSchema, keyIdSchema, promotionRefusalReasonSchema } from './promotion.js';
import { SYNC_PROTOCOL_VERSION } from './sync-messages.js';
import { identifier } from './transaction.js';

/**
 * How promotions travel between hubs and stores (docs/protocol.md, "Promotions"). The signed document
 * itself is `signedPromotionSchema` (src/contracts/promotion.ts); this file holds what goes around it.
 */

const instant = z.iso.datetime({ offset: true });
const version = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const promotionId = identifier('promotionId', 128);
/** documentDigest of the signed document: tells two documents under one version apart. */
const digest = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { error: 'must be a SHA-256 digest in base64url' });

/**
 * `{prefix}/stores/{storeId}/catalogue`, store → hubs (shared subscription: one hub answers). Sent on every
 * connection and after every catalogue change. The hub compares it with what the store should hold and
 * re-offers exactly what is missing on the store's own promotion topics, so a store that was offline, or
 * whose broker restarted without persistence, still gets every promotion.
 */
export const catalogueMessageSchema = z.strictObject({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  storeId: identifier('storeId'),
  region: identifier('region').optional(),
  at: instant,
  statement: catalogueStatementSchema,
  /** Versions this store refused (so a hub does not offer them again, and the operator sees why). */
  refused: z
    .array(z.strictObject({ promotionId, version, digest, reason: promotionRefusalReasonSchema }))
    .max(1000),
});
export type CatalogueMessage = z.infer<typeof catalogueMessageSchema>;

/**
 * The store's proof of rollout, written to the outbox in the same transaction as the catalogue change and
 * delivered to head office through the exactly-once events path (event types `promotion-applied` and
 * `promotion-refused`; the event's `body` is the JSON text of one of these).
 */
export const promotionAppliedBodySchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('promotion-applied'),
  promotionId,
  version,
  digest,
  keyId: keyIdSchema,
  change: z.enum(['new', 'update', 'withdrawal', 'no-longer-targeted']),
  previousVersion: version.optional(),
  appliedAt: instant,
});

export const promotionRefusedBodySchema = z.strictObject({
  v: z.literal(1),
  type: z.literal('promotion-refused'),
  /** Null when the document was too broken to name them. */
  promotionId: promotionId.nullable(),
  version: version.nullable(),
  digest: digest.nullable(),
  keyId: z.string().max(64).nullable(),
  reason: promotionRefusalReasonSchema,
  message: z.string().max(2000),
  refusedAt: instant,
});

export type PromotionAppliedBody = z.infer<typeof promotionAppliedBodySchema>;
export type PromotionRefusedBody = z.infer<typeof promotionRefusedBodySchema>;
