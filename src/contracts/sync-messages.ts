import { z } from 'zod';
import { dayResultSchema } from './day-close.js';
import { identifier } from './transaction.js';
import { SYNC_LIMITS, SYNC_PROTOCOL_VERSION } from './sync-protocol.js';

/**
 * MQTT wire formats between store agents and hubs (docs/protocol.md). Version 1.
 * An event's body travels as a JSON string holding the transaction's text exactly as the POS submitted
 * it: decoding a JSON string gives back the very same characters, whereas a body carried as a nested JSON
 * value comes out of any JSON parser altered (big integers rounded, integer-like keys reordered). The hub
 * validates that text with transactionSchema, event by event, so one bad event never sinks its batch.
 */

// The protocol's version and limits live in a module without zod, for the agent's delivery thread.
export { SYNC_LIMITS, SYNC_PROTOCOL_VERSION } from './sync-protocol.js';

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

/**
 * Sent instead of an event's body when the store withholds it: the event fits no message the broker or
 * head office accepts. The hub keeps its seq as `rejected` with this reason (so the epoch has no gap and
 * can be complete), and the store dead-letters it on the answer; `terminalId` and `transactionId` say
 * which sale it is. Tiny, so it always fits.
 */
export const withheldEventSchema = z.strictObject({
  reason: z.string().max(1000),
  // Plain strings: a name the hub cannot use is left out of its row, and never refuses the whole batch.
  terminalId: z.string().max(128).optional(),
  transactionId: z.string().max(128).optional(),
});

export const syncEventSchema = z
  .strictObject({
    seq,
    eventId,
    type: z.enum(STORE_EVENT_TYPES),
    capturedAt: z.iso.datetime({ offset: true }),
    /** The transaction's JSON text exactly as the POS submitted it; validated separately so a bad one is rejected alone. */
    body: z.string().optional(),
    /** Instead of `body`, never with it: the store withheld the event (above). */
    withheld: withheldEventSchema.optional(),
  })
  .refine((event) => (event.body === undefined) !== (event.withheld === undefined), {
    error: 'an event carries either its body or a withheld marker, exactly one of them',
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

/**
 * `…/events`, kind 3: the store's answer to a hub's resend command (below). It re-published, as ordinary
 * events messages, every event of `epoch` from `fromSeq` it still retains; `availableFrom` is the first
 * seq it still had (acknowledged events are pruned after `outbox.ackedRetentionDays`), so the hub can
 * report seqs `fromSeq … availableFrom − 1` as unrecoverable. `availableFrom` above `through` means it had none.
 */
export const resendReportSchema = z.strictObject({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  storeId: identifier('storeId'),
  epoch: epochSchema,
  resend: z.strictObject({
    requestId: z.string().min(1).max(64),
    fromSeq: seq,
    availableFrom: seq,
    /** The last seq this database handed out in the epoch. */
    through: z.number().int().nonnegative(),
  }),
});

/** Everything an agent publishes on `…/events`; the kinds are told apart by `events`, `close` or `resend`. */
export const storeMessageSchema = z.union([eventBatchSchema, epochCloseSchema, resendReportSchema]);

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
  /**
   * Set once a writer has closed this epoch: the epoch that writer moved on to. A store still writing in
   * the epoch is another writer of it (a cloned PC) and must leave it too, or head office would show the
   * epoch closed while sales still arrive in it.
   */
  closedTowards: epochSchema.optional(),
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

/**
 * Head office's verdict on a till's business day (a `day-close` event compared with what the hub holds),
 * sent on the acks topic after the close is stored and again whenever a late event of that day changes it.
 * The latest one per terminal and day wins (`at`).
 */
export const dayAckSchema = z.strictObject({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  kind: z.literal('day'),
  day: dayResultSchema,
});

/** The answers to what a store published: a batch of events, or a part of an epoch close. */
export const ackSchema = z.discriminatedUnion('kind', [batchAckSchema, closeAckSchema]);

/** Everything a hub publishes on `…/acks`: the answers above, and verdicts on business days. */
export const acksTopicMessageSchema = z.discriminatedUnion('kind', [
  batchAckSchema,
  closeAckSchema,
  dayAckSchema,
]);

/**
 * `{prefix}/stores/{storeId}/commands`, hub → store; only hubs may publish there (docs/mosquitto-acl).
 * `resend`: the hub lost events it had acknowledged (its database was restored from a backup), or an
 * operator asked for a resync: the store publishes again what it still retains of `epoch` from `fromSeq`,
 * and answers with a resend report.
 * `retry-dead-letter` / `discard-dead-letter`: an operator at head office acts on a dead letter of the
 * store (an event head office refused), as the store manager's Retry and Discard do; the store answers in
 * its status (`commands`). A store handles a `requestId` once and repeats its answer if asked again.
 */
export const storeCommandSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    v: z.literal(SYNC_PROTOCOL_VERSION),
    kind: z.literal('resend'),
    requestId: z.string().min(1).max(64),
    epoch: epochSchema,
    fromSeq: seq,
    reason: z.string().max(1000),
  }),
  z.strictObject({
    v: z.literal(SYNC_PROTOCOL_VERSION),
    kind: z.literal('retry-dead-letter'),
    requestId: z.string().min(1).max(64),
    eventId,
    /** Who asked and why, for the store's log. */
    note: z.string().max(500).optional(),
  }),
  z.strictObject({
    v: z.literal(SYNC_PROTOCOL_VERSION),
    kind: z.literal('discard-dead-letter'),
    requestId: z.string().min(1).max(64),
    eventId,
    /** Kept with the discarded event, as a manager's discard note is. */
    note: z.string().min(3).max(500),
  }),
]);

