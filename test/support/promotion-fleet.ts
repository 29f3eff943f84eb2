import { writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { promotionRefusedBodySchema, type PromotionRefusedBody } from '../../src/contracts/promotion-sync.js';
import type { AgentStatus } from '../../src/contracts/status.js';
import { topics } from '../../src/contracts/sync-messages.js';
import type { PromotionDetail, PublishOutcome } from '../../src/hub/index.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/promotions/index.js';
import { eventually, TillClient } from './agent-promotions.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startMosquitto, type TestMosquitto } from './mosquitto.js';
import { makeTerminals, spawnAgent, type AgentProcess } from './spawn-agent.js';
import { FAST_SYNC, spawnHub, type HubProcess } from './spawn-hub.js';
import { makeTempDir } from './temp-dir.js';

/**
 * Head office and its stores as they run in production, for promotion tests end to end: a private
 * Mosquitto (no persistence), `outpost hub` as a child process signing with a key of the fleet's own, and
 * `outpost agent` child processes trusting that key, each behind a fault proxy of its own so one store can
 * go offline while the others and head office stay connected. Beside them: the operator's calls to the
 * hub's API, a till per store, and a bare MQTT client that publishes straight onto a store's promotion
 * topics (what a replay, a forger or a misrouted message looks like to a store). Every wait is bounded.
 */

/** The instant tills ask about: inside every test document's validity. */
export const AT = '2026-06-15T12:00:00+02:00';
const PREFIX = 'outpost/v1';
const TOKEN = 'operator-token-promotion-fleet-0123';
const KEY_ENV = 'OUTPOST_PROMOTIONS__SIGNING_KEY_FILE';

export const topic = topics(PREFIX);

/** An answer of the hub's operator API, parsed. */
export interface HubAnswer<T> {
  status: number;
  json: T;
}

/** One store: its agent process, the proxy its link runs through, and one of its tills. */
export class FleetStore {
  constructor(
    readonly storeId: string,
    readonly region: string | undefined,
    readonly agent: AgentProcess,
    readonly proxy: FaultProxy,
    readonly till: TillClient,
  ) {}

  async status(): Promise<AgentStatus> {
    const response = await fetch(`${this.agent.url}/v1/status`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200)
      throw new Error(`${this.storeId}: GET /v1/status answered ${response.status}`);
    return (await response.json()) as AgentStatus;
  }

  /** `promotionId@version` of each promotion in force at the fleet's instant, as the till reads it. */
  inForce(): Promise<string[]> {
    return this.till.inForce(AT);
  }

  /** Cuts the store's link (every connection reset, new ones refused) and waits until the agent sees it. */
  async offline(): Promise<void> {
    this.proxy.drop({ resetExisting: true });
    await eventually(
      `${this.storeId} offline`,
      async () => (await this.status()).connection.state !== 'online',
      {
        timeoutMs: 15_000,
      },
    );
  }

  /** Gives the link back and waits until the agent is connected again. */
  async online(): Promise<void> {
    this.proxy.pass();
    await this.connected();
  }

  connected(): Promise<unknown> {
    return eventually(
      `${this.storeId} online`,
      async () => (await this.status()).connection.state === 'online',
      { timeoutMs: 20_000, describe: async () => (await this.status()).connection },
    );
  }

  /** Waits until the till sees exactly this version of the promotion in force. */
  waitInForce(promotionId: string, version: number, timeoutMs = 20_000): Promise<unknown> {
    const wanted = `${promotionId}@${version}`;
    return eventually(
      `${wanted} in force at ${this.storeId}`,
      async () => (await this.inForce()).includes(wanted),
      {
        timeoutMs,
        describe: () => this.inForce(),
      },
    );
  }
}

export class PromotionFleet {
  readonly stores: FleetStore[] = [];
  private readonly hubDb: string;
  private readonly keyFile: string;
  private hubProcess: HubProcess | undefined;
  private hubs = 0;
  /** Store connections whose catalogue statement the current hub must have handled. */
  private statements = 0;

  private constructor(
    readonly broker: TestMosquitto,
    readonly keys: SigningKeyPair,
    private readonly forger: MqttClient,
  ) {
    const dir = makeTempDir('promotion-fleet-hub');
    this.hubDb = `sqlite:${path.join(dir, 'hub.sqlite')}`;
    this.keyFile = path.join(dir, 'promotion-signing-key.pem');
    writeFileSync(this.keyFile, keys.privateKeyPem, { mode: 0o600 });
  }

  /** A fresh broker, key pair and hub; stores are added with `addStores`. */
  static async start(): Promise<PromotionFleet> {
    const broker = await startMosquitto();
    let forger: MqttClient | undefined;
    try {
      forger = await mqtt.connectAsync(broker.url, {
        clientId: `fleet-forger-${Math.random().toString(16).slice(2)}`,
        reconnectPeriod: 500,
        connectTimeout: 5_000,
      });
      const fleet = new PromotionFleet(broker, generateSigningKeyPair(), forger);
      await fleet.startHub();
      return fleet;
    } catch (error) {
      await forger?.endAsync(true).catch(() => {});
      await broker.stop();
      throw error;
    }
  }

  get hub(): HubProcess {
    if (!this.hubProcess) throw new Error('the hub is not running');
    return this.hubProcess;
  }

  /** `outpost hub` on the fleet's database, signing with the fleet's key; waits until it is on the broker. */
  async startHub(): Promise<HubProcess> {
    this.hubs += 1;
    const hub = await spawnHub({
      dbUrl: this.hubDb,
      mqttUrl: this.broker.url,
      hubId: `hub-${this.hubs}`,
      token: TOKEN,
      extraEnv: { [KEY_ENV]: this.keyFile },
    });
    this.hubProcess = hub;
    // Its counters start at zero.
    this.statements = 0;
    await this.hubOnBroker();
    return hub;
  }

  /** Kills the hub (kill -9 by default: a crash, nothing flushed or said goodbye). */
  async stopHub(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const hub = this.hubProcess;
    this.hubProcess = undefined;
    await hub?.kill(signal);
  }

  hubOnBroker(): Promise<unknown> {
    return eventually(
      'the hub connected to the broker',
      async () => {
        const response = await fetch(`${this.hub.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        return ((await response.json()) as { mqtt?: string }).mqtt === 'online';
      },
      { timeoutMs: 20_000 },
    );
  }

  /** Starts agents (in parallel), each behind its own proxy, and waits until each is connected. */
  async addStores(...specs: { storeId: string; region?: string }[]): Promise<FleetStore[]> {
    const added = await Promise.all(specs.map((spec) => this.addStore(spec.storeId, spec.region)));
    this.stores.push(...added);
    // A store states its catalogue (with its region) on connecting; until the hub has handled that, a
    // region target or a rollout view does not count the store yet.
    this.statements += added.length;
    await eventually(
      `the hub to handle the catalogue statements of ${this.statements} store connections`,
      async () => (await this.hubCounter('outpost_hub_promotion_catalogues_total')) >= this.statements,
      { timeoutMs: 20_000, describe: () => this.hubCounter('outpost_hub_promotion_catalogues_total') },
    );
    return added;
  }

  /** A counter of the hub's GET /metrics, summed over its labels. */
  async hubCounter(name: string): Promise<number> {
    const response = await fetch(`${this.hub.url}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
    return (await response.text())
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  }

  private async addStore(storeId: string, region: string | undefined): Promise<FleetStore> {
    const proxy = await startFaultProxy({ port: this.broker.port });
    try {
      const terminals = makeTerminals(['T1']);
      const agent = await spawnAgent({
        storeId,
        terminals,
        config: {
          ...(region === undefined ? {} : { region }),
          timeZone: 'Europe/Paris',
          mqtt: { url: proxy.url, keepaliveSeconds: 2 },
          sync: FAST_SYNC,
          promotions: { trustedKeys: [this.keys.publicKeyBase64] },
          log: { level: 'warn', console: false },
        },
      });
      const store = new FleetStore(
        storeId,
        region,
        agent,
        proxy,
        new TillClient(agent.url, terminals[0]!.token),
      );
      await store.connected();
      return store;
    } catch (error) {
      await proxy.close();
      throw error;
    }
  }

  // ---- the operator --------------------------------------------------------------------------

  async call<T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<HubAnswer<T>> {
    const response = await fetch(`${this.hub.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  /** `POST /v1/promotions`: must be created (201), or the test stops here with the hub's answer. */
  async push(document: Record<string, unknown>, query = ''): Promise<PublishOutcome> {
    const answer = await this.call<PublishOutcome>('POST', `/v1/promotions${query}`, document);
    if (answer.status !== 201)
      throw new Error(`push answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    return answer.json;
  }

  async change(promotionId: string, change: 'withdraw' | 'activate'): Promise<PublishOutcome> {
    const answer = await this.call<PublishOutcome>('POST', `/v1/promotions/${promotionId}/${change}`);
    if (answer.status !== 201)
      throw new Error(`${change} answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    return answer.json;
  }

  async detail(promotionId: string): Promise<PromotionDetail> {
    const answer = await this.call<PromotionDetail>('GET', `/v1/promotions/${promotionId}`);
    if (answer.status !== 200)
      throw new Error(`detail answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    return answer.json;
  }

  /** A version's rollout summary once `ready` accepts it, within a bound. */
  rolloutOf(
    promotionId: string,
    version: number,
    ready: (rollout: PromotionDetail['versions'][number]['rollout']) => boolean,
    timeoutMs = 20_000,
  ): Promise<PromotionDetail['versions'][number]['rollout']> {
    const rollout = async () =>
      (await this.detail(promotionId)).versions.find((v) => v.version === version)?.rollout;
    return eventually(
      `the rollout of ${promotionId} version ${version} at head office`,
      async () => {
        const seen = await rollout();
        return seen !== undefined && ready(seen) ? seen : undefined;
      },
      { timeoutMs, describe: rollout },
    );
  }

  /** The signed envelope of a version as the hub published it, byte for byte (what a replay sends). */
  async signedText(promotionId: string, version: number): Promise<string> {
    const found = (await this.detail(promotionId)).versions.find((v) => v.version === version);
    if (!found) throw new Error(`the hub has no ${promotionId} version ${version}`);
    return JSON.stringify({ document: found.document, signature: found.signature });
  }

  /**
   * The store's `promotion-refused` events as head office stored them, in the store's order: what each
   * refusal the store reported says, including those that name no promotion head office could file it under.
   */
  async refusalEvents(storeId: string): Promise<PromotionRefusedBody[]> {
    const summary = await this.hub.api.store(storeId);
    const refusals: PromotionRefusedBody[] = [];
    for (const epoch of summary?.epochs ?? []) {
      for (const event of await this.hub.api.transactions(storeId, epoch.epoch)) {
        if (event.type !== 'promotion-refused' || event.status !== 'stored') continue;
        const body = typeof event.body === 'string' ? (JSON.parse(event.body) as unknown) : event.body;
        refusals.push(promotionRefusedBodySchema.parse(body));
      }
    }
    return refusals;
  }

  // ---- straight onto the broker ----------------------------------------------------------------

  /** Publishes a message on a topic, as anyone with access to the broker could; not retained. */
  async publish(onTopic: string, text: string): Promise<void> {
    await this.forger.publishAsync(onTopic, text, { qos: 1 });
  }

  /** Topics under `promotions/#` the broker keeps a retained message on (what a store connecting now gets). */
  async retainedPromotions(): Promise<string[]> {
    const client = await mqtt.connectAsync(this.broker.url, { reconnectPeriod: 0, connectTimeout: 5_000 });
    try {
      const seen = new Set<string>();
      client.on('message', (t, payload, packet) => {
        if (packet.retain && payload.length > 0) seen.add(t);
      });
      await client.subscribeAsync(`${PREFIX}/promotions/#`, { qos: 1 });
      // Retained messages follow the SUBACK; one round trip on a topic of our own flushes them.
      const marker = `test/marker/${Math.random().toString(16).slice(2)}`;
      const flushed = new Promise<void>((resolve) => client.on('message', (t) => t === marker && resolve()));
      await client.subscribeAsync(marker, { qos: 1 });
      await client.publishAsync(marker, 'x', { qos: 1 });
      await flushed;
      return [...seen].sort();
    } finally {
      await client.endAsync(true);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.stores.map((s) => s.agent.kill('SIGKILL')));
    await this.stopHub();
    await Promise.all(this.stores.map((s) => s.proxy.close().catch(() => {})));
    await this.forger.endAsync(true).catch(() => {});
    await this.broker.stop();
  }
}
