import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { startHub, type RunningHub } from '../../src/hub/index.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
const log = () =>
  process.env.DEBUG_AGENT ? createLogger({ name: 't', level: 'debug', console: true }) : silentLogger();
import { generateSigningKeyPair } from '../../src/promotions/index.js';
import { eventually, TillClient } from '../support/agent-promotions.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { makeTerminals } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The store's side of delivery that needs nothing from the broker: a store offline while a promotion is
 * pushed, behind a broker that then restarts without persistence (so no retained copy is left), states
 * its catalogue when it connects, and a real hub re-offers what it lacks. The rollout reaches the hub.
 */

const TOKEN = 'operator-token-0123456789';
const [TILL] = makeTerminals(['T1']);
let broker: TestMosquitto | undefined;
let hub: RunningHub | undefined;
let agent: RunningAgent | undefined;

afterEach(async () => {
  await agent?.stop();
  await hub?.stop();
  await broker?.stop();
  agent = hub = broker = undefined;
});

async function setUp() {
  broker = await startMosquitto();
  const keys = generateSigningKeyPair();
  const hubDir = makeTempDir('reoffer-hub');
  const signingKeyFile = path.join(hubDir, 'signing-key.pem');
  writeFileSync(signingKeyFile, keys.privateKeyPem, { mode: 0o600 });
  const startTheHub = () =>
    startHub(
      hubConfigSchema.parse({
        hubId: 'hub-1',
        db: { url: `sqlite:${path.join(hubDir, 'hub.sqlite')}` },
        mqtt: { url: broker!.url, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
        api: { host: '127.0.0.1', port: 0, token: TOKEN },
        promotions: { signingKeyFile },
      }),
      { logger: log() },
    );
  const dataDir = makeTempDir('reoffer-store');
  const startStore = () =>
    startAgent(
      agentConfigSchema.parse({
        storeId: 'S042',
        region: 'north',
        timeZone: 'Europe/Paris',
        dataDir,
        api: { host: '127.0.0.1', port: 0, terminals: [TILL] },
        mqtt: { url: broker!.url },
        promotions: { trustedKeys: [keys.publicKeyBase64] },
        sync: { reconnectInitialMs: 50, reconnectMaxMs: 300 },
      }),
      { logger: log() },
    );
  hub = await startTheHub();
  // The hub knows the store (it has stated its catalogue once), then the store goes offline.
  agent = await startStore();
  await eventually('the store online', () => agent!.sync?.connection().state === 'online');
  await agent.stop();
  agent = undefined;

  const pushed = await fetch(`${hub.url}/v1/promotions`, {
    method: 'POST',
    headers,
    body: JSON.stringify(promotionDraft({ promotionId: 'MISSED', target: { regions: ['north'] } })),
  });
  expect(pushed.status).toBe(201);
  return { startTheHub, startStore };
}

const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** The store holds the missed version, in force, and the hub has its proof of rollout. */
async function expectDelivered(): Promise<void> {
  const till = new TillClient(agent!.url, TILL!.token);
  await eventually('the missed promotion in force', async () =>
    (await till.inForce('2026-06-15T12:00:00Z')).includes('MISSED@1'),
  );
  const rollout = await eventually('the hub to record the rollout', async () => {
    const detail = (await (await fetch(`${hub!.url}/v1/promotions/MISSED`, { headers })).json()) as {
      versions: { rollout: { stores: { storeId: string; status: string }[] } }[];
    };
    const store = detail.versions[0]?.rollout.stores.find((s) => s.storeId === 'S042');
    return store?.status === 'applied' ? store : undefined;
  });
  expect(rollout).toMatchObject({ storeId: 'S042', status: 'applied' });
  expect(agent!.promotions.catalogueMessage().statement.versions).toEqual({ MISSED: 1 });
}

describe('a store that missed a push', () => {
  it('gets it from the hub when it states its catalogue on connecting, though the broker kept nothing', async () => {
    const { startStore } = await setUp();
    // The broker forgets everything (no persistence): no retained copy of the push survives.
    await broker!.restart();
    await eventually('the hub back on the broker', () => hub!.health().mqtt === 'online');
    agent = await startStore();
    await expectDelivered();
  }, 60_000);

  it('gets it too when it connected before any hub listened: it states its catalogue again soon after', async () => {
    const { startTheHub, startStore } = await setUp();
    // After a broker restart stores may reconnect before the hubs subscribe again: here the hub is away
    // altogether while the store connects, so nobody hears the store's first statement.
    await hub!.stop();
    hub = undefined;
    await broker!.restart();
    agent = await startStore();
    await eventually('the store online', () => agent!.sync?.connection().state === 'online');
    hub = await startTheHub();
    await expectDelivered();
  }, 60_000);
});
