import { writeFileSync } from 'node:fs';
import { hubConfigSchema } from '../contracts/hub-config.js';
import { businessDay as businessDaySchema } from '../contracts/transaction.js';
import { loadConfigFile } from '../lib/config-file.js';
import { ConfigError } from '../lib/errors.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { exportStoreDay, openHubStore, startHub, unconfirmedTills } from '../hub/index.js';
import { runUntilSignal } from './run-until-signal.js';

/**
 * Test seam for the crash tests: OUTPOST_HUB_FAULT=kill-after-commit:N kills this process with SIGKILL
 * right after its Nth committed batch, before the acknowledgement goes out.
 */
function faultFromEnv(value: string | undefined): (() => void) | undefined {
  if (!value) return undefined;
  const match = /^kill-after-commit:(\d+)$/.exec(value);
  if (!match) throw new ConfigError(`OUTPOST_HUB_FAULT must be kill-after-commit:N, not ${value}`);
  let remaining = Number(match[1]);
  return () => {
    if (--remaining <= 0) process.kill(process.pid, 'SIGKILL');
  };
}

export async function hubCommand(options: { config: string }): Promise<void> {
  const config = loadConfigFile(hubConfigSchema, options.config);
  const logger = createLogger({
    dir: config.logDir,
    name: 'hub',
    level: config.log.level,
    console: config.log.console || !config.logDir,
    retainDays: config.log.retainDays,
  });
  const afterCommit = faultFromEnv(process.env.OUTPOST_HUB_FAULT);
  const hub = await startHub(config, { logger, ...(afterCommit ? { afterCommit } : {}) });
  runUntilSignal(
    () => hub.stop(),
    () => closeLogger(logger),
  );
  // One machine-readable line on stdout, so supervisors and tests learn the bound address; written only
  // once a SIGTERM would already stop the process gracefully.
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: hub.url, hubId: config.hubId })}\n`);
}

/** Where the manifest of `--out FILE` goes: beside it, so the two travel together. */
export const manifestPathOf = (out: string) => `${out}.manifest.json`;

export async function hubExportCommand(options: {
  config: string;
  store: string;
  day: string;
  out?: string;
  requireConfirmed?: boolean;
}): Promise<void> {
  if (!businessDaySchema.safeParse(options.day).success)
    throw new ConfigError(`--day must be a business day as YYYY-MM-DD, not ${options.day}`);
  const config = loadConfigFile(hubConfigSchema, options.config);
  const store = await openHubStore(config.db);
  try {
    // One transaction per line, its text exactly as the POS submitted it (spliced in, never parsed and
    // serialised again), with its place in the store's sequence; and the manifest of what they prove.
    const { text, manifest } = await exportStoreDay(store, options.store, options.day, {
      now: Date.now(),
      requireConfirmed: options.requireConfirmed ?? false,
    });
    const manifestJson = JSON.stringify(manifest, null, 2);
    if (options.out) {
      writeFileSync(options.out, text);
      writeFileSync(manifestPathOf(options.out), `${manifestJson}\n`);
    } else {
      // On stdout the manifest follows the lines as one last line of its own, {"manifest": …}: the
      // output stays JSON Lines, and no transaction line has a `manifest` member.
      process.stdout.write(`${text}${JSON.stringify({ manifest })}\n`);
    }
    const state = manifest.reconciliation.state;
    const tills = unconfirmedTills(manifest);
    process.stderr.write(
      `outpost: exported ${manifest.lines.count} transaction(s) of store ${options.store} for ${options.day}; ` +
        `reconciliation: ${state === 'confirmed' ? `confirmed by all ${manifest.reconciliation.tills.length} till(s)` : `${state} (${tills.join('; ')})`}` +
        (manifest.unsentAtStore === null
          ? '; the store did not report its unsent transactions'
          : manifest.unsentAtStore > 0
            ? `; the store still held ${manifest.unsentAtStore} unsent transaction(s) of the day`
            : '') +
        (options.out ? `; manifest: ${manifestPathOf(options.out)}` : '') +
        '\n',
    );
  } finally {
    await store.close();
  }
}
