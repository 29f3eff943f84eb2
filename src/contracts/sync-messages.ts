import { z } from 'zod';
import { identifier } from './transaction.js';

/**
 * MQTT wire formats between store agents and hubs (docs/protocol.md). Version 1.
 * An event's body travels as a JSON string holding the transaction's text exactly as the POS submitted
 * it: decoding a JSON string gives back the very same characters, whereas a body carried as a nested JSON
 * value comes out of any JSON parser altered (big integers rounded, integer-like keys reordered). The hub
 * validates that text with transactionSchema, event by event, so one bad event never sinks its batch.
 */
export const SYNC_PROTOCOL_VERSION = 1;

/** Limits a hub enforces on what it accepts; an agent keeps its messages inside them. */
export const SYNC_LIMITS = {
  maxEventsPerBatch: 2000,
  maxBatchBytes: 4 * 1024 * 1024,
  /** Moves listed in one epoch-close message; a longer list travels in several parts. */
  maxMovesPerClose: 5000,
  /**
   * The largest POS body an agent accepts (api.bodyLimitBytes is capped here). Encoded as a JSON string a
   * body grows at most twofold (each `"`, `\` or whitespace escape is two characters; JSON text holds no
   * raw control characters), so one event of this size, with its envelope, always fits one message.
   */
  maxBodyBytes: 1024 * 1024,
} as const;

/**
 * What a store's outbox carries to head office: the POS's transactions, and the store's own records that
 * need the same exactly-once path (its proof of promotion rollout; a till's close of its business day).
 * The hub validates each body with the schema of its type.
 */
export const STORE_EVENT_TYPES = [
  'sale',
  'return',
  'void',
  'promotion-applied',
  'promotion-refused',
  'day-close',
] as const;
export type StoreEventType = (typeof STORE_EVENT_TYPES)[number];

export const epochSchema = z
  .string()
  .regex(/^[0-9a-f]{8,64}$/, { error: 'epoch must be 8–64 lower-case hex digits' });
const seq = z.number().int().positive();
const eventId = z
  .string()
  .regex(/^[0-9A-Za-z_-]{10,64}$/, { error: 'eventId must be 10–64 letters, digits, _ or -' });

export const syncEventSchema = z.strictObject({
  seq,
  eventId,
  type: z.enum(STORE_EVENT_TYPES),
  capturedAt: z.iso.datetime({ offset: true }),
  /** The transaction's JSON text exactly as the POS submitted it; validated separately so a bad one is rejected alone. */
  body: z.string(),
});

/** `…/events`, kind 1 of 2: captured events of one epoch, in seq order. */
export const eventBatchSchema = z.strictObject({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  storeId: identifier('storeId'),
  epoch: epochSchema,
  events: z.array(syncEventSchema).min(1).max(SYNC_LIMITS.maxEventsPerBatch),
});

/** One event of a closed epoch that now lives in the next epoch under another seq. */
export const epochMoveSchema = z.strictObject({ seq, eventId, toSeq: seq });

/**
 * `…/events`, kind 2 of 2: this writer will never publish under `epoch` again. The agent sends it when it
 * starts a new epoch (its database was restored or cloned): `lastSeq` is the highest seq it handed out in
 * the closed epoch, and `moved` lists, part by part, every event of it that was not yet acknowledged and
 * now travels under `nextEpoch` with a fresh seq. With it the hub can account for every seq of the closed
 * epoch: stored there, or moved (and where to).
 */
export const epochCloseSchema = z.strictObject({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  storeId: identifier('storeId'),
  epoch: epochSchema,
  close: z.strictObject({
    lastSeq: z.number().int().nonnegative(),
    nextEpoch: epochSchema,
    reason: z.string().max(1000),
    /** This part's moves, in seq order; parts are numbered from 1. A close without moves is one empty part. */
    part: z.number().int().positive(),
    parts: z.number().int().positive(),
    moved: z.array(epochMoveSchema).max(SYNC_LIMITS.maxMovesPerClose),
  }),
});

/** Everything an agent publishes on `…/events`; the two kinds are told apart by `events` vs `close`. */
export const storeMessageSchema = z.union([eventBatchSchema, epochCloseSchema]);

export const seqReasonSchema = z.object({ seq, reason: z.string() });

/** Fields every acknowledgement carries: the hub's view of the epoch after its commit. */
const ackBase = {
  v: z.literal(SYNC_PROTOCOL_VERSION),
  epoch: epochSchema,
  /** Highest seq such that the hub durably holds a row (stored, rejected, duplicate, quarantined or moved) for every seq from 1 up to it. */
  ackedThrough: z.number().int().nonnegative(),
  /** Highest seq the hub holds a row for in this epoch at all; above the agent's own last seq, the agent was restored from an old backup. */
  highestSeq: z.number().int().nonnegative(),
};

