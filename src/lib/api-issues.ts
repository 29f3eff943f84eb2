import type { z } from 'zod';
import type { ApiIssue } from '../contracts/api.js';

/** zod issues as the APIs report them: the path unchanged (symbols, which JSON cannot carry, as strings). */
export function toApiIssues(error: z.ZodError): ApiIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
  }));
}
