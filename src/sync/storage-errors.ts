import { StorageUnavailableError } from '../lib/errors.js';

interface SqliteLikeError {
  code?: unknown;
  message?: unknown;
}

/**
 * Conditions of the disk or file that clear by themselves or by an operator freeing space, as opposed to
 * bugs. They become StorageUnavailableError (HTTP 503, retry later); anything else is rethrown unchanged.
 */
export function asStorageUnavailable(error: unknown): StorageUnavailableError | undefined {
  if (error instanceof StorageUnavailableError) return error;
  const code =
    typeof (error as SqliteLikeError)?.code === 'string' ? ((error as SqliteLikeError).code as string) : '';
  const cause = { cause: error };
  if (code === 'SQLITE_FULL') {
    return new StorageUnavailableError(
      'the disk holding the outbox is full; free some space on it',
      'disk-full',
      cause,
    );
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StorageUnavailableError(
      'the outbox database is read-only; check the data directory permissions',
      'read-only',
      cause,
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StorageUnavailableError(
      'the outbox database is locked by another program; it will be retried',
      'locked',
      cause,
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return new StorageUnavailableError(
      'the disk holding the outbox reported an I/O error',
      'io-error',
      cause,
    );
  }
  if (code === 'ENOSPC') {
    return new StorageUnavailableError(
      'the disk holding the outbox is full; free some space on it',
      'disk-full',
      cause,
    );
  }
  if (
    error instanceof TypeError &&
    /database connection is not open/.test(String((error as SqliteLikeError).message))
  ) {
    return new StorageUnavailableError('the outbox is closed (the agent is shutting down)', 'closed', cause);
  }
  return undefined;
}

/** Runs `work`, turning disk conditions into StorageUnavailableError (above); anything else passes unchanged. */
export function withStorageErrors<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw asStorageUnavailable(error) ?? error;
  }
}
