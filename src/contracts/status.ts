import { z } from 'zod';
import { dayDifferencesSchema, zTotalSchema } from './day-close.js';

/** A problem the store manager should know about, in plain words, with what to do about it. */
export const problemSchema = z.object({
  code: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string(),
  action: z.string(),
  /**
   * What fills the blanks of this code's words (a count, an instant as ISO-8601), where the problem can
   * be worded from its code alone: the status window then words it in its own language, and falls back
   * to `message` and `action` (English) for a code or a problem without them.
   */
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});

export const amountAtRiskSchema = z.object({ currency: z.string(), amount: z.number().int() });

export const deadLetterSchema = z.object({
  epoch: z.string(),
  seq: z.number().int(),
  eventId: z.string(),
  terminalId: z.string(),
  transactionId: z.string(),
  reason: z.string(),
  state: z.enum(['dead', 'discarded']),
  capturedAt: z.string(),
});

/**
 * The promotions part of the status: what is in force, what starts next, and the last version this store
 * refused with what to do about it. Fields beyond `active` are absent where the agent does not keep them.
 */
export const promotionsStatusSchema = z.object({
  /** Promotions in force now. */
  active: z.number().int(),
  /** Promotions this store holds, in any state (staged, active, withdrawn). */
  held: z.number().int().optional(),
  /** The store's IANA time zone, in which store-local promotion windows are read. */
  timeZone: z.string().optional(),
  /** Public keys in promotions.trustedKeys. */
  trustedKeys: z.number().int().optional(),
  /** The next promotion to start (the first of them when several start at once), or null. */
  next: z.object({ promotionId: z.string(), name: z.string(), startsAt: z.string() }).nullable().optional(),
  /** Versions refused since this store's database was created (the same refusal counts once). */
  refused: z.number().int().optional(),
  lastRefusal: z
    .object({
      at: z.string(),
      promotionId: z.string().nullable(),
      version: z.number().int().nullable(),
      reason: z.string(),
      /** What happened, in plain words. */
      message: z.string(),
      /** What the store manager should do. */
      advice: z.string(),
      /** warning: this store may be missing a promotion head office wants in force; info: nothing to do. */
      severity: z.enum(['info', 'warning']).optional(),
      /** This store has since taken that version of the promotion, or a later one: nothing left to do. */
      resolved: z.boolean().optional(),
    })
    .nullable()
    .optional(),
  /** Rollout reports (applied or refused versions) head office has not acknowledged yet. */
  unsentReports: z.number().int().optional(),
});

/**
 * The business days part of the status: each till's close of its day (its own Z-report) and head office's
 * verdict on it (docs/protocol.md, "Business days"), for the most recent days, newest first. `message` says
 * it in plain words for the store manager ("Tuesday 24 November: 1,234 sales, €45,678.90, confirmed by
 * head office at 02:10"; or which till is short, by how much, and which transactions are missing).
 * `awaiting`: closed here, not judged by head office yet (or closed again since its last verdict).
 */
export const DAY_STATUS_STATES = ['awaiting', 'confirmed', 'mismatch'] as const;

export const tillDayStatusSchema = z.object({
  terminalId: z.string(),
  state: z.enum(DAY_STATUS_STATES),
  /** When the till closed the day (the close in force: the latest); null when only a verdict is held. */
  closedAt: z.string().nullable(),
  zNumber: z.string().nullable(),
  /** The till's own Z totals (per type and currency: count and Σ totals.total, minor units). */
  totals: z.array(zTotalSchema),
  /** When head office judged it; null before its first verdict. */
  judgedAt: z.string().nullable(),
  /** What head office found different (mismatch); null otherwise. */
  differences: dayDifferencesSchema.nullable(),
  message: z.string(),
});

export const dayStatusSchema = z.object({
  businessDay: z.string(),
  /** mismatch if any till's is; awaiting if any till waits for its verdict; confirmed when every till is. */
  state: z.enum(DAY_STATUS_STATES),
  message: z.string(),
  tills: z.array(tillDayStatusSchema),
});

/** GET /v1/status on the agent: what the status window and store IT read. */
export const agentStatusSchema = z.object({
  storeId: z.string(),
  version: z.string(),
  now: z.string(),
  epoch: z.string(),
  capture: z.object({ state: z.enum(['ok', 'unavailable']), message: z.string().optional() }),
  connection: z.object({
    state: z.enum(['not-configured', 'connecting', 'online', 'offline']),
    since: z.string().nullable(),
    lastError: z.string().nullable(),
    /** False until the broker has accepted this agent once since it started. */
    everConnected: z.boolean(),
  }),
  /** The daily log files: `failing` while they cannot be written (lines are dropped; capture goes on). */
  logging: z.object({
    state: z.enum(['ok', 'failing', 'off']),
    dir: z.string().nullable(),
    since: z.string().nullable(),
    error: z.string().nullable(),
    droppedLines: z.number().int(),
  }),
  backlog: z.object({
    count: z.number().int(),
    oldestCapturedAt: z.string().nullable(),
    oldestAgeSeconds: z.number().nullable(),
    atRisk: z.array(amountAtRiskSchema),
  }),
  lastSeq: z.number().int(),
  lastAck: z.object({ seq: z.number().int(), at: z.string() }).nullable(),
  deadLetters: z.object({ count: z.number().int(), items: z.array(deadLetterSchema) }),
  promotions: promotionsStatusSchema,
  /** The tills' business days, most recent first (absent from agents that do not keep them). */
  days: z.array(dayStatusSchema).optional(),
  problems: z.array(problemSchema),
});

export type Problem = z.infer<typeof problemSchema>;
export type AgentStatus = z.infer<typeof agentStatusSchema>;
export type DeadLetter = z.infer<typeof deadLetterSchema>;
export type PromotionsStatus = z.infer<typeof promotionsStatusSchema>;
export type DayStatus = z.infer<typeof dayStatusSchema>;
export type TillDayStatus = z.infer<typeof tillDayStatusSchema>;
