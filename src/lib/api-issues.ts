import type { z } from 'zod';
import type { ApiIssue } from '../contracts/api.js';
import { ValidationError } from './errors.js';

/** zod issues as the APIs report them: the path unchanged (symbols, which JSON cannot carry, as strings). */
export function toApiIssues(error: z.ZodError): ApiIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    message: issue.message,
  }));
}

/**
 * `value` (a request's params, query or body) as `schema` reads it, or a ValidationError (400) naming
 * `what` and each field with what is wrong.
 */
export function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = toApiIssues(parsed.error);
  throw new ValidationError(
    `invalid ${what}: ${issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    issues,
  );
}
