import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema, type AgentConfigInput } from '../../src/contracts/agent-config.js';
import type { AgentStatus } from '../../src/contracts/status.js';
import { silentLogger } from '../../src/lib/logger.js';
import { freePort, startMosquitto } from '../support/mosquitto.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testCerts } from '../support/test-certs.js';

/**
 * An agent that has never reached its broker is almost always set up wrong (address, port, certificates):
 * "nothing to do, keep trading" would leave a new store unsynced until someone looks. Until the first
 * successful connection, the status names the setting to check and the error seen.
 */

const TERMINAL = { id: 'T1', token: 'till-1-token-0123456789abcdef' };
const BOUNDED_WAIT_MS = 15_000;
let agent: RunningAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

async function start(mqtt: NonNullable<AgentConfigInput['mqtt']>): Promise<RunningAgent> {
  agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'S001',
      dataDir: path.join(makeTempDir('never-connected'), 'data'),
      api: { host: '127.0.0.1', port: 0, terminals: [TERMINAL] },
      mqtt,
      sync: { reconnectInitialMs: 100, reconnectMaxMs: 400 },
    }),
    { logger: silentLogger() },
  );
  return agent;
}

async function status(running: RunningAgent): Promise<AgentStatus> {
  return (await (await fetch(`${running.url}/v1/status`)).json()) as AgentStatus;
}

async function waitForStatus(
  running: RunningAgent,
  what: string,
  done: (s: AgentStatus) => boolean,
): Promise<AgentStatus> {
  const until = Date.now() + BOUNDED_WAIT_MS;
  for (;;) {
    const answer = await status(running);
    if (done(answer)) return answer;
    if (Date.now() > until) throw new Error(`${what} not seen; status: ${JSON.stringify(answer, null, 2)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const neverReached = (s: AgentStatus) => s.problems.find((p) => p.code === 'broker-never-reached');

/** A Mosquitto that admits only client certificates signed by the test CA. */
function startTlsMosquitto(certs: Awaited<ReturnType<typeof testCerts>>) {
  return startMosquitto({
    config: (_dir, port) =>
      [
        `listener ${port} 127.0.0.1`,
        `cafile ${certs.ca}`,
        `certfile ${certs.server.cert}`,
        `keyfile ${certs.server.key}`,
        'require_certificate true',
        'use_identity_as_username true',
        'allow_anonymous false',
        'log_dest stderr',
      ].join('\n'),
  });
}

describe('an agent that has never reached its broker', () => {
  it('names mqtt.url when nothing listens at the address, then says "keep trading" once it has connected', async () => {
    const port = await freePort();
    const running = await start({ url: `mqtt://127.0.0.1:${port}` });
    const refused = await waitForStatus(
      running,
      'the never-reached problem',
      (s) => neverReached(s) !== undefined,
    );
    expect(refused.connection.everConnected).toBe(false);
    expect(neverReached(refused)).toMatchObject({ severity: 'critical' });
    expect(neverReached(refused)!.message).toContain(
      `the broker address or certificates look wrong (mqtt.url): nothing accepts connections at 127.0.0.1:${port}`,
    );
    expect(neverReached(refused)!.message).toContain(`Error: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(JSON.stringify(refused.problems)).not.toMatch(/keep trading/);

    // The broker comes up at that address: the store connects, and from then on an outage is an outage.
    const broker = await startMosquitto({ port });
    const online = await waitForStatus(running, 'online', (s) => s.connection.state === 'online');
    expect(online.connection.everConnected).toBe(true);
    expect(online.problems.filter((p) => p.code !== 'promotions-no-trusted-key')).toEqual([]);
    await broker.kill();
    const down = await waitForStatus(running, 'offline', (s) => s.connection.state === 'offline');
    expect(down.problems.filter((p) => p.code !== 'promotions-no-trusted-key').map((p) => p.code)).toEqual([
      'head-office-unreachable',
    ]);
    expect(down.problems.find((p) => p.code === 'head-office-unreachable')!.action).toMatch(/keep trading/);
  });

  it('names mqtt.url when the broker host name cannot be found', async () => {
    const running = await start({ url: 'mqtt://broker.outpost-test.invalid:1883' });
    const s = await waitForStatus(running, 'the never-reached problem', (x) => neverReached(x) !== undefined);
    expect(neverReached(s)!.message).toContain(
      '(mqtt.url): the broker\'s host name "broker.outpost-test.invalid" cannot be found',
    );
  });

  it("names mqtt.ca when the broker's certificate is not signed by the CA the store trusts", async () => {
    const certs = await testCerts();
    const broker = await startTlsMosquitto(certs);
    // The store was given the wrong CA file: that of another PKI.
    const running = await start({
      url: `mqtts://127.0.0.1:${broker.port}`,
      ca: certs.rogue.cert,
      cert: certs.clients.S001.cert,
      key: certs.clients.S001.key,
    });
    const s = await waitForStatus(running, 'the never-reached problem', (x) => neverReached(x) !== undefined);
    expect(neverReached(s)!.message).toContain(
      "(mqtt.ca): the broker's certificate is not signed by the CA in the mqtt.ca file",
    );
    expect(neverReached(s)!.action).toContain("Check mqtt.ca in the agent's config file");
  });

  it('names mqtt.cert and mqtt.key when the broker refuses the client certificate', async () => {
    const certs = await testCerts();
    const broker = await startTlsMosquitto(certs);
    // A certificate with the store's name, from another CA than head office's.
    const running = await start({
      url: `mqtts://127.0.0.1:${broker.port}`,
      ca: certs.ca,
      cert: certs.rogue.cert,
      key: certs.rogue.key,
    });
    const s = await waitForStatus(running, 'the never-reached problem', (x) => neverReached(x) !== undefined);
    expect(neverReached(s)!.message).toContain(
      "(mqtt.cert and mqtt.key): the broker refuses this store's client certificate",
    );
    expect(neverReached(s)!.message).toContain('Error: tlsv1 alert unknown ca.');
  });
});