/**
 * The answer to one events message, sent only after the hub's commit. It names the batch it answers:
 * ackedThrough says the hub holds rows for those seqs, not that it holds this writer's events there; a
 * second writer under the same epoch (a cloned or restored store database) reads the same acks topic.
 * So an agent applies an acknowledgement only to a batch it sent itself (same range, same eventId at
 * its last seq), and only to the seqs of that batch.
 */
export const batchAckSchema = z.strictObject({
  ...ackBase,
  kind: z.literal('batch'),
  batch: z.strictObject({ firstSeq: seq, lastSeq: seq, lastEventId: eventId }),
  /** Events the hub refused (invalid); held at the hub as rejected and dead-lettered at the agent. */
  rejected: z.array(seqReasonSchema),
  /** Seqs where the hub already holds a different event (a restored or cloned store database): not stored; the agent must re-send them under a new epoch. */
  conflicts: z.array(seqReasonSchema),
});

/** The answer to one part of an epoch close, sent after the hub recorded it. `nextEpoch` tells its writer apart from another closing the same epoch. */
export const closeAckSchema = z.strictObject({
  ...ackBase,
  kind: z.literal('close'),
  close: z.strictObject({
    nextEpoch: epochSchema,
    part: z.number().int().positive(),
    parts: z.number().int().positive(),
  }),
});

export const ackSchema = z.discriminatedUnion('kind', [batchAckSchema, closeAckSchema]);

/** Retained on …/status; the broker publishes the last-will form when the agent vanishes. */
export const storeStatusSchema = z.object({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  state: z.enum(['online', 'offline']),
  at: z.iso.datetime({ offset: true }).optional(),
  epoch: epochSchema.optional(),
  backlog: z.number().int().nonnegative().optional(),
  version: z.string().optional(),
});

export type SyncEvent = z.infer<typeof syncEventSchema>;
export type EventBatch = z.infer<typeof eventBatchSchema>;
export type EpochMove = z.infer<typeof epochMoveSchema>;
export type EpochClose = z.infer<typeof epochCloseSchema>;
export type StoreMessage = z.infer<typeof storeMessageSchema>;
export type BatchAck = z.infer<typeof batchAckSchema>;
export type CloseAck = z.infer<typeof closeAckSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type StoreStatusMessage = z.infer<typeof storeStatusSchema>;

/** Topic names in one place, for agent and hub alike. */
export const topics = (prefix: string) => ({
  events: (storeId: string) => `${prefix}/stores/${storeId}/events`,
  acks: (storeId: string) => `${prefix}/stores/${storeId}/acks`,
  status: (storeId: string) => `${prefix}/stores/${storeId}/status`,
  /** Store → hubs (shared subscription): what promotions the store holds, on connect and after each change. */
  catalogue: (storeId: string) => `${prefix}/stores/${storeId}/catalogue`,
  /**
   * Hub → stores: one topic per promotion and audience, so a retained message per promotion can carry its
   * latest signed version (the fast path; the catalogue exchange is the path that does not need the broker).
   */
  promotionForStore: (storeId: string, promotionId: string) =>
    `${prefix}/promotions/stores/${storeId}/${promotionId}`,
  promotionForRegion: (region: string, promotionId: string) =>
    `${prefix}/promotions/regions/${region}/${promotionId}`,
  promotionForAll: (promotionId: string) => `${prefix}/promotions/all/${promotionId}`,
  /** What an agent subscribes to for its promotions. */
  promotionFilters: (storeId: string, region: string | undefined) => [
    `${prefix}/promotions/stores/${storeId}/+`,
    ...(region === undefined ? [] : [`${prefix}/promotions/regions/${region}/+`]),
    `${prefix}/promotions/all/+`,
  ],
  /** The audience a promotion topic names, or undefined for any other topic. */
  promotionAudienceOf: (
    topic: string,
  ): { kind: 'store' | 'region' | 'all'; name: string | null; promotionId: string } | undefined => {
    if (!topic.startsWith(`${prefix}/promotions/`)) return undefined;
    const parts = topic.slice(prefix.length + 12).split('/');
    if (parts[0] === 'all' && parts.length === 2 && parts[1])
      return { kind: 'all', name: null, promotionId: parts[1] };
    if ((parts[0] === 'stores' || parts[0] === 'regions') && parts.length === 3 && parts[1] && parts[2])
      return { kind: parts[0] === 'stores' ? 'store' : 'region', name: parts[1], promotionId: parts[2] };
    return undefined;
  },
  /** Hub-side wildcard subscriptions. */
  allEvents: () => `${prefix}/stores/+/events`,
  allStatus: () => `${prefix}/stores/+/status`,
  allCatalogues: () => `${prefix}/stores/+/catalogue`,
  storeIdOf: (topic: string): string | undefined => {
    const rest = topic.startsWith(`${prefix}/stores/`) ? topic.slice(prefix.length + 8) : undefined;
    const storeId = rest?.split('/')[0];
    return storeId && storeId.length > 0 ? storeId : undefined;
  },
});
