export { Outbox, type OutboxOptions } from './outbox.js';
export type { CaptureInput, CaptureResult } from './capture-append.js';
export type { DayCloseInput } from './day-close-append.js';
export type { TillDay } from './day-results.js';
export type { DeadLetterCommand, HandledCommand } from './command-answers.js';
export type { AppendedRecord, RecordAppender, StoreRecord, StoreRecordType } from './record-append.js';
export type { OutboxStats, AmountAtRisk, DeliveryFacts } from './outbox-stats.js';
export type { DeadLetterRow } from './dead-letters.js';
export type { TerminalActivity } from './terminal-activity.js';
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
export { DeliveryDatabase, inThreadDeliveryStore, type DeliveryStore } from './delivery-store.js';
export { DeliveryThread, type DeliveryTimings } from './delivery-thread.js';
export { WalCheckpointer } from './wal-checkpointer.js';
