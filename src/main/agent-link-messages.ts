import { z } from 'zod';
import { deadLetterActionOutcomeSchema, windowSnapshotSchema } from '../contracts/window-api.js';

/**
 * The messages between the main process and the agent's utility process. Both ends are ours, but a
 * message crosses a process boundary (and a crashing process can garble one): each is validated.
 */

/** The agent process's argument naming the agent config file. */
export const AGENT_CONFIG_ARG = '--agent-config';

export const agentRequestSchema = z.discriminatedUnion('method', [
  z.object({ id: z.number().int(), method: z.literal('readiness') }),
  z.object({ id: z.number().int(), method: z.literal('snapshot') }),
  z.object({ id: z.number().int(), method: z.literal('retry'), eventId: z.string() }),
  z.object({ id: z.number().int(), method: z.literal('discard'), eventId: z.string(), note: z.string() }),
  z.object({ id: z.number().int(), method: z.literal('stop') }),
]);

export const readinessSchema = z.object({
  commitsInFlight: z.number().int().nonnegative(),
  storageWritable: z.boolean(),
  unsentCount: z.number().int().nonnegative(),
});

export const stoppedSchema = z.object({
  unsentCount: z.number().int().nonnegative().nullable(),
  storageWritable: z.boolean().nullable(),
});

/** What each request answers, checked by the main process. */
export const ANSWER_SCHEMAS = {
  readiness: readinessSchema,
  snapshot: windowSnapshotSchema,
  retry: deadLetterActionOutcomeSchema,
  discard: deadLetterActionOutcomeSchema,
  stop: stoppedSchema,
} as const;

export const agentReportSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('start-failed'), message: z.string() }),
  z.object({ type: z.literal('snapshot'), snapshot: windowSnapshotSchema }),
  z.object({
    type: z.literal('answer'),
    id: z.number().int(),
    result: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), value: z.unknown() }),
      z.object({ ok: z.literal(false), message: z.string() }),
    ]),
  }),
]);

export type AgentRequest = z.infer<typeof agentRequestSchema>;
export type AgentMethod = AgentRequest['method'];
export type AgentReport = z.infer<typeof agentReportSchema>;
export type AnswerOf<M extends AgentMethod> = z.infer<(typeof ANSWER_SCHEMAS)[M]>;
