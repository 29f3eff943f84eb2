/**
 * The sync protocol's version and the limits a hub enforces (docs/protocol.md), apart from the zod
 * schemas of sync-messages.ts (which re-exports them): the agent's delivery thread builds messages with
 * these and nothing else from the contracts, and a thread that loaded zod held about 8 MB more for the
 * agent's lifetime (`npm run bench:memory`).
 */
export const SYNC_PROTOCOL_VERSION = 1;

/** Limits a hub enforces on what it accepts; an agent keeps its messages inside them. */
export const SYNC_LIMITS = {
  maxEventsPerBatch: 2000,
  maxBatchBytes: 4 * 1024 * 1024,
  /** Moves listed in one epoch-close message; a longer list travels in several parts. */
  maxMovesPerClose: 5000,
  /**
   * Messages of one store a hub holds waiting for their commit (the one committing included); beyond
   * that it drops them, and the store publishes them again after its ack timeout. An agent keeps at most
   * this many batches and close parts unacknowledged (`sync.maxInFlightBatches` is capped here).
   */
  maxInFlightPerStore: 16,
  /**
   * The largest POS body an agent accepts (api.bodyLimitBytes is capped here). Encoded as a JSON string a
   * body grows at most twofold (each `"`, `\` or whitespace escape is two characters; JSON text holds no
   * raw control characters), so one event of this size, with its envelope, always fits one message.
   */
  maxBodyBytes: 1024 * 1024,
} as const;
