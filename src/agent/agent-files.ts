import { X509Certificate, createPrivateKey } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../contracts/agent-config.js';
import { ConfigError, errorMessage } from '../lib/errors.js';

/** How a message names a config field; the CLI adds where an environment variable set it. */
export type FieldName = (path: string) => string;

const plainName: FieldName = (field) => field;

/** errno codes in the words a technician reads. */
function whatIsWrong(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return "cannot be accessed by the agent's user (permission denied)";
    case 'EROFS':
      return 'is on a read-only file system';
    case 'ENOTDIR':
      return 'has a file where a directory should be in its path';
    case 'EISDIR':
      return 'is a directory, not a file';
    case 'ELOOP':
      return 'is a loop of symbolic links';
    case 'ENAMETOOLONG':
      return 'is too long a path';
    default:
      return `cannot be used (${errorMessage(error)})`;
  }
}

/** The data directory (and its logs directory) exists or can be created, and the agent can write in it. */
function checkWritableDirectory(field: string, dir: string, what: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return;
    throw new ConfigError(`${field}: ${dir} cannot be created: it ${whatIsWrong(error)}. ${what}`);
  }
  if (!statSync(dir).isDirectory())
    throw new ConfigError(`${field}: ${dir} is a file, not a directory. ${what}`);
  // access(W_OK) is not enough: it says yes to root on a read-only mount. Create a file and remove it.
  const probe = path.join(dir, `.outpost-write-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A full disk is no configuration mistake: the agent starts, answers 503 and recovers by itself.
    if (code === 'ENOSPC' || code === 'EDQUOT') return;
    throw new ConfigError(`${field}: cannot write in ${dir}: it ${whatIsWrong(error)}. ${what}`);
  }
}

function checkWritableFile(field: string, file: string, what: string): void {
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ConfigError(`${field}: ${file} ${whatIsWrong(error)}. ${what}`);
  }
  if (statSync(file).isDirectory())
    throw new ConfigError(`${field}: ${file} is a directory, not a file. ${what}`);
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** An existing outbox file must be an SQLite database: anything else is a wrong path or a damaged file. */
function checkOutboxFile(field: string, file: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return; // missing (created on start) or unreadable (reported by checkWritableFile)
  }
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, header, 0, header.length, 0);
    if (read === 0) return; // an empty file becomes a new database
    if (read < header.length || !header.equals(SQLITE_HEADER))
      throw new ConfigError(
        `${field}: ${file} is not an Outpost outbox (not an SQLite database). If dataDir is right, the file ` +
          'is damaged: move it aside (it may hold unsent sales) and call support; the agent then starts a new outbox.',
      );
  } finally {
    closeSync(fd);
  }
}

function readPem(field: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${field}: ${file} ${whatIsWrong(error)}`);
  }
}

function parseCertificate(field: string, file: string, pem: Buffer, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new ConfigError(`${field}: ${file} is not a PEM certificate (${what})`);
  }
}

/**
 * Every file and directory the agent config names, checked before anything is opened, so a mistake is one
 * message naming the field, the path and what is wrong (exit 2), never an errno trace from deep inside:
 * dataDir (created if missing, must be writable), its outbox and logs, and the broker's TLS files.
 */
export function checkAgentFiles(config: AgentConfig, fieldName: FieldName = plainName): void {
  const dataDir = fieldName('dataDir');
  const holds =
    'The agent keeps its outbox and logs there: give its user write access, or choose another dataDir.';
  checkWritableDirectory(dataDir, config.dataDir, holds);
  checkWritableFile(dataDir, path.join(config.dataDir, 'outbox.sqlite'), holds);
  checkOutboxFile(dataDir, path.join(config.dataDir, 'outbox.sqlite'));
  checkWritableDirectory(dataDir, path.join(config.dataDir, 'logs'), holds);

  const mqtt = config.mqtt;
  if (!mqtt) return;
  if (mqtt.ca) {
    const pem = readPem(fieldName('mqtt.ca'), mqtt.ca);
    parseCertificate(fieldName('mqtt.ca'), mqtt.ca, pem, "the CA that signed the broker's certificate");
  }
  if (Boolean(mqtt.cert) !== Boolean(mqtt.key)) {
    const missing = mqtt.cert ? 'mqtt.key' : 'mqtt.cert';
    throw new ConfigError(
      `${fieldName(missing)}: required with ${mqtt.cert ? 'mqtt.cert' : 'mqtt.key'} (a client certificate and its private key go together)`,
    );
  }
  if (mqtt.cert && mqtt.key) {
    const certField = fieldName('mqtt.cert');
    const keyField = fieldName('mqtt.key');
    const certificate = parseCertificate(
      certField,
      mqtt.cert,
      readPem(certField, mqtt.cert),
      "this store's client certificate",
    );
    const keyPem = readPem(keyField, mqtt.key);
    let key;
    try {
      key = createPrivateKey(keyPem);
    } catch {
      throw new ConfigError(`${keyField}: ${mqtt.key} is not an unencrypted PEM private key`);
    }
    if (!certificate.checkPrivateKey(key))
      throw new ConfigError(
        `${keyField}: ${mqtt.key} is not the private key of the certificate in ${mqtt.cert} (mqtt.cert)`,
      );
  }
}
