import { writeFileSync } from 'node:fs';
import { hubConfigSchema } from '../contracts/hub-config.js';
import { loadConfigFile } from '../lib/config-file.js';
import { ConfigError } from '../lib/errors.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { exportLine, openHubStore, startHub } from '../hub/index.js';
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

export async function hubExportCommand(options: {
  config: string;
  store: string;
  day: string;
  out?: string;
}): Promise<void> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.day))
    throw new ConfigError(`--day must be a business day as YYYY-MM-DD, not ${options.day}`);
  const config = loadConfigFile(hubConfigSchema, options.config);
  const store = await openHubStore(config.db);
  try {
    const events = await store.exportDay(options.store, options.day);
    // One transaction per line, its text exactly as the POS submitted it (spliced in, never parsed and
    // serialised again), with its place in the store's sequence.
    const lines = events.map(exportLine);
    const text = lines.length ? `${lines.join('\n')}\n` : '';
    if (options.out) writeFileSync(options.out, text);
    else process.stdout.write(text);
    process.stderr.write(
      `outpost: exported ${events.length} transaction(s) of store ${options.store} for ${options.day}\n`,
    );
  } finally {
    await store.close();
  }
}
