import winston from 'winston';
import { LogFileTransport, type LogFileHealth } from './log-file-transport.js';

export type Logger = winston.Logger;
export type { LogFileHealth } from './log-file-transport.js';

export interface LoggerOptions {
  /** Directory for daily JSON-lines files; omitted, nothing is written to disk. */
  dir?: string;
  /** File name stem: `agent` gives agent-2026-11-23.log. */
  name: string;
  level: 'error' | 'warn' | 'info' | 'debug';
  console: boolean;
  retainDays?: number;
  /** How often unwritable log files are retried (tests shorten it). */
  fileProbeEveryMs?: number;
}

/**
 * One structured event per line (JSON), with eventId, storeId, seq and transactionId as fields where
 * they apply, so a support engineer can follow one sale from the till to head office with grep or jq.
 * File logging survives a full or read-only disk (see LogFileTransport): it pauses, and resumes by itself.
 */
export function createLogger(options: LoggerOptions): Logger {
  const transports: winston.transport[] = [];
  if (options.dir) {
    transports.push(
      new LogFileTransport({
        dir: options.dir,
        name: options.name,
        retainDays: options.retainDays ?? 14,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
        ...(options.fileProbeEveryMs ? { probeEveryMs: options.fileProbeEveryMs } : {}),
      }),
    );
  }
  if (options.console) {
    transports.push(
      new winston.transports.Console({
        // Console output goes to stderr so that commands printing results on stdout stay pipeable.
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...fields }) => {
            const rest = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${rest}`;
          }),
        ),
      }),
    );
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({ level: options.level, defaultMeta: { component: options.name }, transports });
}

/** Whether the logger's files can be written; undefined when it writes no files. */
export function logFileHealth(logger: Logger): LogFileHealth | undefined {
  const file = logger.transports.find((t): t is LogFileTransport => t instanceof LogFileTransport);
  return file?.health();
}

/** A logger that writes nothing: for tests and benchmarks. */
export function silentLogger(): Logger {
  return winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
}

const CLOSE_WAIT_MS = 3000;

/**
 * Ends the logger and waits until its files have what was logged (bounded), so the last lines of a
 * shutdown ("agent stopped") reach the disk before the process exits. The logger's own 'finish' comes
 * before its file transports have written anything, so each file transport is waited for.
 */
export async function closeLogger(logger: Logger): Promise<void> {
  const files = logger.transports.filter((t) => t instanceof LogFileTransport);
  const finished = [logger, ...files].map(
    (stream) =>
      new Promise<void>((resolve) => {
        if (stream.writableFinished) resolve();
        else stream.once('finish', () => resolve());
      }),
  );
  logger.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(finished),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}
