import type { ApiIssue } from '../contracts/api.js';

/**
 * Typed errors crossing module boundaries. One place maps them to HTTP statuses
 * (lib/http-error-handler.ts) and one to CLI exit codes (cli/exit.ts).
 */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly issues: ApiIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * The request conflicts with what is already recorded (HTTP 409): the same idempotency key with a
 * different body (`existing` names the event held), or a version that is not above the latest one.
 */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    message: string,
    readonly existing?: { eventId: string; seq: number },
  ) {
    super(message);
  }
}

/** A request body over the configured limit (HTTP 413); the message states the limit. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    message: string,
    readonly limitBytes: number,
  ) {
    super(message);
  }
}

/** Storage cannot take writes right now (disk full, read-only, locked); the caller may retry later. */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  constructor(
    message: string,
    readonly reason: 'disk-full' | 'read-only' | 'locked' | 'io-error' | 'closed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Configuration or command-line input that cannot be used; the CLI exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Missing or unknown credentials (HTTP 401). */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/** Valid credentials that do not allow this request (HTTP 403). */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

/** The addressed thing does not exist (HTTP 404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** A feature this process was not configured for (HTTP 501); the message says how to configure it. */
export class NotConfiguredError extends Error {
  override readonly name = 'NotConfiguredError';
}
