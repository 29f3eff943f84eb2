import { CommanderError } from 'commander';
import { ConfigError, errorMessage, NotFoundError } from '../lib/errors.js';
import { DatabaseTooNewError } from '../sync/index.js';

/** The one place errors become exit codes: 2 for bad flags or config, 1 for anything else. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return 2;
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof DatabaseTooNewError) return 2;
  // A command-line argument naming something that is not there (an unknown dead letter's eventId).
  if (error instanceof NotFoundError) return 2;
  return 1;
}

export function reportFatal(error: unknown): never {
  const code = exitCodeFor(error);
  if (!(error instanceof CommanderError)) process.stderr.write(`outpost: ${errorMessage(error)}\n`);
  process.exit(code);
}
