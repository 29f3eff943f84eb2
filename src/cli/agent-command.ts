import path from 'node:path';
import { startAgent } from '../agent/agent.js';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { loadConfigFile } from '../lib/config-file.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { runUntilSignal } from './run-until-signal.js';

export async function agentCommand(options: { config: string }): Promise<void> {
  const config = loadConfigFile(agentConfigSchema, options.config);
  const logger = createLogger({
    dir: path.join(config.dataDir, 'logs'),
    name: 'agent',
    level: config.log.level,
    console: config.log.console,
    retainDays: config.log.retainDays,
  });
  const agent = await startAgent(config, { logger });
  runUntilSignal(
    () => agent.stop(),
    () => closeLogger(logger),
  );
  // One machine-readable line on stdout, so supervisors and tests learn the bound address; written only
  // once a SIGTERM would already stop the process gracefully.
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', url: agent.url, storeId: config.storeId })}\n`,
  );
}
