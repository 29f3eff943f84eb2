import path from 'node:path';
import { checkAgentFiles } from '../agent/agent-files.js';
import { startAgent } from '../agent/agent.js';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { loadConfigWithSources } from '../lib/config-file.js';
import { errorMessage } from '../lib/errors.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { applyAgentRuntimeSettings } from './agent-runtime.js';
import { runUntilSignal } from './run-until-signal.js';

export async function agentCommand(options: { config: string }): Promise<void> {
  // bin/outpost.js has applied them already; here for `node dist/cli/main.js agent` (idempotent).
  applyAgentRuntimeSettings();
  const { config, fieldName } = loadConfigWithSources(agentConfigSchema, options.config);
  // Before the logger opens its files there: a wrong dataDir is one message naming it, not an errno.
  checkAgentFiles(config, fieldName);
  const logger = createLogger({
    dir: path.join(config.dataDir, 'logs'),
    name: 'agent',
    level: config.log.level,
    console: config.log.console,
    retainDays: config.log.retainDays,
  });
  let agent;
  try {
    agent = await startAgent(config, { logger, fieldName });
  } catch (error) {
    // A service restarting in a loop must leave a reason in its log, not only on a console nobody reads.
    logger.error('agent did not start', { storeId: config.storeId, error: errorMessage(error) });
    await closeLogger(logger);
    throw error;
  }
  const running = agent;
  runUntilSignal(
    () => running.stop(),
    () => closeLogger(logger),
  );
  // One machine-readable line on stdout, so supervisors and tests learn the bound address; written only
  // once a SIGTERM would already stop the process gracefully.
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', url: agent.url, storeId: config.storeId })}\n`,
  );
}
