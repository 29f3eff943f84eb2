import path from 'node:path';
import { afterEach } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { startEmbeddedBroker, type RunningBroker } from '../../src/broker/index.js';
import { agentConfigSchema, type AgentConfigInput } from '../../src/contracts/agent-config.js';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import type { AgentStatus } from '../../src/contracts/status.js';
import { startHub, type EventRecord, type RunningHub, type StoreSummary } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { Outbox } from '../../src/sync/index.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { plainBrokerConfig } from './mosquitto-binary.js';
import { freePort, startMosquitto, type TestMosquitto } from './mosquitto.js';
import { numberedSale } from './pos-payloads.js';
import { makeTerminals, type TerminalCredential } from './spawn-agent.js';
import { makeTempDir } from './temp-dir.js';

/**
 * One store and one head office, in this process, wired the way production is: capture API → outbox →
 * sync engine → (fault proxy) → broker → hub → hub SQLite. The proxy sits only on the agent's link, so a
 * test can cut, stall or slow the store's network while head office stays connected; the broker itself
 * can be taken down and brought back with nothing remembered.
 */

export type BrokerKind = 'mosquitto' | 'embedded';

export interface TestBroker {
  readonly kind: BrokerKind | 'external';
  readonly url: string;
  readonly port: number;
  /** Hubs subscribe through this share group; false for the embedded broker, which has no shared subscriptions. */
  readonly shareGroup: string | false;
  /** The broker vanishes with every session, retained and queued message. */
  down(): Promise<void>;
  /** Back on the same port, remembering nothing. */
  up(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A private Mosquitto (no persistence) or the embedded Aedes broker, on a free loopback port.
 * `mosquittoConfig` adds lines to Mosquitto's plain config (e.g. `max_packet_size 65536`).
 */
export async function startTestBroker(
  kind: BrokerKind,
  options: { mosquittoConfig?: string[] } = {},
): Promise<TestBroker> {
  if (kind === 'mosquitto') {
    const extra = options.mosquittoConfig ?? [];
    const mosquitto: TestMosquitto = await startMosquitto(
      extra.length > 0 ? { config: (_dir, port) => plainBrokerConfig(port) + extra.join('\n') + '\n' } : {},
    );
    return {
      kind,
      url: mosquitto.url,
      port: mosquitto.port,
      shareGroup: 'outpost-hubs',
      down: () => mosquitto.kill(),
      up: () => mosquitto.restart(),
      restart: () => mosquitto.restart(),
      close: () => mosquitto.stop(),
    };
  }
  const port = await freePort();
  const start = () => startEmbeddedBroker({ host: '127.0.0.1', port, logger: silentLogger() });
  let running: RunningBroker | undefined = await start();
  const down = async () => {
    const broker = running;
    running = undefined;
    await broker?.stop();
  };
  const up = async () => {
    running ??= await start();
  };
  return {
    kind,
    url: `mqtt://127.0.0.1:${port}`,
    port,
    shareGroup: false,
    down,
    up,
    async restart() {
      await down();
      await up();
    },
    close: down,
  };
}

export interface SyncHarnessOptions {
  /** A broker this harness starts and owns, or one already running (not taken down by the harness). */
  broker: BrokerKind | { url: string; shareGroup: string | false };
  storeId?: string;
  terminalCount?: number;
  /** Agent sync tuning over the short test defaults. */
  sync?: AgentConfigInput['sync'];
  keepaliveSeconds?: number;
  /** Writes into the agent's outbox before the agent starts, e.g. an event head office will refuse. */
  seedOutbox?: (outbox: Outbox) => void;
  /** Lines added to a harness-owned Mosquitto's config. */
  mosquittoConfig?: string[];
  /** The agent's MQTT protocol (5 lets the broker say why it refused a publish). */
  protocolVersion?: 4 | 5;
  /** The agent's api.bodyLimitBytes. */
  bodyLimitBytes?: number;
}

/** A sale the agent answered 201 for, with the exact text the till sent. */
export interface SentSale {
  terminalId: string;
  transactionId: string;
  text: string;
  eventId: string;
  seq: number;
}

/** What the hub must hold at one seq: the body as the very text the till sent. */
export interface ExpectedEvent {
  seq: number;
  eventId: string;
  text: string;
  status?: EventRecord['status'];
}

const HUB_TOKEN = 'hub-operator-token-for-tests';
const SHORT_SYNC = {
  ackTimeoutMs: 1500,
  reconnectInitialMs: 100,
  reconnectMaxMs: 1000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `check` every `intervalMs` until it returns something other than undefined/false, or throws
 * after `timeoutMs` naming what it waited for and what it saw last.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const seen = options.describe ? await options.describe() : undefined;
      throw new Error(
        `timed out waiting for ${what}${seen === undefined ? '' : `; last seen: ${JSON.stringify(seen)}`}`,
      );
    }
    await sleep(options.intervalMs ?? 25);
  }
}

