import {
  promotionDocumentSchema,
  signedPromotionSchema,
  type PromotionDocument,
  type SignedPromotion,
} from '../contracts/promotion.js';
import { toApiIssues } from '../lib/api-issues.js';
import { ConflictError, ValidationError } from '../lib/errors.js';
import type { PromotionVersionRecord } from './hub-store.js';

/**
 * What an operator may do to a promotion, decided on the latest version the hub holds. Every change is
 * a new, higher version (a store never takes an older or equal one): activation and withdrawal copy the
 * latest document under the next version with another state. Pure, so the rules are unit-tested.
 */

/** A pushed document, validated: zod's issues with their paths, unchanged, when it is not one. */
export function parsePushedDocument(body: unknown): PromotionDocument {
  const parsed = promotionDocumentSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = toApiIssues(parsed.error);
  throw new ValidationError(
    `not a valid promotion document: ${issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ')}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`,
    issues,
  );
}

/** The push option `activateWhenShare` is for staged pushes only: an active one is in force already. */
export function checkPush(
  document: PromotionDocument,
  latest: Pick<PromotionVersionRecord, 'version' | 'state'> | undefined,
  activateWhenShare: number | undefined,
): void {
  if (activateWhenShare !== undefined && document.state !== 'staged') {
    throw new ValidationError(
      `activateWhenShare applies to a staged push only, and this document's state is ${document.state}`,
      [{ path: ['state'], message: 'must be staged when activateWhenShare is given' }],
    );
  }
  if (latest !== undefined && document.version <= latest.version) {
    throw new ConflictError(
      `promotion ${document.promotionId} is at version ${latest.version} (${latest.state}): ` +
        `push it as version ${latest.version + 1} or higher, not ${document.version}`,
    );
  }
}

/** The document of a stored version (the hub's own signed text). */
export function storedDocument(record: Pick<PromotionVersionRecord, 'signedText'>): SignedPromotion {
  return signedPromotionSchema.parse(JSON.parse(record.signedText));
}

export type VersionChange = 'activate' | 'withdraw';

/**
 * The next version of a promotion for an activation or a withdrawal, or a conflict saying why not:
 * only a staged version can be activated, and a withdrawn promotion cannot be withdrawn again.
 */
export function nextVersionDocument(
  change: VersionChange,
  latest: Pick<PromotionVersionRecord, 'version' | 'state' | 'promotionId'>,
  document: PromotionDocument,
): PromotionDocument {
  if (change === 'activate' && latest.state !== 'staged') {
    throw new ConflictError(
      `promotion ${latest.promotionId} version ${latest.version} is ${latest.state}, not staged: ` +
        (latest.state === 'active' ? 'it is active already' : 'push a new version to bring it back'),
    );
  }
  if (change === 'withdraw' && latest.state === 'withdrawn') {
    throw new ConflictError(
      `promotion ${latest.promotionId} is withdrawn already (version ${latest.version})`,
    );
  }
  return {
    ...document,
    version: latest.version + 1,
    state: change === 'activate' ? 'active' : 'withdrawn',
  };
}
