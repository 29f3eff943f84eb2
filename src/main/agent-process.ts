/**
 * The store agent inside the desktop app: this module runs in an Electron utility process that the main
 * process forks (see agent-host.ts and docs/desktop-app.md for why the agent does not share the main
 * process). It starts the agent from the agent config and answers the main process over `parentPort`.
 */
import path from 'node:path';
import { startAgent } from '../agent/agent.js';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { loadConfigFile } from '../lib/config-file.js';
import { errorMessage } from '../lib/errors.js';
import { closeLogger, createLogger, type Logger } from '../lib/logger.js';
import { AGENT_CONFIG_ARG, type AgentReport } from './agent-link-messages.js';
import { serveShellAgent } from './agent-service.js';

async function main(): Promise<void> {
  const port = process.parentPort;
  const post = (report: AgentReport) => port.postMessage(report);
  const at = process.argv.indexOf(AGENT_CONFIG_ARG);
  const configFile = at === -1 ? undefined : process.argv[at + 1];
  let logger: Logger | undefined;
  try {
    if (!configFile) throw new Error(`${AGENT_CONFIG_ARG} <agent.json> is required`);
    const config = loadConfigFile(agentConfigSchema, configFile);
    logger = createLogger({
      dir: path.join(config.dataDir, 'logs'),
      name: 'agent',
      level: config.log.level,
      console: config.log.console,
      retainDays: config.log.retainDays,
    });
    // The running agent is the shell's seam itself (ShellAgent): commits in flight, storage, the window.
    const running = await startAgent(config, { logger });
    const log = logger;
    const service = serveShellAgent({
      agent: running,
      post,
      onStopped: () => {
        service.close();
        void closeLogger(log).finally(() => process.exit(0));
      },
      onError: (message, error) => log.warn(message, { error: errorMessage(error) }),
    });
    port.on('message', (event) => service.handle(event.data));
    log.info('agent hosted by the desktop app', { storeId: config.storeId, url: running.url });
    post({ type: 'started' });
  } catch (error) {
    logger?.error('agent did not start', { error: errorMessage(error) });
    post({ type: 'start-failed', message: errorMessage(error) });
    if (logger) await closeLogger(logger);
    process.exit(1);
  }
}

void main();
