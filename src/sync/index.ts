export {
  Outbox,
  type CaptureInput,
  type CaptureResult,
  type OutboxStats,
  type AmountAtRisk,
} from './outbox.js';
export { createGroupCommit, type GroupCommit } from './group-commit.js';
export { DatabaseTooNewError } from './outbox-migrations.js';