/** Some bodies pretty-printed, so "what the POS sent" is compared as JSON, not as one serialisation of it. */
function saleText(terminalId: string, n: number): string {
  const sale = numberedSale(terminalId, n);
  return n % 3 === 0 ? JSON.stringify(sale, null, 2) : JSON.stringify(sale);
}

const live = new Set<SyncHarness>();

export class SyncHarness {
  /** Every sale answered 201, in the order the answers came. */
  readonly sent: SentSale[] = [];
  /** Any answer other than 201 (or a failed request): a test expects this to stay empty. */
  readonly unexpected: string[] = [];
  /** Runs inside the hub after each batch commit and before its acknowledgement. */
  onHubCommit: (() => void) | undefined;
  hubCommits = 0;
  private nextSale = 1;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly broker: TestBroker,
    readonly proxy: FaultProxy,
    readonly hub: RunningHub,
    readonly agent: RunningAgent,
    readonly storeId: string,
    readonly terminals: readonly TerminalCredential[],
    readonly dataDir: string,
    private readonly ownsBroker: boolean,
  ) {}

  static async start(options: SyncHarnessOptions): Promise<SyncHarness> {
    const ownsBroker = typeof options.broker === 'string';
    const broker =
      typeof options.broker === 'string'
        ? await startTestBroker(options.broker, { mosquittoConfig: options.mosquittoConfig ?? [] })
        : externalBroker(options.broker);
    const cleanup: (() => Promise<unknown>)[] = [() => (ownsBroker ? broker.close() : Promise.resolve())];
    const unwind = async () => {
      for (const step of cleanup.reverse()) await step().catch(() => {});
    };
    try {
      const storeId = options.storeId ?? `store-${broker.kind}-${Math.random().toString(36).slice(2, 8)}`;
      const terminals = makeTerminals(
        Array.from({ length: options.terminalCount ?? 4 }, (_, i) => `T${i + 1}`),
      );
      const proxy = await startFaultProxy({ port: broker.port });
      cleanup.push(() => proxy.close());

      const hubHooks: { afterCommit?: () => void } = {};
      const hubConfig = hubConfigSchema.parse({
        hubId: 'hub-test',
        db: { url: `sqlite:${path.join(makeTempDir('hub-db'), 'hub.sqlite')}` },
        mqtt: { url: broker.url, shareGroup: broker.shareGroup },
        api: { host: '127.0.0.1', port: 0, token: HUB_TOKEN },
      });
      const hub = await startHub(hubConfig, {
        logger: silentLogger(),
        afterCommit: () => hubHooks.afterCommit?.(),
      });
      cleanup.push(() => hub.stop());

      const dataDir = makeTempDir('sync-agent');
      if (options.seedOutbox) {
        const outbox = new Outbox({ file: path.join(dataDir, 'outbox.sqlite'), storeId });
        try {
          options.seedOutbox(outbox);
        } finally {
          outbox.close();
        }
      }
      const agentConfig = agentConfigSchema.parse({
        storeId,
        dataDir,
        api: {
          host: '127.0.0.1',
          port: 0,
          terminals: terminals.map((t) => ({ ...t })),
          ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
        },
        mqtt: {
          url: proxy.url,
          keepaliveSeconds: options.keepaliveSeconds ?? 2,
          ...(options.protocolVersion ? { protocolVersion: options.protocolVersion } : {}),
        },
        sync: { ...SHORT_SYNC, ...options.sync },
      });
      const agent = await startAgent(agentConfig, { logger: silentLogger() });
      cleanup.push(() => agent.stop());
      const harness = new SyncHarness(broker, proxy, hub, agent, storeId, terminals, dataDir, ownsBroker);
      hubHooks.afterCommit = () => {
        harness.hubCommits++;
        harness.onHubCommit?.();
      };
      live.add(harness);
      return harness;
    } catch (error) {
      await unwind();
      throw error;
    }
  }

  /**
   * Sells `count` numbered sales through the capture API, `concurrency` tills at a time, and records
   * every 201 with the exact text sent. Bounded by the count; anything but 201 goes to `unexpected`.
   */
  async sell(
    count: number,
    options: { concurrency?: number; text?: (terminalId: string, n: number) => string } = {},
  ): Promise<SentSale[]> {
    const numbers = Array.from({ length: count }, () => this.nextSale++);
    const sold: SentSale[] = [];
    let next = 0;
    const till = async () => {
      while (next < numbers.length) {
        const n = numbers[next++]!;
        const terminal = this.terminals[n % this.terminals.length]!;
        const text = (options.text ?? saleText)(terminal.id, n);
        try {
          const response = await fetch(`${this.agent.url}/v1/transactions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${terminal.token}`, 'content-type': 'application/json' },
            body: text,
          });
          const answer = await response.text();
          if (response.status !== 201) {
            this.unexpected.push(`${terminal.id}-${n}: ${response.status} ${answer}`);
            continue;
          }
          const { eventId, seq } = JSON.parse(answer) as { eventId: string; seq: number };
          const sale = { terminalId: terminal.id, transactionId: `${terminal.id}-${n}`, text, eventId, seq };
          this.sent.push(sale);
          sold.push(sale);
        } catch (error) {
          this.unexpected.push(`${terminal.id}-${n}: ${String(error)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 16 }, till));
    return sold;
  }

  /** GET /v1/status of the agent, as the store manager's window reads it. */
  async agentStatus(): Promise<AgentStatus> {
    const response = await fetch(`${this.agent.url}/v1/status`);
    if (response.status !== 200) throw new Error(`GET /v1/status answered ${response.status}`);
    return (await response.json()) as AgentStatus;
  }

  /** The hub's view of this store (GET /v1/stores, straight from its store). */
  async hubStoreSummary(): Promise<StoreSummary | undefined> {
    return (await this.hub.store.listStores()).find((s) => s.storeId === this.storeId);
  }

  /** Stored (and refused) events of the store's current epoch at the hub, every page, in the order served. */
  async hubTransactions(storeId = this.storeId): Promise<EventRecord[]> {
    const all: EventRecord[] = [];
    let after = 0;
    for (let page = 0; page < 1000; page++) {
      const { events } = await this.hub.store.listTransactions(storeId, { after, limit: 250 });
      all.push(...events);
      if (events.length < 250) return all;
      after = events.at(-1)!.seq;
    }
    throw new Error('more than 1000 pages of transactions: the test stores far more than it meant to');
  }

  /**
   * Waits until the agent has nothing unsent and the hub holds `stored` events of the store. Fails at
   * once, rather than at the timeout, when the agent counts everything acknowledged while the hub still
   * lacks some: the hub acknowledges only after its commit, so that is a loss, not a delay.
   */
  async waitUntilDelivered(stored = this.sent.length, timeoutMs = 30_000): Promise<void> {
    let lossSeenSince: number | undefined;
    await waitFor(
      `the agent to have 0 unsent and the hub to hold ${stored} events of ${this.storeId}`,
      async () => {
        if (this.agent.outbox.stats().unsent.count !== 0) return false;
        const epoch = (await this.hubStoreSummary())?.epochs.find((e) => e.epoch === this.agent.outbox.epoch);
        if (epoch !== undefined && epoch.stored >= stored) return true;
        lossSeenSince ??= Date.now();
        if (Date.now() - lossSeenSince > 1000) {
          throw new Error(
            `the agent has nothing left to send but the hub holds ${epoch?.stored ?? 0} of ${stored} events: ` +
              `lost on the way (hub: ${JSON.stringify(epoch)})`,
          );
        }
        return false;
      },
      {
        timeoutMs,
        intervalMs: 50,
        describe: async () => ({
          unsent: this.agent.outbox.stats().unsent.count,
          hub: (await this.hubStoreSummary())?.epochs,
          link: this.agent.sync?.connection(),
          proxy: this.proxy.stats(),
        }),
      },
    );
  }

  /** What the hub must hold: every sale answered 201, each at its seq with the exact text the till sent. */
  expectedFromSent(): ExpectedEvent[] {
    return this.sent.map((s) => ({ seq: s.seq, eventId: s.eventId, text: s.text }));
  }

  /** Everything that breaks "exactly once, in seq order, unchanged, provably complete" at the hub. */
  async deliveryProblems(expected: readonly ExpectedEvent[] = this.expectedFromSent()): Promise<string[]> {
    const events = await this.hubTransactions();
    const summary = await this.hubStoreSummary();
    return findDeliveryProblems(
      expected,
      events,
      summary?.epochs.find((e) => e.epoch === this.agent.outbox.epoch),
    );
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      live.delete(this);
      this.onHubCommit = undefined;
      this.proxy.pass();
      await this.agent.stop().catch(() => {});
      await this.hub.stop().catch(() => {});
      await this.proxy.close().catch(() => {});
      if (this.ownsBroker) await this.broker.close().catch(() => {});
    })();
    return this.closing;
  }
}

function externalBroker(given: { url: string; shareGroup: string | false }): TestBroker {
  const url = new URL(given.url);
  const unsupported = () => Promise.reject(new Error('this harness does not own the broker at ' + given.url));
  return {
    kind: 'external',
    url: given.url,
    port: Number(url.port || 1883),
    shareGroup: given.shareGroup,
    down: unsupported,
    up: unsupported,
    restart: unsupported,
    close: () => Promise.resolve(),
  };
}

/**
 * Pure: compares what the hub serves for one store and epoch with what it must hold. Problems, in
 * words: a seq missing, held twice or out of order, a body changed by a single byte, an eventId swapped,
 * a row nobody expects, or an epoch summary that does not prove completeness (contiguousThrough below
 * lastSeq, gaps). Empty means delivered exactly once, in order, unchanged.
 */
export function findDeliveryProblems(
  expected: readonly ExpectedEvent[],
  served: readonly EventRecord[],
  summary: StoreSummary['epochs'][number] | undefined,
): string[] {
  const problems: string[] = [];
  const expectedBySeq = new Map<number, ExpectedEvent>();
  for (const e of expected) {
    if (expectedBySeq.has(e.seq)) problems.push(`the test expects two events at seq ${e.seq}`);
    expectedBySeq.set(e.seq, e);
  }
  const lastSeq = Math.max(0, ...expected.map((e) => e.seq));
  served.forEach((event, i) => {
    if (event.seq !== i + 1) problems.push(`position ${i + 1} of the hub's list holds seq ${event.seq}`);
  });
  const servedBySeq = new Map<number, EventRecord[]>();
  for (const event of served) servedBySeq.set(event.seq, [...(servedBySeq.get(event.seq) ?? []), event]);
  for (const e of expected) {
    const rows = servedBySeq.get(e.seq) ?? [];
    if (rows.length !== 1) {
      problems.push(`seq ${e.seq} (${e.eventId}) is held ${rows.length} times at the hub`);
      continue;
    }
    const row = rows[0]!;
    if (row.eventId !== e.eventId) problems.push(`seq ${e.seq} holds event ${row.eventId}, not ${e.eventId}`);
    if (row.status !== (e.status ?? 'stored'))
      problems.push(`seq ${e.seq} is ${row.status}, not ${e.status ?? 'stored'}`);
    if (row.bodyJson !== e.text)
      problems.push(`seq ${e.seq} is held with a body other than the exact text sent`);
  }
  for (const event of served) {
    if (!expectedBySeq.has(event.seq))
      problems.push(`seq ${event.seq} (${event.eventId}) is at the hub but nobody sent it`);
  }
  // A refused event sent again (a retried dead letter) keeps its eventId under a new seq; a stored one never may.
  const eventIds = new Map<string, number>();
  for (const event of served.filter((e) => e.status === 'stored'))
    eventIds.set(event.eventId, (eventIds.get(event.eventId) ?? 0) + 1);
  for (const [eventId, times] of eventIds)
    if (times > 1) problems.push(`event ${eventId} is stored ${times} times`);
  if (!summary) problems.push('the hub has no summary for the epoch');
  else {
    if (summary.lastSeq !== lastSeq) problems.push(`the hub's lastSeq is ${summary.lastSeq}, not ${lastSeq}`);
    if (summary.contiguousThrough !== lastSeq)
      problems.push(`the hub's contiguousThrough is ${summary.contiguousThrough}, not ${lastSeq}`);
    if (summary.gaps.length > 0) problems.push(`the hub reports gaps ${JSON.stringify(summary.gaps)}`);
    const stored = expected.filter((e) => (e.status ?? 'stored') === 'stored').length;
    if (summary.stored !== stored) problems.push(`the hub counts ${summary.stored} stored, not ${stored}`);
  }
  return problems.slice(0, 20);
}

/** Closes every harness a test left open, so a failed test leaves no broker, hub or agent behind. */
export async function closeAllHarnesses(): Promise<void> {
  await Promise.all([...live].map((h) => h.close()));
}

afterEach(closeAllHarnesses);
