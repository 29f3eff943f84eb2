import { statSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, errorMessage } from '../lib/errors.js';

/**
 * Database failures in words a technician can act on: at start-up, a ConfigError naming `db.url` and
 * what is wrong with it (the CLI exits 2 with that one line); while ingesting, which bound a commit hit.
 */

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The URL as it may be shown: any password replaced. */
export function redactDbUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
  }
}

const OS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'a file of that name is in the way',
  ENOENT: 'no such file or directory',
  ENOSPC: 'the disk is full',
  EISDIR: 'it is a directory',
};

const isDirectory = (file: string) => {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
};

function sqliteProblem(error: unknown, file: string): string | undefined {
  const code = codeOf(error);
  if (!code) return undefined;
  const os = OS_REASONS[code];
  if (os) {
    const at = (error as { path?: unknown }).path;
    const where = typeof at === 'string' ? at : path.dirname(file);
    return `cannot create the directory ${where} for the hub database: ${os} (${code}); use a path the hub's user can write`;
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    if (isDirectory(file))
      return `${file} is a directory: name a file in it, e.g. ${path.join(file, 'hub.sqlite')}`;
    return `cannot create or open ${file} (its folder is not writable, or the file cannot be opened for writing); use a path the hub's user can write`;
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM'))
    return `${file} (or its folder) is read-only for the hub (${code}); the hub must be able to write the file, its -wal and -shm files`;
  if (code === 'SQLITE_NOTADB')
    return `${file} is not a SQLite database; point db.url at the hub's own database file`;
  if (code.startsWith('SQLITE_CORRUPT')) return `${file} is damaged (${code}); restore it from a backup`;
  if (code.startsWith('SQLITE_BUSY'))
    return `${file} stays locked by another process beyond db.busyTimeoutMs; stop the other process or raise the bound`;
  if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_FULL')
    return `cannot write ${file}: ${errorMessage(error)} (${code}); check the disk`;
  return undefined;
}

function postgresProblem(error: unknown, url: string): string | undefined {
  const code = codeOf(error);
  const message = errorMessage(error);
  let host = '';
  let user = '';
  let database = '';
  try {
    const parsed = new URL(url);
    host = `${parsed.hostname}:${parsed.port || '5432'}`;
    user = decodeURIComponent(parsed.username) || '(the default user)';
    database = decodeURIComponent(parsed.pathname.slice(1)) || user;
  } catch {
    // An unparsable URL still gets the server's own words below.
  }
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing accepts connections at ${host} (connection refused): check the host and port, and that PostgreSQL is running and listening there`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host in it cannot be resolved (${message}): check the host name`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} cannot be reached (${code}): check the host, port and firewall`;
    case '28P01':
      return `PostgreSQL refused the password of user ${user}: fix the user or password in db.url`;
    case '28000':
      return `PostgreSQL refused user ${user} (${message}): fix the user in db.url, or allow it in pg_hba.conf`;
    case '3D000':
      return `database "${database}" does not exist on ${host}: create it (createdb ${database}) or fix its name in db.url`;
    case '42501':
      return `user ${user} may not create or change the hub's tables in database "${database}" (${message}): make it the database owner or grant it CREATE`;
    case '53300':
      return `PostgreSQL at ${host} has no connection slot left (${message}): raise max_connections or lower db.poolSize across the hubs`;
    default:
      break;
  }
  if (/timeout exceeded when trying to connect|connection timeout/i.test(message))
    return `no connection to ${host} within db.connectTimeoutMs: check the host, port and firewall`;
  if (/SSL|certificate|self.signed/i.test(message))
    return `the TLS connection to ${host} failed (${message}): check sslmode and the certificates in db.url`;
  if (/Connection terminated unexpectedly/i.test(message))
    return `${host} closed the connection at once (${message}): check that it is a PostgreSQL server and that pg_hba.conf admits this host`;
  return undefined;
}

/**
 * The error to report when the hub database cannot be opened: a ConfigError naming `db.url` (password
 * hidden) and what to do, for every cause a technician can fix in the config or on the server; anything
 * else (e.g. a database newer than this Outpost) is passed on as it is.
 */
export function describeOpenFailure(error: unknown, url: string): unknown {
  if (error instanceof ConfigError) return error;
  const problem = url.startsWith('sqlite:')
    ? sqliteProblem(error, url.slice('sqlite:'.length))
    : postgresProblem(error, url);
  return problem ? new ConfigError(`db.url ${redactDbUrl(url)}: ${problem}`, { cause: error }) : error;
}

/** Which bound a failed commit hit (or the database's own words), for logs and /healthz. */
export function describeCommitFailure(error: unknown): string {
  const code = codeOf(error);
  const message = errorMessage(error);
  if (code === '55P03') return `waited longer than db.lockTimeoutMs for a lock (${message})`;
  if (code === '57014') return `a statement ran longer than db.statementTimeoutMs (${message})`;
  if (code === '25P03') return `the session sat idle in its transaction too long (${message})`;
  if (message === 'Query read timeout')
    return 'PostgreSQL did not answer within db.statementTimeoutMs (and the client gave up)';
  if (/timeout exceeded when trying to connect/i.test(message))
    return 'no database connection within db.connectTimeoutMs (the pool is busy or PostgreSQL does not answer)';
  if (code?.startsWith('SQLITE_BUSY'))
    return `the database file stayed locked by another process beyond db.busyTimeoutMs (${message})`;
  return code ? `${message} (${code})` : message;
}
