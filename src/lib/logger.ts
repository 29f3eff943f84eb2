import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** Directory for daily JSON-lines files; omitted, nothing is written to disk. */
  dir?: string;
  /** File name stem: `agent` gives agent-2026-11-23.log. */
  name: string;
  level: 'error' | 'warn' | 'info' | 'debug';
  console: boolean;
  retainDays?: number;
}

/**
 * One structured event per line (JSON), with eventId, storeId, seq and transactionId as fields where
 * they apply, so a support engineer can follow one sale from the till to head office with grep or jq.
 */
export function createLogger(options: LoggerOptions): Logger {
  const transports: winston.transport[] = [];
  if (options.dir) {
    transports.push(
      new DailyRotateFile({
        dirname: path.join(options.dir),
        filename: `${options.name}-%DATE%.log`,
        datePattern: 'YYYY-MM-DD',
        maxFiles: `${options.retainDays ?? 14}d`,
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
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

/** A logger that writes nothing: for tests and benchmarks. */
export function silentLogger(): Logger {
  return winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
}

/** Flushes file transports before the process exits, so the last lines of a shutdown are not lost. */
export async function closeLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 1000).unref();
  });
}
