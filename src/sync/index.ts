export { Outbox, type OutboxOptions } from './outbox.js';
export type { CaptureInput, CaptureResult } from './capture-append.js';
export type { OutboxStats, AmountAtRisk } from './outbox-stats.js';
export type { DeadLetterRow } from './dead-letters.js';
export type { BatchAckOutcome, CloseAckOutcome, NewEpoch } from './outbox-acks.js';
export { createGroupCommit, type GroupCommit } from './group-commit.js';
export { DatabaseTooNewError } from '../lib/sqlite-migrations.js';
export {
  SyncEngine,
  DEFAULT_SYNC_TUNING,
  type SyncTuning,
  type SyncEngineOptions,
  type ConnectionState,
} from './sync-engine.js';
export {
  buildEventBatch,
  buildEpochClose,
  type BatchLimits,
  type MessageLimits,
  type BuiltBatch,
  type TooLargeEvent,
  type UnsentEvent,
} from './batch-builder.js';
export { inThreadDeliveryStore, type DeliveryStore } from './delivery-store.js';
export { DeliveryThread, type DeliveryTimings } from './delivery-thread.js';
export { WalCheckpointer } from './wal-checkpointer.js';
