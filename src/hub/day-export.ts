import { createHash } from 'node:crypto';
import { knownStore, tillDayView } from './day-views.js';
import { storeDayState } from './day-summary.js';
import { buildExportManifest, unconfirmedTills, type ExportManifest } from './export-manifest.js';
import type { HubStore } from './hub-store.js';
import { exportLine } from './served-json.js';

/** `--require-confirmed` and a till of the day is not confirmed: nothing is written (exit 1). */
export class DayNotConfirmedError extends Error {
  override readonly name = 'DayNotConfirmedError';
}

export interface DayExport {
  /** JSON Lines, one stored transaction per line, each ending in a newline (empty for a day without any). */
  text: string;
  manifest: ExportManifest;
}

/**
 * One store's business day for the ERP: its stored transactions as JSON Lines (each text exactly as the
 * POS sent it) and the manifest of what they prove. An unknown store is a NotFoundError, never an empty file.
 */
export async function exportStoreDay(
  store: HubStore,
  storeId: string,
  businessDay: string,
  options: { now: number; requireConfirmed?: boolean },
): Promise<DayExport> {
  const summary = await knownStore(store, storeId);
  const [events, day] = await Promise.all([
    store.exportDay(storeId, businessDay),
    store.storeDay(storeId, businessDay),
  ]);
  const tills = day.tills.map(tillDayView);
  const reconciliation = { state: storeDayState(tills), tills };
  if (options.requireConfirmed && reconciliation.state !== 'confirmed') {
    throw new DayNotConfirmedError(
      `${businessDay} of store ${storeId} is not confirmed by every till, so nothing was exported: ${unconfirmedTills({ reconciliation }).join('; ')}`,
    );
  }
  const lines = events.map(exportLine);
  const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
  const manifest = buildExportManifest({
    storeId,
    businessDay,
    generatedAt: new Date(options.now).toISOString(),
    lines: events.map((e) => ({ epoch: e.epoch, seq: e.seq, bodyJson: e.bodyJson ?? 'null' })),
    linesSha256: createHash('sha256').update(text).digest('hex'),
    epochs: summary.epochs,
    reconciliation,
    unsentAtStore: summary.unsentByDay
      ? (summary.unsentByDay.find((d) => d.businessDay === businessDay)?.count ?? 0)
      : null,
  });
  return { text, manifest };
}
