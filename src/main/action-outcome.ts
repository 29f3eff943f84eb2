import type { DeadLetterActionOutcome } from '../contracts/window-api.js';
import {
  ConflictError,
  errorMessage,
  NotFoundError,
  StorageUnavailableError,
  ValidationError,
} from '../lib/errors.js';

/** The one place an agent error from a retry or discard becomes an answer the window can put into words. */
export function outcomeOfError(error: unknown): DeadLetterActionOutcome {
  const message = errorMessage(error);
  if (error instanceof NotFoundError) return { ok: false, refusal: 'not-found', message };
  if (error instanceof ConflictError) return { ok: false, refusal: 'not-dead', message };
  if (error instanceof ValidationError) return { ok: false, refusal: 'invalid', message };
  if (error instanceof StorageUnavailableError) return { ok: false, refusal: 'unavailable', message };
  return { ok: false, refusal: 'unavailable', message };
}
