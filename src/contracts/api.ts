import { z } from 'zod';

/** One problem with a request, pointing at the field that holds it (zod's path, unchanged). */
export const apiIssueSchema = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
});

/** Every 4xx/5xx body of the agent and hub APIs. */
export const apiErrorSchema = z.object({
  error: z.string(),
  issues: z.array(apiIssueSchema).optional(),
});

export const captureAcceptedSchema = z.object({
  eventId: z.string(),
  seq: z.number().int().positive(),
  duplicate: z.boolean().optional(),
});

export type ApiIssue = z.infer<typeof apiIssueSchema>;
export type ApiError = z.infer<typeof apiErrorSchema>;
export type CaptureAccepted = z.infer<typeof captureAcceptedSchema>;
