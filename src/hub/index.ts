export { startHub, type RunningHub, type HubDeps } from './hub.js';
export type { HubHealth } from './hub-api.js';
export { openHubStore } from './open-hub-store.js';
export type {
  ChainTillDay,
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
  ResendState,
  StoreDayRecord,
  StoredEvent,
  StoreSummary,
  TillDayRecord,
  TillDayState,
} from './hub-store.js';
export { chainDayView, knownStore, storeDayView, type StoreDayView, type TillDayView } from './day-views.js';
export type { ChainDaySummary } from './day-summary.js';
export { exportStoreDay, DayNotConfirmedError, type DayExport } from './day-export.js';
export { unconfirmedTills, type ExportManifest } from './export-manifest.js';
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
