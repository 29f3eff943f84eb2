/**
 * The pure core of promotions: signing and verification, the store's decision on a received version and
 * its catalogue statement, what is in force at an instant in the store's time zone, and basket pricing.
 * No I/O: the agent and the hub wrap these in their own storage and transport. The agent's wrapping is at
 * the end: its catalogue in the outbox database (catalogue-store.ts) and the service that applies received
 * versions and answers tills from memory (catalogue-service.ts).
 */
export {
  generateSigningKeyPair,
  createPromotionSigner,
  createTrustedKeyring,
  keyIdOf,
  parsePublicKey,
  signingPayload,
  verifyPromotionSignature,
  type PromotionSigner,
  type SignatureCheck,
  type SigningKeyPair,
  type TrustedKeyring,
} from './signing.js';
export {
  catalogueDigest,
  catalogueStatement,
  decideReceivedPromotion,
  documentDigest,
  isLiveFor,
  promotionsToReoffer,
  type ApplyDecision,
  type CatalogueAnomaly,
  type CatalogueChange,
  type HeldVersion,
  type PromotionDecision,
  type PromotionHead,
  type ReceivedPromotionContext,
  type RefuseDecision,
  type ReofferPlan,
} from './catalogue-rules.js';
export { targetsStore, type StoreIdentity } from './targeting.js';
export {
  createInForceEvaluator,
  promotionsInForce,
  type InForceAnswer,
  type InForceEntry,
  type InForceEvaluator,
  type Interval,
  type StoreContext,
} from './in-force.js';
export { createZoneClock, type ZoneClock } from './zone-clock.js';
export {
  createPricingIndex,
  type IndexedLine,
  type IndexedPromotion,
  type PricingIndex,
  type PromotionMatch,
} from './pricing-index.js';
export { priceBasket } from './pricing.js';
export { createBasketPricer, type BasketPricer } from './basket-pricer.js';
export { activePromotionsAnswer } from './active-answer.js';
export { refusalAdvice, type RefusalAdvice } from './refusal-advice.js';
export {
  appliedRecord,
  receivedDocumentDigest,
  refusalKey,
  refusedRecord,
  trustSettingsKey,
} from './rollout-records.js';
export {
  CatalogueOrderError,
  createCatalogueStore,
  type CatalogueStore,
  type CatalogueWrite,
  type OutboxWriter,
  type StoredPromotion,
  type StoredRefusal,
  type WriteOutcome,
} from './catalogue-store.js';
export { CatalogueAnswers } from './catalogue-answers.js';
export {
  decideVersions,
  MAX_MESSAGE_BYTES,
  type DecidedVersions,
  type DecisionContext,
  type HeldPromotion,
  type ReceivedMessage,
} from './received-versions.js';
export { CatalogueService, type CatalogueServiceOptions, type CatalogueTuning } from './catalogue-service.js';
