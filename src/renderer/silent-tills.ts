import type { TerminalSeen } from '../contracts/window-api.js';

/** A till with no sale for this long stands out, if the store is trading (another till sold recently). */
export const SILENT_AFTER_SECONDS = 20 * 60;
/** The store counts as trading when some till sold within this window. */
const TRADING_WITHIN_SECONDS = 10 * 60;

export interface TillRow extends TerminalSeen {
  /** Seconds since the last sale when the till is silent while others sell; null otherwise. */
  silentForSeconds: number | null;
}

/**
 * Marks the tills that fell silent: a till that stopped while its neighbours still sell is the one a
 * manager should walk over to (a frozen POS, a cable, a network port). When every till is quiet, the store
 * is simply quiet, and none is singled out. `now` is the agent's clock, not the viewer's.
 */
export function markSilentTills(terminals: readonly TerminalSeen[], now: string): TillRow[] {
  const nowMs = Date.parse(now);
  const ages = terminals.map((t) => Math.max(0, (nowMs - Date.parse(t.lastSaleAt)) / 1000));
  const trading = ages.some((age) => age <= TRADING_WITHIN_SECONDS);
  return terminals
    .map((terminal, i) => {
      const age = ages[i]!;
      return { ...terminal, silentForSeconds: trading && age >= SILENT_AFTER_SECONDS ? age : null };
    })
    .sort((a, b) => a.terminalId.localeCompare(b.terminalId, undefined, { numeric: true }));
}
