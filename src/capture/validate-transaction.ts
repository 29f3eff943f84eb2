import { transactionSchema, type Transaction } from '../contracts/transaction.js';
import { toApiIssues } from '../lib/api-issues.js';
import { ValidationError } from '../lib/errors.js';

/** Validates a parsed JSON body as a canonical transaction; every problem is reported with its path. */
export function validateTransaction(value: unknown): Transaction {
  const parsed = transactionSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = toApiIssues(parsed.error);
  const first = issues[0]!;
  const where = first.path.length ? `${first.path.join('.')}: ` : '';
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  throw new ValidationError(`invalid transaction: ${where}${first.message}${more}`, issues);
}
