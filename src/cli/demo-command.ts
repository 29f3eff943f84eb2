import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import os from 'node:os';
import path from 'node:path';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { startEmbeddedBroker } from '../broker/index.js';
import { agentConfigSchema } from '../contracts/agent-config.js';
import { hubConfigSchema } from '../contracts/hub-config.js';
import { startHub } from '../hub/index.js';
import { errorMessage } from '../lib/errors.js';
import { closeLogger, createLogger } from '../lib/logger.js';
import { generateSigningKeyPair } from '../promotions/index.js';
import { dairyWeek, pastaThreeForTwo, runSimulation } from '../simulate/index.js';
import { runUntilSignal } from './run-until-signal.js';

/**
 * Everything on one machine, on free ports: embedded broker, a hub (SQLite), one store agent and
 * simulated tills selling until Ctrl-C. Data lives in a fresh directory that is printed, so it can be
 * inspected afterwards (outpost hub export, sqlite3).
 *
 * Each part logs to its own files, as it would on its own machine: the store's status window shows the
 * agent's warnings, so a hub's or a broker's must never reach it.
 */
export async function demoCommand(options: { dir?: string; rate: number; terminals: number }): Promise<void> {
  const dir = options.dir ?? path.join(os.tmpdir(), `outpost-demo-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const storeDir = path.join(dir, 'store-001');
  const logsOf = (part: string) => path.join(dir, part, 'logs');
  const loggerOf = (part: string, name: string) =>
    createLogger({ dir: logsOf(part), name, level: 'info', console: false });
  const brokerLogger = loggerOf('broker', 'broker');
  const hubLogger = loggerOf('hub', 'hub');
  // Where `outpost agent` writes its own: the logs folder in its data directory.
  const agentLogger = loggerOf('store-001', 'agent');
  const token = () => randomBytes(16).toString('hex');
  const terminals = Array.from({ length: options.terminals }, (_, i) => ({
    id: `T${i + 1}`,
    token: token(),
  }));
  const hubToken = token();
  // The status window's Retry and Discard ask for it.
  const managerToken = token();

  // Promotions: the hub signs with a key made for this demo, and the store trusts its public key.
  const keys = generateSigningKeyPair();
  const signingKeyFile = path.join(dir, 'hub', 'promotion-signing-key.pem');
  mkdirSync(path.dirname(signingKeyFile), { recursive: true });
  writeFileSync(signingKeyFile, keys.privateKeyPem, { mode: 0o600 });

  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, logger: brokerLogger });
  const hub = await startHub(
    hubConfigSchema.parse({
      hubId: 'demo-hub',
      db: { url: `sqlite:${path.join(dir, 'hub', 'hub.sqlite')}` },
      mqtt: { url: broker.url, shareGroup: false },
      api: { host: '127.0.0.1', port: 0, token: hubToken },
      promotions: { signingKeyFile },
    }),
    { logger: hubLogger },
  );
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'STORE-001',
      region: 'north',
      dataDir: storeDir,
      api: { host: '127.0.0.1', port: 0, terminals },
      mqtt: { url: broker.url },
      window: { managerToken },
      promotions: { trustedKeys: [keys.publicKeyPem] },
    }),
    { logger: agentLogger },
  );

  // One promotion pushed through the hub before the tills open, so their sales carry its id.
  const pushed = await pushSamplePromotion(hub.url, hubToken, agent);
  const anotherFile = path.join(dir, 'promotion-pasta-3for2.json');
  writeFileSync(anotherFile, `${JSON.stringify(pastaThreeForTwo(Date.now()), null, 2)}\n`);

  const stopSelling = new AbortController();
  const sims = runSimulation({
    agentUrl: agent.url,
    terminals,
    ratePerSecond: options.rate,
    durationSeconds: 24 * 60 * 60,
    signal: stopSelling.signal,
    priceWithAgent: true,
  });

  const lines = [
    '',
    'Outpost demo is running.',
    `  Status window:     ${agent.url}/   (open it in a browser)`,
    `  Manager credential for Retry and Discard in the window: ${managerToken}`,
    `  Store status:      ${agent.url}/v1/status`,
    `  Store health:      ${agent.url}/healthz`,
    `  Operator console:  ${hub.url}/   (sign in with the hub's operator token below)`,
    `  Operator token:    ${hubToken}`,
    `  Hub stores:        curl -H 'Authorization: Bearer ${hubToken}' ${hub.url}/v1/stores`,
    `  Hub transactions:  curl -H 'Authorization: Bearer ${hubToken}' '${hub.url}/v1/stores/STORE-001/transactions?limit=5'`,
    `  Hub metrics:       curl -H 'Authorization: Bearer ${hubToken}' ${hub.url}/metrics`,
    `  Broker:            ${broker.url}`,
    `  Till token (T1):   ${terminals[0]!.token}`,
    `  Promotions:        ${pushed}`,
    `                     curl -H 'Authorization: Bearer ${terminals[0]!.token}' ${agent.url}/v1/promotions/active`,
    `  Push another:      outpost promo push ${anotherFile} --hub ${hub.url} --token ${hubToken}`,
    `  Data:              ${dir}`,
    `  Logs:              ${logsOf('store-001')} (store), ${logsOf('hub')} (hub), ${logsOf('broker')} (broker)`,
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
    async () => {
      await Promise.all([agentLogger, hubLogger, brokerLogger].map((logger) => closeLogger(logger)));
    },
  );
}

/**
 * Pushes the demo's sample promotion through the hub's operator API (POST /v1/promotions), as
 * `outpost promo push` does, and waits a little for the store to hold it. Says what happened in one line:
 * a demo that cannot push still sells, without promotions.
 */
async function pushSamplePromotion(hubUrl: string, token: string, agent: RunningAgent): Promise<string> {
  const sample = dairyWeek(Date.now());
  try {
    const response = await fetch(`${hubUrl}/v1/promotions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(sample),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok)
      return `not pushed (the hub answered ${response.status}: ${(await response.text()).slice(0, 200)})`;
  } catch (error) {
    return `not pushed (${errorMessage(error)})`;
  }
  for (let i = 0; i < 100; i++) {
    if (agent.promotions.activeAt(Date.now()).promotions.some((p) => p.promotionId === sample.promotionId))
      return `${sample.promotionId} in force at the store ("${sample.name}")`;
    await sleep(100);
  }
  return `${sample.promotionId} pushed; the store has not applied it yet (see its status)`;
}
