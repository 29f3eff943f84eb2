import { z } from 'zod';
import { identifier } from './transaction.js';

/**
 * MQTT wire formats between store agents and hubs (DESIGN.md, "MQTT topics"). Version 1.
 * The event body is the POS transaction exactly as captured; the hub validates it again with
 * transactionSchema, event by event, so one bad event never sinks its batch.
 */
export const SYNC_PROTOCOL_VERSION = 1;

/** Limits a hub enforces on what it accepts; an agent keeps its batches inside them. */
export const SYNC_LIMITS = {
  maxEventsPerBatch: 2000,
  maxBatchBytes: 4 * 1024 * 1024,
} as const;

export const epochSchema = z
  .string()
  .regex(/^[0-9a-f]{8,64}$/, { error: 'epoch must be 8–64 lower-case hex digits' });
const seq = z.number().int().positive();

export const syncEventSchema = z.strictObject({
  seq,
  eventId: z
    .string()
    .regex(/^[0-9A-Za-z_-]{10,64}$/, { error: 'eventId must be 10–64 letters, digits, _ or -' }),
  type: z.enum(['sale', 'return', 'void']),
  capturedAt: z.iso.datetime({ offset: true }),
  /** The captured transaction; validated separately so a bad one is rejected alone. */
  body: z.unknown(),
});

export const eventBatchSchema = z.strictObject({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  storeId: identifier('storeId'),
  epoch: epochSchema,
  events: z.array(syncEventSchema).min(1).max(SYNC_LIMITS.maxEventsPerBatch),
});

export const seqReasonSchema = z.object({ seq, reason: z.string() });

export const ackSchema = z.object({
  v: z.literal(SYNC_PROTOCOL_VERSION),
  epoch: epochSchema,
  /** Highest seq such that the hub durably holds every seq from 1 up to it. */
  ackedThrough: z.number().int().nonnegative(),
  /** Highest seq the hub holds in this epoch at all; above the agent's own last seq, the agent was restored from an old backup. */
  highestSeq: z.number().int().nonnegative(),
  /** Events the hub refused (invalid); held at the hub as rejected and dead-lettered at the agent. */
  rejected: z.array(seqReasonSchema).default([]),
  /** Seqs where the hub already holds a different event (a restored or cloned store database): not stored; the agent must re-send them under a new epoch. */
  conflicts: z.array(seqReasonSchema).default([]),
  /**
   * The batch this acknowledgement answers: its seq range and the eventId at its last seq. ackedThrough
   * says the hub holds those seqs, not that it holds this writer's events there; a second writer under
   * the same epoch (a cloned or restored store database) reads the same acks topic. So an agent applies
   * an acknowledgement only to a batch it sent itself, and only to the seqs the hub judged in it.
   * Absent from older hubs.
   */
  batch: z.object({ firstSeq: seq, lastSeq: seq, lastEventId: z.string() }).optional(),
});

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
export type Ack = z.infer<typeof ackSchema>;
export type AckInput = z.input<typeof ackSchema>;
export type StoreStatusMessage = z.infer<typeof storeStatusSchema>;

/** Topic names in one place, for agent and hub alike. */
export const topics = (prefix: string) => ({
  events: (storeId: string) => `${prefix}/stores/${storeId}/events`,
  acks: (storeId: string) => `${prefix}/stores/${storeId}/acks`,
  status: (storeId: string) => `${prefix}/stores/${storeId}/status`,
  promotionsForStore: (storeId: string) => `${prefix}/promotions/stores/${storeId}`,
  promotionsForRegion: (region: string) => `${prefix}/promotions/regions/${region}`,
  promotionsForAll: () => `${prefix}/promotions/all`,
  /** Hub-side wildcard subscriptions. */
  allEvents: () => `${prefix}/stores/+/events`,
  allStatus: () => `${prefix}/stores/+/status`,
  storeIdOf: (topic: string): string | undefined => {
    const rest = topic.startsWith(`${prefix}/stores/`) ? topic.slice(prefix.length + 8) : undefined;
    const storeId = rest?.split('/')[0];
    return storeId && storeId.length > 0 ? storeId : undefined;
  },
});
