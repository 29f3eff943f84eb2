import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent } from '../agent/agent.js';
import { startEmbeddedBroker } from '../broker/index.js';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { hubConfigSchema } from '../contracts/hub-config.js';
import { startHub } from '../hub/index.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { runSimulation } from '../simulate/index.js';
import { runUntilSignal } from './run-until-signal.js';

/**
 * Everything on one machine, on free ports: embedded broker, a hub (SQLite), one store agent and
 * simulated tills selling until Ctrl-C. Data lives in a fresh directory that is printed, so it can be
 * inspected afterwards (outpost hub export, sqlite3).
 */
export async function demoCommand(options: { dir?: string; rate: number; terminals: number }): Promise<void> {
  const dir = options.dir ?? path.join(os.tmpdir(), `outpost-demo-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const logger = createLogger({ dir: path.join(dir, 'logs'), name: 'demo', level: 'info', console: false });
  const token = () => randomBytes(16).toString('hex');
  const terminals = Array.from({ length: options.terminals }, (_, i) => ({
    id: `T${i + 1}`,
    token: token(),
  }));
  const hubToken = token();

  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, logger });
  const hub = await startHub(
    hubConfigSchema.parse({
      hubId: 'demo-hub',
      db: { url: `sqlite:${path.join(dir, 'hub', 'hub.sqlite')}` },
      mqtt: { url: broker.url, shareGroup: false },
      api: { host: '127.0.0.1', port: 0, token: hubToken },
    }),
    { logger },
  );
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'STORE-001',
      region: 'north',
      dataDir: path.join(dir, 'store-001'),
      api: { host: '127.0.0.1', port: 0, terminals },
      mqtt: { url: broker.url },
    }),
    { logger },
  );

  const stopSelling = new AbortController();
  const sims = runSimulation({
    agentUrl: agent.url,
    terminals,
    ratePerSecond: options.rate,
    durationSeconds: 24 * 60 * 60,
    signal: stopSelling.signal,
  });

  const lines = [
    '',
    'Outpost demo is running.',
    `  Store status:      ${agent.url}/v1/status`,
    `  Store health:      ${agent.url}/healthz`,
    `  Hub stores:        curl -H 'Authorization: Bearer ${hubToken}' ${hub.url}/v1/stores`,
    `  Hub transactions:  curl -H 'Authorization: Bearer ${hubToken}' '${hub.url}/v1/stores/STORE-001/transactions?limit=5'`,
    `  Hub metrics:       curl -H 'Authorization: Bearer ${hubToken}' ${hub.url}/metrics`,
    `  Broker:            ${broker.url}`,
    `  Till token (T1):   ${terminals[0]!.token}`,
    `  Data and logs:     ${dir}`,
    `Simulated tills sell ${options.rate} transactions/s on ${options.terminals} terminals. Ctrl-C stops everything.`,
    '',
  ];
  process.stdout.write(lines.join('\n'));

  runUntilSignal(
    async () => {
      stopSelling.abort();
      const summary = await sims.catch(() => undefined);
      await agent.stop();
      await hub.stop();
      await broker.stop();
      if (summary)
        process.stdout.write(
          `Sold ${summary.created} transactions (${summary.duplicates} deliberate retries answered as duplicates).\n`,
        );
    },
    () => closeLogger(logger),
  );
}
