export { startHub, type RunningHub, type HubDeps } from './hub.js';
export type { HubHealth } from './hub-api.js';
export { openHubStore } from './open-hub-store.js';
export type {
  CloseOutcome,
  EpochSummary,
  EventRecord,
  HubStore,
  IncomingEvent,
  InsertOutcome,
  KnownStore,
  PromotionVersionRecord,
  QuarantinedEvent,
  QuarantineRecord,
  RolloutFact,
  RolloutRecord,
  StoredEvent,
  StoreSummary,
} from './hub-store.js';
export { parseStoreMessage } from './parse-event-batch.js';
export { eventJson, exportLine, quarantineJson } from './served-json.js';
export {
  HubPromotions,
  type PromotionDetail,
  type PromotionListEntry,
  type PromotionPublisher,
  type PromotionVersionView,
  type PublishOutcome,
} from './hub-promotions.js';
export type { RolloutSummary, StoreRollout, VersionRollout } from './promotion-rollout.js';
