export {
  Outbox,
  type CaptureInput,
  type CaptureResult,
  type OutboxStats,
  type AmountAtRisk,
  type UnsentEvent,
  type AckApplication,
  type DeadLetterRow,
} from './outbox.js';
export { createGroupCommit, type GroupCommit } from './group-commit.js';
export { DatabaseTooNewError } from '../lib/sqlite-migrations.js';
export {
  SyncEngine,
  DEFAULT_SYNC_TUNING,
  type SyncTuning,
  type SyncEngineOptions,
  type ConnectionState,
} from './sync-engine.js';
export { buildEventBatch, type BatchLimits, type BuiltBatch } from './batch-builder.js';
export { WalCheckpointer } from './wal-checkpointer.js';
