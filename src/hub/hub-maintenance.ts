import type { Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { HubStore } from './hub-store.js';
import { PeriodicSweep } from './periodic-sweep.js';

export interface HubMaintenanceOptions {
  hubId: string;
  store: HubStore;
  /** hub.json `db.retentionMonths`; null keeps every event. */
  retentionMonths: number | null;
  logger: Logger;
  clock: Clock;
  /** How often a pass runs (the first at start). Hubs sharing a database take turns (an advisory lock). */
  everyMs?: number;
}

/** Hourly: a month's partition is made weeks before its first row, and retention is counted in months. */
const EVERY_MS = 60 * 60_000;

/**
 * Storage upkeep on a timer: the next months' partitions, and months past retention (hub-store.ts
 * `maintain`). A pass that fails is logged and tried again at the next one; ingest never waits for it.
 */
export class HubMaintenance {
  private readonly sweeper: PeriodicSweep;

  constructor(private readonly options: HubMaintenanceOptions) {
    this.sweeper = new PeriodicSweep(
      () => this.pass(),
      (error) =>
        options.logger.warn('storage upkeep failed; it is tried again at the next pass', {
          hubId: options.hubId,
          error: errorMessage(error),
        }),
    );
  }

  start(): void {
    void this.run();
    this.sweeper.start(this.options.everyMs ?? EVERY_MS);
  }

  stop(): Promise<void> {
    return this.sweeper.stop();
  }

  /** One pass now, unless one is running; resolves when it is over. */
  run(): Promise<void> {
    return this.sweeper.run();
  }

  private async pass(): Promise<void> {
    const { store, logger, hubId, retentionMonths } = this.options;
    const report = await store.maintain({ now: this.options.clock.now(), retentionMonths });
    for (const month of report.created)
      logger.info('made the partition of a month of events', { hubId, month });
    if (report.movedFromDefault > 0)
      logger.info('moved early events into their month', { hubId, rows: report.movedFromDefault });
    for (const month of report.dropped)
      logger.info('dropped a month of events past retention', { hubId, month, retentionMonths });
    for (const kept of report.kept)
      logger.warn('kept a month of events past retention: it is still needed', {
        hubId,
        month: kept.month,
        retentionMonths,
        reason: kept.reason,
      });
    for (const failed of report.failed)
      logger.warn('storage upkeep of a month failed; it is tried again at the next pass', {
        hubId,
        month: failed.month,
        error: failed.error,
      });
  }
}
