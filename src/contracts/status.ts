import { z } from 'zod';

/** A problem the store manager should know about, in plain words, with what to do about it. */
export const problemSchema = z.object({
  code: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  message: z.string(),
  action: z.string(),
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
  promotions: z.object({ active: z.number().int() }),
  problems: z.array(problemSchema),
});

export type Problem = z.infer<typeof problemSchema>;
export type AgentStatus = z.infer<typeof agentStatusSchema>;
export type DeadLetter = z.infer<typeof deadLetterSchema>;
