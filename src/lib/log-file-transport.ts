import { accessSync, constants, mkdirSync, statfsSync } from 'node:fs';
import type winston from 'winston';
import TransportStream from 'winston-transport';
import DailyRotateFile from 'winston-daily-rotate-file';
import { errorMessage } from './errors.js';

/** Whether the daily log files can be written; `failing` while lines are being dropped. */
export type LogFileHealth =
  | { state: 'ok'; dir: string }
  | {
      state: 'failing';
      dir: string;
      reason: 'disk-full' | 'not-writable' | 'io-error';
      /** The system's own words, e.g. "ENOSPC: no space left on device, write". */
      error: string;
      since: number;
      droppedLines: number;
    };

export interface LogFileOptions {
  dir: string;
  /** File name stem: `agent` gives agent-2026-11-23.log. */
  name: string;
  retainDays: number;
  format: winston.Logform.Format;
  /** How often a failing log directory is checked for room again. */
  probeEveryMs?: number;
  /** Free space the log directory needs before file logging resumes. */
  minFreeBytes?: number;
  now?: () => number;
  /** Where one line per failure and recovery goes, so a service's journal says why the files stop. */
  announce?: (line: string) => void;
}

const PROBE_EVERY_MS = 2000;
const MIN_FREE_BYTES = 256 * 1024;
const CLOSE_WAIT_MS = 2000;

function reasonOf(error: unknown): 'disk-full' | 'not-writable' | 'io-error' {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'disk-full';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return 'not-writable';
  return 'io-error';
}

/**
 * Daily JSON-lines files that can never stop the process. winston-daily-rotate-file has no error
 * handling of its own: a write that fails (ENOSPC on a full disk) is emitted as an 'error' nobody
 * listens to, and Node exits. Here every error of the file transport and of the streams under it is
 * caught; lines are dropped (and counted) while the files cannot be written, and a fresh file transport
 * is opened once the directory has room again. A failing log must never take down what it records.
 */
export class LogFileTransport extends TransportStream {
  private inner: DailyRotateFile | undefined;
  private failure: Extract<LogFileHealth, { state: 'failing' }> | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private readonly now: () => number;
  private readonly announce: (line: string) => void;

  constructor(private readonly options: LogFileOptions) {
    super({ format: options.format });
    this.now = options.now ?? Date.now;
    this.announce = options.announce ?? ((line) => process.stderr.write(`${line}\n`));
    this.open();
  }

  health(): LogFileHealth {
    return this.failure ? { ...this.failure } : { state: 'ok', dir: this.options.dir };
  }

  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    const inner = this.inner;
    if (!inner) {
      if (this.failure) this.failure.droppedLines += 1;
    } else {
      try {
        inner.log?.(info, () => {});
      } catch (error) {
        this.fail(error);
        if (this.failure) this.failure.droppedLines += 1;
      }
    }
    callback();
  }

  /** Writable's last step: stop probing and wait (bounded) until what was written reached the file. */
  override _final(callback: (error?: Error | null) => void): void {
    this.ending = true;
    clearInterval(this.probeTimer);
    const inner = this.inner;
    this.inner = undefined;
    if (!inner) {
      callback();
      return;
    }
    const timer = setTimeout(() => callback(), CLOSE_WAIT_MS);
    inner.once('finish', () => {
      clearTimeout(timer);
      callback();
    });
    try {
      inner.close?.();
    } catch {
      clearTimeout(timer);
      callback();
    }
  }

  override close(): void {
    // winston calls this when the transport is removed; ending runs _final.
    if (!this.ending && !this.writableEnded) this.end();
  }

  private open(): void {
    let inner: DailyRotateFile;
    try {
      inner = new DailyRotateFile({
        dirname: this.options.dir,
        filename: `${this.options.name}-%DATE%.log`,
        datePattern: 'YYYY-MM-DD',
        maxFiles: `${this.options.retainDays}d`,
      });
    } catch (error) {
      this.fail(error);
      return;
    }
    this.watch(inner);
    this.inner = inner;
  }

  /** Every error source of a file transport: the transport itself and the rotating stream under it. */
  private watch(inner: DailyRotateFile): void {
    const onError = (error: unknown) => {
      if (inner === this.inner) this.fail(error);
    };
    inner.on('error', onError);
    const stream = (inner as unknown as { logStream?: NodeJS.EventEmitter }).logStream;
    stream?.on('error', onError);
  }

  private fail(error: unknown): void {
    if (this.ending) return;
    const inner = this.inner;
    this.inner = undefined;
    // The failed transport keeps its error listeners (late errors of its stream land there, harmlessly).
    try {
      inner?.close?.();
    } catch {
      // already broken
    }
    if (this.failure) return;
    this.failure = {
      state: 'failing',
      dir: this.options.dir,
      reason: reasonOf(error),
      error: errorMessage(error),
      since: this.now(),
      droppedLines: 0,
    };
    this.announce(
      `outpost: cannot write log files in ${this.options.dir} (${this.failure.error}); ` +
        'log lines are dropped until they can be written again',
    );
    this.probeTimer = setInterval(() => this.probe(), this.options.probeEveryMs ?? PROBE_EVERY_MS);
    this.probeTimer.unref();
  }

  /** Resumes file logging once the directory is writable and has room again. */
  private probe(): void {
    const failure = this.failure;
    if (!failure || this.ending) return;
    try {
      // Someone may have removed the whole directory to make room.
      mkdirSync(this.options.dir, { recursive: true });
      accessSync(this.options.dir, constants.W_OK);
      const { bavail, bsize } = statfsSync(this.options.dir);
      if (bavail * bsize < (this.options.minFreeBytes ?? MIN_FREE_BYTES)) return;
    } catch {
      return;
    }
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.failure = undefined;
    this.open();
    if (!this.inner) return;
    this.announce(
      `outpost: log files in ${this.options.dir} can be written again (at least ${failure.droppedLines} line(s) were dropped)`,
    );
    const line = this.options.format.transform({
      level: 'warn',
      message: 'log file writable again; lines were dropped while it was not',
      component: this.options.name,
      // Lines already handed to the file when its write failed are lost too, uncounted.
      droppedLines: failure.droppedLines,
      failingSince: new Date(failure.since).toISOString(),
      error: failure.error,
      [Symbol.for('level')]: 'warn',
    }) as Record<string | symbol, unknown>;
    const message = Symbol.for('message');
    // The write that failed may have left half a line in the file: start this one on a line of its own.
    line[message] = `\n${String(line[message])}`;
    this.inner.log?.(line, () => {});
  }
}