/**
 * How a store handled a dead-letter command (in its status, newest first): `done` (retried: queued again
 * under a new seq; discarded: kept on record with the note) or `refused` (no such dead letter: already
 * retried, discarded or never dead), with the store's words. Not strict: a field a later agent adds must
 * not make a hub ignore the whole status.
 */
export const commandAnswerSchema = z.object({
  requestId: z.string().min(1).max(64),
  kind: z.enum(['retry-dead-letter', 'discard-dead-letter']),
  outcome: z.enum(['done', 'refused']),
  message: z.string().max(1000).optional(),
  at: z.iso.datetime({ offset: true }),
});

/** Retained on …/status; the broker publishes the last-will form when the agent vanishes. */
export const storeStatusSchema = z.object({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  state: z.enum(['online', 'offline']),
  at: z.iso.datetime({ offset: true }).optional(),
  epoch: epochSchema.optional(),
  backlog: z.number().int().nonnegative().optional(),
  /**
   * When the oldest event still unsent was captured (absent when nothing waits): head office alerts on
   * its age, which a backlog count alone cannot tell (ten sales from a minute ago vs. ten from last week).
   */
  oldestUnsentAt: z.iso.datetime({ offset: true }).optional(),
  /**
   * How far head office has acknowledged each epoch this database still has events of (newest first, at
   * most 10): a hub whose own records fall short (restored from a backup) asks for a resend.
   */
  acked: z
    .array(z.strictObject({ epoch: epochSchema, through: z.number().int().nonnegative() }))
    .max(10)
    .optional(),
  /**
   * Unsent sales, returns and voids per business day (oldest first, at most 31 days): head office's export
   * says whether a store-day may still be incomplete because the store holds events of it not yet sent.
   */
  unsentByDay: z
    .array(
      z.strictObject({
        businessDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        count: z.number().int().positive(),
      }),
    )
    .max(31)
    .optional(),
  /**
   * The store's answers to the latest dead-letter commands it handled (newest first, at most 20): head
   * office shows an operator's command as pending until a status lists its requestId.
   */
  commands: z.array(commandAnswerSchema).max(20).optional(),
  version: z.string().optional(),
});

export type SyncEvent = z.infer<typeof syncEventSchema>;
export type WithheldEvent = z.infer<typeof withheldEventSchema>;
export type EventBatch = z.infer<typeof eventBatchSchema>;
export type EpochMove = z.infer<typeof epochMoveSchema>;
export type EpochClose = z.infer<typeof epochCloseSchema>;
export type StoreMessage = z.infer<typeof storeMessageSchema>;
export type BatchAck = z.infer<typeof batchAckSchema>;
export type CloseAck = z.infer<typeof closeAckSchema>;
export type DayAck = z.infer<typeof dayAckSchema>;
export type ResendReport = z.infer<typeof resendReportSchema>;
export type StoreCommand = z.infer<typeof storeCommandSchema>;
export type CommandAnswer = z.infer<typeof commandAnswerSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type AcksTopicMessage = z.infer<typeof acksTopicMessageSchema>;
export type StoreStatusMessage = z.infer<typeof storeStatusSchema>;

/** Topic names in one place, for agent and hub alike. */
export const topics = (prefix: string) => ({
  events: (storeId: string) => `${prefix}/stores/${storeId}/events`,
  acks: (storeId: string) => `${prefix}/stores/${storeId}/acks`,
  commands: (storeId: string) => `${prefix}/stores/${storeId}/commands`,
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
