import { errorMessage, StorageUnavailableError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

export interface StorageHealthOptions {
  /** A tiny durable write that throws StorageUnavailableError while the outbox still cannot take writes. */
  probeWritable(): void;
  /**
   * Frees room on a full disk: acknowledged events are only kept for support, so when space runs out
   * new sales come first. Returns how many events were removed.
   */
  makeRoom(): number;
  logger: Logger;
  probeEveryMs?: number;
}

export type StorageState =
  | { state: 'available' }
  | { state: 'unavailable'; reason: StorageUnavailableError['reason']; message: string };

const PROBE_EVERY_MS = 2000;

/**
 * Whether the outbox takes writes. The first failed write makes it unavailable (tills get 503 with the
 * reason); from then on a probe runs every few seconds, making room first when the disk is full, so the
 * agent recovers by itself even when no till is submitting. Any successful write makes it available.
 */
export class StorageHealth {
  private current: StorageState = { state: 'available' };
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: StorageHealthOptions) {}

  get state(): StorageState {
    return this.current;
  }

  /** The reason tills are refused, for the status and /healthz; null while writes go through. */
  get unavailableMessage(): string | null {
    return this.current.state === 'unavailable' ? this.current.message : null;
  }

  /**
   * Runs a write to the outbox and records what it says about storage; its error is rethrown. Only a
   * write that stored something proves the disk takes writes again: a batch of exact re-submissions
   * (answered from what is stored) succeeds on a full disk too.
   */
  write<T>(fn: () => T, storedSomething: (result: T) => boolean = () => true): T {
    let result: T;
    try {
      result = fn();
    } catch (error) {
      if (error instanceof StorageUnavailableError) this.markUnavailable(error);
      throw error;
    }
    if (storedSomething(result)) this.markAvailable();
    return result;
  }

  markUnavailable(error: StorageUnavailableError): void {
    if (this.stopped) return;
    if (this.current.state === 'available')
      this.options.logger.error('capture unavailable', {
        reason: error.reason,
        error: errorMessage(error.cause ?? error),
      });
    this.current = { state: 'unavailable', reason: error.reason, message: error.message };
    this.probeTimer ??= setInterval(() => this.probe(), this.options.probeEveryMs ?? PROBE_EVERY_MS);
  }

  markAvailable(): void {
    if (this.current.state === 'unavailable') this.options.logger.info('capture available again');
    this.current = { state: 'available' };
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private probe(): void {
    if (this.current.state !== 'unavailable') return;
    if (this.current.reason === 'disk-full') {
      try {
        const removed = this.options.makeRoom();
        if (removed > 0)
          this.options.logger.warn('pruned acknowledged events early to make room', { removed });
      } catch {
        // the probe below says whether there is room now
      }
    }
    try {
      this.options.probeWritable();
    } catch (error) {
      // Still unavailable; the reason may have changed (a read-only disk that is now full).
      if (error instanceof StorageUnavailableError)
        this.current = { state: 'unavailable', reason: error.reason, message: error.message };
      return;
    }
    this.markAvailable();
  }
}
