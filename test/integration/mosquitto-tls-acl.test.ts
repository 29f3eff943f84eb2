import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { SYNC_LIMITS, topics, type EventBatch } from '../../src/contracts/sync-messages.js';
import { startHub, type RunningHub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { catalogueStatement, generateSigningKeyPair } from '../../src/promotions/index.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { sale } from '../support/pos-payloads.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { makeTempDir } from '../support/temp-dir.js';
import { testCerts, type CertPair, type TestCerts } from '../support/test-certs.js';

/**
 * The production broker configuration as shipped (docs/mosquitto.conf + docs/mosquitto-acl), run for
 * real: only the port, file paths, persistence and log destination are swapped for the test's own, so a
 * change to the shipped files is a change to what this test exercises. Stores and hubs authenticate by
 * certificate alone, and a store can speak only for itself.
 */

const DOCS = path.resolve(import.meta.dirname, '../../docs');
const topic = topics('outpost/v1');
const TERMINAL = { id: 'T1', token: 'till-1-token-0123456789abcdef' };
const OPERATOR_TOKEN = 'operator-token-0123456789abcdef';
const BOUNDED_WAIT_MS = 15_000;

/** The shipped config, split into lines; `directive` reads one setting as Mosquitto would. */
function shippedConfigLines(): string[] {
  return readFileSync(path.join(DOCS, 'mosquitto.conf'), 'utf8').split('\n');
}

function directiveLines(lines: readonly string[], name: string): number[] {
  return lines.flatMap((line, i) => (line.trim().split(/\s+/)[0] === name ? [i] : []));
}

function directive(lines: readonly string[], name: string): string[] {
  return directiveLines(lines, name).map((i) => lines[i]!.trim().slice(name.length).trim());
}

/** Replaces a setting the shipped file makes exactly once; one that moved, doubled or vanished fails loudly. */
function setDirective(lines: string[], name: string, value: string): void {
  const at = directiveLines(lines, name);
  if (at.length !== 1)
    throw new Error(`docs/mosquitto.conf sets ${name} ${at.length} times; this test expects exactly once`);
  lines[at[0]!] = `${name} ${value}`;
}

function testBrokerConfig(certs: TestCerts, port: number): string {
  // Mosquitto started as root reads the ACL after dropping to its own user: a world-readable directory.
  const dir = makeTempDir('mosquitto-acl');
  chmodSync(dir, 0o755);
  const aclFile = path.join(dir, 'outpost-acl');
  writeFileSync(aclFile, readFileSync(path.join(DOCS, 'mosquitto-acl')), { mode: 0o644 });
  const lines = shippedConfigLines();
  setDirective(lines, 'listener', `${port} 127.0.0.1`);
  setDirective(lines, 'cafile', certs.ca);
  setDirective(lines, 'certfile', certs.server.cert);
  setDirective(lines, 'keyfile', certs.server.key);
  setDirective(lines, 'acl_file', aclFile);
  // No database: nothing outlives the test (and Outpost never needs one).
  setDirective(lines, 'persistence', 'false');
  setDirective(lines, 'persistence_location', `${dir}/`);
  setDirective(lines, 'log_dest', 'stderr');
  return lines.join('\n');
}

function tlsOptions(certs: TestCerts, client?: CertPair): IClientOptions {
  return {
    ca: readFileSync(certs.ca),
    ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
  };
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, log: () => string) {
  const deadline = Date.now() + BOUNDED_WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting until ${what}\n--- mosquitto log ---\n${log().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('production Mosquitto config (docs/mosquitto.conf + docs/mosquitto-acl)', () => {
  let certs: TestCerts;
  let broker: TestMosquitto;
  let url: string;
  let hub: RunningHub;
  const rawClients: MqttClient[] = [];

  /** A bare mqtt.js client, for what the agent and hub would never do on their own. */
  async function connectRaw(client: CertPair | undefined, extra: IClientOptions = {}): Promise<MqttClient> {
    const c = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clean: true,
      ...tlsOptions(certs, client),
      ...extra,
    });
    rawClients.push(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
      c.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
    return c;
  }

  /** Resolves with the reason when the broker refuses the connection; fails the test if it accepts. */
  function refusal(client: CertPair | undefined): Promise<string> {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...tlsOptions(certs, client) });
    rawClients.push(c);
    return new Promise<string>((resolve, reject) => {
      c.once('connect', () => reject(new Error('the broker accepted the connection')));
      c.once('error', (error) => resolve(error.message));
      c.once('close', () => resolve('closed'));
    });
  }

  async function startStoreAgent(
    storeId: string,
    client: CertPair,
    protocolVersion?: 4 | 5,
  ): Promise<RunningAgent> {
    const config = agentConfigSchema.parse({
      storeId,
      dataDir: makeTempDir(`agent-${storeId}`),
      api: { host: '127.0.0.1', port: 0, terminals: [TERMINAL] },
      mqtt: {
        url,
        ca: certs.ca,
        cert: client.cert,
        key: client.key,
        ...(protocolVersion ? { protocolVersion } : {}),
      },
      sync: { ackTimeoutMs: 3000, reconnectInitialMs: 100, reconnectMaxMs: 1000 },
    });
    return startAgent(config, { logger: silentLogger() });
  }

  async function postSale(agent: RunningAgent, transactionId: string): Promise<void> {
    const res = await fetch(`${agent.url}/v1/transactions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TERMINAL.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(sale({ transactionId })),
    });
    expect(res.status).toBe(201);
  }

  async function hubEventsOf(storeId: string, epoch?: string) {
    const { events } = await hub.store.listTransactions(storeId, {
      limit: 1000,
      ...(epoch ? { epoch } : {}),
    });
    return events;
  }

  /**
   * Publishes a status for S001 as S001 and waits for the hub to record it. Mosquitto forwards one
   * publisher's messages to a subscriber in order, so once the hub has this, it has had everything the
   * same connection published before it: a bounded wait that is exact rather than a guessed sleep.
   */
  async function hubCaughtUpWith(client: MqttClient, marker: number): Promise<void> {
    await client.publishAsync(
      topic.status('S001'),
      JSON.stringify({ v: 1, state: 'online', backlog: marker }),
      { qos: 1 },
    );
    await waitUntil(
      `the hub recorded S001's status with backlog ${marker}`,
      async () =>
        (await hub.store.listStores()).some((s) => s.storeId === 'S001' && s.reportedBacklog === marker),
      broker.log,
    );
  }

  function forgedBatch(storeId: string): string {
    const batch: EventBatch = {
      v: 1,
      storeId,
      epoch: '00000000deadbeef',
      events: [
        {
          seq: 1,
          eventId: '01JFORGED00000000000000000',
          type: 'sale',
          capturedAt: new Date().toISOString(),
          body: JSON.stringify(sale({ transactionId: 'forged-1' })),
        },
      ],
    };
    return JSON.stringify(batch);
  }

  beforeAll(async () => {
    certs = await testCerts();
    broker = await startMosquitto({ config: (_dir, port) => testBrokerConfig(certs, port) });
    url = `mqtts://127.0.0.1:${broker.port}`;
    const hubCert = certs.clients['hub-1'];
    const signingKeyFile = path.join(makeTempDir('promotion-key'), 'promotion-signing-key.pem');
    writeFileSync(signingKeyFile, generateSigningKeyPair().privateKeyPem, { mode: 0o600 });
    hub = await startHub(
      hubConfigSchema.parse({
        hubId: 'hub-1',
        db: { url: `sqlite:${path.join(makeTempDir('hub'), 'hub.sqlite')}` },
        mqtt: { url, ca: certs.ca, cert: hubCert.cert, key: hubCert.key, shareGroup: 'hubs' },
        api: { host: '127.0.0.1', port: 0, token: OPERATOR_TOKEN },
        promotions: { signingKeyFile },
      }),
      { logger: silentLogger() },
    );
    // Online means connected and subscribed: /healthz answers 200 only then.
    await waitUntil('the hub is online', async () => (await fetch(`${hub.url}/healthz`)).ok, broker.log);
  });

  afterEach(async () => {
    await Promise.all(rawClients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
  });

  afterAll(async () => {
    await hub?.stop();
  });

  it('ships one TLS listener on 8883 that admits only client certificates, with the ACL and limits', () => {
    const lines = shippedConfigLines();
    expect(directive(lines, 'listener')).toEqual(['8883']);
    expect(directive(lines, 'require_certificate')).toEqual(['true']);
    expect(directive(lines, 'use_identity_as_username')).toEqual(['true']);
    expect(directive(lines, 'use_username_as_clientid')).toEqual(['true']);
    expect(directive(lines, 'allow_anonymous')).toEqual(['false']);
    expect(directive(lines, 'acl_file')).toHaveLength(1);
    expect(directive(lines, 'persistence')).toEqual(['true']);
    expect(Number(directive(lines, 'message_size_limit')[0])).toBeGreaterThanOrEqual(
      SYNC_LIMITS.maxBatchBytes,
    );
    expect(Number(directive(lines, 'max_packet_size')[0])).toBeGreaterThan(SYNC_LIMITS.maxBatchBytes);
    // Config errors only: the startup probe's bare TCP connect leaves an OpenSSL "unexpected eof" line.
    expect(broker.log()).not.toMatch(/^\d+: Error/m);
  });

  it('syncs sales from a store agent to a hub end to end, each authenticated by its certificate alone', async () => {
    const agent = await startStoreAgent('S001', certs.clients.S001);
    try {
      for (let n = 1; n <= 5; n++) await postSale(agent, `tls-sale-${n}`);
      const epoch = agent.outbox.epoch;
      await waitUntil(
        'the hub stored 5 sales of S001',
        async () => (await hubEventsOf('S001', epoch)).length === 5,
        broker.log,
      );
      await waitUntil(
        'the agent has every sale acknowledged',
        () => agent.outbox.stats().unsent.count === 0,
        broker.log,
      );

      const stored = await hubEventsOf('S001', epoch);
      expect(stored.map((e) => [e.seq, e.status, e.transactionId])).toEqual(
        [1, 2, 3, 4, 5].map((n) => [n, 'stored', `tls-sale-${n}`]),
      );
      // The retained status went through too: the hub knows the store is online.
      await waitUntil(
        'the hub saw S001 online',
        async () => (await hub.store.listStores()).some((s) => s.storeId === 'S001' && s.online),
        broker.log,
      );
    } finally {
      await agent.stop();
    }
  });

  it('tells the store manager when the broker refuses a store whose certificate is not its own (MQTT 5)', async () => {
    // A PC set up as S002 but given S001's certificate: every publish under S002 is refused by the ACL.
    const agent = await startStoreAgent('S002', certs.clients.S001, 5);
    try {
      await postSale(agent, 'misconfigured-1');
      let problems: string[] = [];
      await waitUntil(
        'the status shows the refusal',
        async () => {
          const status = (await (await fetch(`${agent.url}/v1/status`)).json()) as {
            problems: { code: string }[];
          };
          problems = status.problems.map((p) => p.code);
          return problems.includes('sync-refused');
        },
        broker.log,
      );
      expect(agent.outbox.stats().unsent.count).toBe(1);
      expect(await hubEventsOf('S002')).toEqual([]);
    } finally {
      await agent.stop();
    }
  });

  it("does not let another store's certificate knock a store off by reusing its client id", async () => {
    const agent = await startStoreAgent('S001', certs.clients.S001);
    try {
      await waitUntil('the agent is online', () => agent.sync!.connection().state === 'online', broker.log);
      const before = agent.sync!.connection();

      // Without use_username_as_clientid, Mosquitto would drop the agent in favour of this client.
      await connectRaw(certs.clients.S002, { clientId: 'outpost-agent-S001' });
      await postSale(agent, 'after-impostor-1');
      await waitUntil(
        'the sale after the impostor is acknowledged',
        () => agent.outbox.stats().unsent.count === 0,
        broker.log,
      );

      const after = agent.sync!.connection();
      expect(after.state).toBe('online');
      expect(after.since).toBe(before.since);
    } finally {
      await agent.stop();
    }
  });

  it('drops what a store publishes as another store; the hub never stores it', async () => {
    // MQTT 5: Mosquitto answers a denied publish with PUBACK reason code 135 (not authorized).
    const v5 = await connectRaw(certs.clients.S001, { protocolVersion: 5 });
    for (const forbidden of [
      topic.events('S002'),
      topic.status('S002'),
      topic.acks('S002'),
      topic.acks('S001'),
      topic.catalogue('S002'),
      topic.promotionForAll('P1'),
      topic.promotionForRegion('north', 'P1'),
      topic.promotionForStore('S001', 'P1'),
    ]) {
      await expect(
        v5.publishAsync(forbidden, forgedBatch('S002'), { qos: 1 }),
        forbidden,
      ).rejects.toMatchObject({
        code: 135,
      });
    }
    // Its own topic, claiming to be S002: the broker lets it through, and the hub refuses it.
    await v5.publishAsync(topic.events('S001'), forgedBatch('S002'), { qos: 1 });
    await hubCaughtUpWith(v5, 9001);
    await v5.endAsync();

    // MQTT 3.1.1 (what the agent speaks): the PUBACK looks like success; the message is gone all the same.
    const v311 = await connectRaw(certs.clients.S001, { protocolVersion: 4 });
    await expect(
      v311.publishAsync(topic.events('S002'), forgedBatch('S002'), { qos: 1 }),
    ).resolves.toBeDefined();
    await hubCaughtUpWith(v311, 9002);

    expect(await hubEventsOf('S002')).toEqual([]);
    expect(await hubEventsOf('S001', '00000000deadbeef')).toEqual([]);
    expect((await hub.store.listStores()).map((s) => s.storeId)).not.toContain('S002');
  });

  it('lets only hubs command a store: a store can send no command, and reads only its own', async () => {
    const command = (requestId: string) =>
      JSON.stringify({
        v: 1,
        kind: 'resend',
        requestId,
        epoch: '00000000deadbeef',
        fromSeq: 1,
        reason: 'test',
      });
    const s001 = await connectRaw(certs.clients.S001, { protocolVersion: 5 });
    const received: { topic: string; requestId: string }[] = [];
    s001.on('message', (t, payload) =>
      received.push({
        topic: t,
        requestId: (JSON.parse(payload.toString()) as { requestId: string }).requestId,
      }),
    );
    // Every store's commands: only its own may reach it.
    await s001.subscribeAsync('outpost/v1/stores/+/commands', { qos: 1 });

    // A store commanding itself or another store (say, to make it re-send its whole outbox): refused.
    for (const forbidden of [topic.commands('S001'), topic.commands('S002')]) {
      await expect(
        s001.publishAsync(forbidden, command('from-a-store'), { qos: 1 }),
        forbidden,
      ).rejects.toMatchObject({ code: 135 });
    }
    // MQTT 3.1.1 (what the agent speaks): the PUBACK looks like success; the command goes nowhere.
    const s002 = await connectRaw(certs.clients.S002, { protocolVersion: 4 });
    await s002.publishAsync(topic.commands('S001'), command('from-another-store'), { qos: 1 });

    // A hub commands S002, then S001: S001 receives its own command only. Mosquitto routes each publish
    // before its PUBACK and queues a client's messages in order, so whatever S001 was allowed to read of
    // the above has arrived by the time the hub's command to it does.
    const hub2 = await connectRaw(certs.clients['hub-2'], { protocolVersion: 5 });
    await hub2.publishAsync(topic.commands('S002'), command('for-S002'), { qos: 1 });
    await hub2.publishAsync(topic.commands('S001'), command('for-S001'), { qos: 1 });
    await waitUntil(
      'S001 received its command',
      () => received.some((r) => r.requestId === 'for-S001'),
      broker.log,
    );
    expect(received).toEqual([{ topic: topic.commands('S001'), requestId: 'for-S001' }]);
  });

  it("lets a store state its own catalogue and receive promotions meant for it; never publish one, nor state another store's", async () => {
    // Pushed through the hub: for all stores, for region north, and for S002 alone.
    for (const [promotionId, target] of [
      ['ALL-1', { all: true }],
      ['NORTH-1', { regions: ['north'] }],
      ['S002-1', { storeIds: ['S002'] }],
    ] as const) {
      const res = await fetch(`${hub.url}/v1/promotions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(promotionDraft({ promotionId, target })),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { published: boolean }).published).toBe(true);
    }
    const s001 = await connectRaw(certs.clients.S001, { protocolVersion: 5 });
    const received: string[] = [];
    s001.on('message', (t) => received.push(t));
    // What an agent subscribes to, plus a snoop on S002's own promotions.
    await s001.subscribeAsync(
      [...topic.promotionFilters('S001', 'north'), 'outpost/v1/promotions/stores/S002/+'],
      {
        qos: 1,
      },
    );

    // Its own catalogue statement: allowed, and a hub answers it with what it lacks, on its own topic.
    const statement = catalogueStatement([], { storeId: 'S001', region: 'north' });
    await s001.publishAsync(
      topic.catalogue('S001'),
      JSON.stringify({
        v: 1,
        storeId: 'S001',
        region: 'north',
        at: new Date().toISOString(),
        statement,
        refused: [],
      }),
      { qos: 1 },
    );
    await waitUntil(
      'S001 got the re-offers of ALL-1 and NORTH-1 on its own topics',
      () =>
        received.includes(topic.promotionForStore('S001', 'ALL-1')) &&
        received.includes(topic.promotionForStore('S001', 'NORTH-1')),
      broker.log,
    );
    // The retained pushes came too; nothing of S002's.
    expect(received).toEqual(
      expect.arrayContaining([topic.promotionForAll('ALL-1'), topic.promotionForRegion('north', 'NORTH-1')]),
    );
    expect(received.filter((t) => t.includes('S002'))).toEqual([]);
    expect((await hub.store.knownStores()).find((s) => s.storeId === 'S001')?.region).toBe('north');

    // Clear the retained pushes (a hub may write there), so later tests see an empty broker.
    const hub2 = await connectRaw(certs.clients['hub-2'], { protocolVersion: 5 });
    for (const t of [
      topic.promotionForAll('ALL-1'),
      topic.promotionForRegion('north', 'NORTH-1'),
      topic.promotionForStore('S002', 'S002-1'),
    ])
      await hub2.publishAsync(t, '', { qos: 1, retain: true });
  });

  it('lets the largest events batch through (message_size_limit, max_packet_size)', async () => {
    const v5 = await connectRaw(certs.clients.S001, { protocolVersion: 5 });
    // Not a valid batch (the hub refuses it); the point is that the broker takes 4 MiB. Over
    // max_packet_size Mosquitto disconnects; over message_size_limit it answers PUBACK 149 (packet too
    // large), which mqtt.js rejects as invalid for a PUBACK so the publish never settles: hence the race.
    const payload = Buffer.alloc(SYNC_LIMITS.maxBatchBytes, 0x20);
    const outcome = await Promise.race([
      v5.publishAsync(topic.events('S001'), payload, { qos: 1 }).then(
        () => 'acknowledged',
        (error: Error) => `refused: ${error.message}`,
      ),
      new Promise((r) => v5.once('close', () => r('disconnected by the broker'))),
      sleep(10_000).then(() => 'no PUBACK within 10 s'),
    ]);
    expect(outcome).toBe('acknowledged');
    expect(v5.connected).toBe(true);
  });

  it("delivers a store nothing of another store's, whatever it subscribes to", async () => {
    const s001 = await connectRaw(certs.clients.S001, { protocolVersion: 5 });
    const received: string[] = [];
    s001.on('message', (t) => received.push(t));
    const snoops = [
      topic.acks('S002'),
      'outpost/v1/stores/+/acks',
      topic.allEvents(),
      `$share/snoop/${topic.allEvents()}`,
      '#',
    ];
    for (const filter of [...snoops, topic.acks('S001')]) {
      // Mosquitto's acl_file does not check SUBSCRIBE (every filter is granted) and checks read access
      // per delivered message instead; other brokers refuse in the SUBACK (reason code >= 128). Either is
      // fine; what matters is what arrives.
      const granted = await s001.subscribeAsync(filter, { qos: 1 }).then(
        (grants) => grants[0]!.qos,
        (error: { code?: number }) => error.code ?? 128,
      );
      if (filter === topic.acks('S001')) expect(granted).toBe(1);
      else expect([0, 1, 128, 135]).toContain(granted);
    }

    // Traffic another store's connection would see: S002's events, a hub's ack to S002, then one to S001.
    const s002 = await connectRaw(certs.clients.S002, { protocolVersion: 5 });
    await s002.publishAsync(topic.events('S002'), 'not a batch', { qos: 1 });
    const hub2 = await connectRaw(certs.clients['hub-2'], { protocolVersion: 5 });
    const ack = JSON.stringify({ v: 1, epoch: '00000000deadbeef', ackedThrough: 1, highestSeq: 1 });
    await hub2.publishAsync(topic.acks('S002'), ack, { qos: 1 });
    await hub2.publishAsync(topic.acks('S001'), ack, { qos: 1 });

    // Mosquitto routes each publish before it sends the PUBACK, and queues a client's messages in order: by
    // the time S001 has the last ack, anything earlier that it was allowed to read has arrived too.
    await waitUntil('S001 received its own ack', () => received.includes(topic.acks('S001')), broker.log);
    const readable = new Set([topic.acks('S001')]);
    expect(received.filter((t) => !readable.has(t))).toEqual([]);
  });

  it('refuses a client without a certificate, and one whose certificate another CA signed', async () => {
    // TLS 1.3: the handshake looks complete to the client, then the broker's alert arrives (or, depending
    // on timing, the connection just drops). Either way there is never a CONNACK.
    await expect(refusal(undefined)).resolves.toMatch(/certificate required|ECONNRESET|EPIPE|closed/);
    await expect(refusal(certs.rogue)).resolves.toMatch(/unknown ca|ECONNRESET|EPIPE|closed/);
  });
});
