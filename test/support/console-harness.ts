import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  batchAckSchema,
  storeCommandSchema,
  topics,
  type CommandAnswer,
  type StoreCommand,
  type StoreEventType,
  type StoreStatusMessage,
} from '../../src/contracts/sync-messages.js';
import { buildVitePage, launchChromium, openWatchedPage, type WatchedPage } from './browser.js';
import { startMosquitto, type TestMosquitto } from './mosquitto.js';
import { createTempPostgresDatabase, type TempPostgresDatabase } from './postgres.js';
import { spawnHub, type HubProcess } from './spawn-hub.js';
import { resendReport, retainedFrom, waitUntil } from './store-simulator.js';
import { makeTempDir } from './temp-dir.js';

/**
 * What the operator-console tests share: the console built with its own Vite config, a real hub process
 * (serving it) behind a private Mosquitto, stores simulated by bare MQTT clients speaking the real
 * protocol, and the few page steps every test takes.
 */

const topic = topics('outpost/v1');

/** Builds the console (`vite build --config vite.console.config.ts`) into `outDir`: never a stale dist/. */
export const buildConsolePage = (outDir: string): Promise<string> =>
  buildVitePage('vite.console.config.ts', outDir);

export interface ConsoleSuite {
  /** Chromium, launched before the file's first test. */
  readonly browser: Browser;
  /** The console, built before the file's first test. */
  readonly consoleDir: string;
  /** Opens `url` in a new watched page, its screenshots in a folder `shots` of the file's own. */
  open(url: string, shots: string): Promise<WatchedPage>;
  /** The page met no script error but the sign-in's 401s, and no Content-Security-Policy violation. */
  expectCleanPage(watched: WatchedPage): void;
}

/**
 * What every console test file sets up once: the console built fresh and Chromium, before its tests
 * (vitest hooks, registered by this call), closed after them; screenshots in a temp dir named `name`.
 */
export function consoleSuite(name: string): ConsoleSuite {
  const artifacts = makeTempDir(`${name}-shots`);
  let browser: Browser | undefined;
  let consoleDir: string | undefined;

  beforeAll(async () => {
    consoleDir = await buildConsolePage(path.join(makeTempDir('console-build'), 'console'));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is ready only inside a test`);
    return value;
  };
  return {
    get browser() {
      return ready(browser, 'the browser');
    },
    get consoleDir() {
      return ready(consoleDir, 'the console build');
    },
    open(url, shots) {
      return openWatchedPage(ready(browser, 'the browser'), url, {
        artifactsDir: path.join(artifacts, shots),
      });
    },
    expectCleanPage(watched) {
      expect(watched.errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
      expect(watched.cspViolations).toEqual([]);
    },
  };
}

export interface ConsoleHub {
  broker: TestMosquitto;
  hub: HubProcess;
  /** The hub's base URL, where the console is served. */
  url: string;
  token: string;
  /** A simulated store on the hub's broker, closed by `stop()`. */
  connectStore(storeId: string): Promise<ConsoleStoreSim>;
  /** The simulated stores connected so far, in order. */
  readonly sims: readonly ConsoleStoreSim[];
  /** Closes the simulated stores, then stops the hub, the broker and the database. */
  stop(): Promise<void>;
}

/** A private Mosquitto and a real hub process (SQLite or PostgreSQL) serving the console from `consoleDir`. */
export async function startConsoleHub(options: {
  db: 'sqlite' | 'postgres';
  consoleDir: string;
  /** More settings by environment variable (e.g. OUTPOST_PROMOTIONS__SIGNING_KEY_FILE). */
  extraEnv?: Record<string, string>;
}): Promise<ConsoleHub> {
  const broker = await startMosquitto();
  let database: TempPostgresDatabase | undefined;
  const dbUrl =
    options.db === 'postgres'
      ? (database = await createTempPostgresDatabase()).url
      : `sqlite:${path.join(makeTempDir('console-hub'), 'hub.sqlite')}`;
  const hub = await spawnHub({
    dbUrl,
    mqttUrl: broker.url,
    shareGroup: 'console-hubs',
    extraEnv: { OUTPOST_CONSOLE__FILES_DIR: options.consoleDir, ...options.extraEnv },
  });
  const sims: ConsoleStoreSim[] = [];
  return {
    broker,
    hub,
    url: hub.url,
    token: hub.token,
    sims,
    async connectStore(storeId) {
      const sim = await ConsoleStoreSim.connect(broker.url, storeId);
      sims.push(sim);
      return sim;
    },
    async stop() {
      await Promise.all(sims.map((s) => s.close().catch(() => undefined)));
      await hub.kill('SIGTERM');
      await broker.stop();
      await database?.drop();
    },
  };
}

/** Signs the page in with the operator token and waits for the console (the page its URL names). */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 15_000 });
}

/** The store ids in the order the stores list shows them. */
export async function storeOrder(page: Page): Promise<string[]> {
  return page
    .getByTestId('store-row')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-store-id') ?? ''));
}

/** A marker on the page's window object: still there later means the page was never reloaded. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
}
export const stillSamePage = (page: Page): Promise<boolean> =>
  page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce === true);

/** What a withheld marker names of the sale (the agent's does, so the dead letter says which sale it is). */
function tillOf(text: string): { terminalId?: string; transactionId?: string } {
  const body = JSON.parse(text) as { terminalId?: unknown; transactionId?: unknown };
  return {
    ...(typeof body.terminalId === 'string' ? { terminalId: body.terminalId } : {}),
    ...(typeof body.transactionId === 'string' ? { transactionId: body.transactionId } : {}),
  };
}

/** One event of a simulated store's outbox. */
export interface ConsoleSimEvent {
  seq: number;
  eventId: string;
  type: StoreEventType;
  text: string;
  /** Sent as a withheld marker (no body) until retried: a sale too large for the broker. */
  withheld: string | null;
  state: 'pending' | 'acked' | 'dead' | 'discarded';
  reason: string | null;
}

/**
 * A store agent reduced to what the console shows of it, over a real broker: an outbox in memory (one
 * epoch), batches published and settled on their own `batch` acknowledgement (refused seqs become dead
 * letters, as at the agent), a retained status with its backlog and its answers to commands, a last
 * will, and a keep-alive short enough that losing the link shows at head office within seconds. It
 * answers head office's commands as the agent is to: retry (the dead letter queued again under a new
 * seq), discard (kept with the note), resend (published again, then a resend report), each requestId once.
 */
export class ConsoleStoreSim {
  readonly events = new Map<number, ConsoleSimEvent>();
  readonly commands: StoreCommand[] = [];
  readonly answers: CommandAnswer[] = [];
  /** While set, commands wait in `held` unanswered (a store busy or slow to handle them) until `release()`. */
  holdCommands = false;
  private readonly held: StoreCommand[] = [];
  private lastSeq = 0;

  private constructor(
    private client: MqttClient,
    private readonly url: string,
    readonly storeId: string,
    readonly epoch: string,
  ) {
    this.listen(client);
  }

  static async connect(url: string, storeId: string): Promise<ConsoleStoreSim> {
    return new ConsoleStoreSim(
      await ConsoleStoreSim.link(url, storeId),
      url,
      storeId,
      randomBytes(8).toString('hex'),
    );
  }

  /** A clean session with a last will, and a keep-alive of 1 s: a dead link is noticed in about 1.5 s. */
  private static async link(url: string, storeId: string): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, {
      clientId: `console-sim-${storeId}-${randomBytes(4).toString('hex')}`,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
      keepalive: 1,
      clean: true,
      protocolVersion: 4,
      will: {
        topic: topic.status(storeId),
        payload: Buffer.from(JSON.stringify({ v: 1, state: 'offline' })),
        qos: 1,
        retain: true,
      },
    });
    await client.subscribeAsync([topic.acks(storeId), topic.commands(storeId)], { qos: 1 });
    return client;
  }

  private listen(client: MqttClient): void {
    client.on('message', (t, payload) => {
      if (t === topic.acks(this.storeId)) this.onAck(payload);
      else if (t === topic.commands(this.storeId)) {
        const command = storeCommandSchema.parse(JSON.parse(payload.toString('utf8')));
        this.commands.push(command);
        if (this.holdCommands) this.held.push(command);
        else void this.handle(command);
      }
    });
  }

  /** Connects again (clean session, as the agent does) and says so in its retained status. */
  async reconnect(): Promise<void> {
    this.client = await ConsoleStoreSim.link(this.url, this.storeId);
    this.listen(this.client);
    await this.publishStatus();
  }

  /** Handles the commands held so far, in order. */
  async release(): Promise<void> {
    this.holdCommands = false;
    for (const command of this.held.splice(0)) await this.handle(command);
  }

  capture(
    type: StoreEventType,
    body: Record<string, unknown>,
    withheld: string | null = null,
  ): ConsoleSimEvent {
    const seq = ++this.lastSeq;
    const event: ConsoleSimEvent = {
      seq,
      eventId: `01CSIM${this.storeId.replace(/[^A-Za-z0-9]/g, '')}${this.epoch.slice(0, 6)}${String(seq).padStart(8, '0')}`,
      type,
      text: JSON.stringify(body),
      withheld,
      state: 'pending',
      reason: null,
    };
    this.events.set(seq, event);
    return event;
  }

  /** Events waiting to be sent (what the status reports as backlog). */
  backlog(): number {
    return [...this.events.values()].filter((e) => e.state === 'pending').length;
  }

  deadLetters(): ConsoleSimEvent[] {
    return [...this.events.values()].filter((e) => e.state === 'dead');
  }

  /** Publishes every pending event, batch by batch, until head office has answered all of them (bounded). */
  async deliver(timeoutMs = 20_000): Promise<void> {
    await waitUntil(
      `store ${this.storeId}: every event answered by head office`,
      async () => {
        const pending = [...this.events.values()].filter((e) => e.state === 'pending');
        if (pending.length === 0) return true;
        await this.publishEvents(pending);
        await new Promise((r) => setTimeout(r, 300));
        return [...this.events.values()].every((e) => e.state !== 'pending') ? true : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** Publishes these events as they are, acknowledged or not (a gap, a second writer's copy). */
  async publishEvents(
    events: readonly Pick<ConsoleSimEvent, 'seq' | 'eventId' | 'type' | 'text' | 'withheld'>[],
  ) {
    for (let i = 0; i < events.length; i += 50) {
      const message = {
        v: 1,
        storeId: this.storeId,
        epoch: this.epoch,
        events: events.slice(i, i + 50).map((e) => ({
          seq: e.seq,
          eventId: e.eventId,
          type: e.type,
          capturedAt: '2026-11-23T10:15:00.000Z',
          ...(e.withheld ? { withheld: { reason: e.withheld, ...tillOf(e.text) } } : { body: e.text }),
        })),
      };
      await this.client.publishAsync(topic.events(this.storeId), JSON.stringify(message), { qos: 1 });
    }
  }

  statusMessage(extra: Partial<StoreStatusMessage> = {}): StoreStatusMessage {
    return {
      v: 1,
      state: 'online',
      at: new Date().toISOString(),
      epoch: this.epoch,
      backlog: this.backlog(),
      ...(this.answers.length > 0 ? { commands: this.answers.slice(0, 20) } : {}),
      version: 'console-sim',
      ...extra,
    };
  }

  async publishStatus(extra: Partial<StoreStatusMessage> = {}): Promise<void> {
    await this.client.publishAsync(topic.status(this.storeId), JSON.stringify(this.statusMessage(extra)), {
      qos: 1,
      retain: true,
    });
  }

  /** The link dies without a goodbye (a cable pulled, a PC switched off): the broker publishes the last will. */
  dropConnection(): void {
    this.client.stream.destroy();
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }

  private onAck(payload: Buffer): void {
    const parsed = batchAckSchema.safeParse(JSON.parse(payload.toString('utf8')));
    if (!parsed.success || parsed.data.epoch !== this.epoch) return;
    const { batch, rejected } = parsed.data;
    if (this.events.get(batch.lastSeq)?.eventId !== batch.lastEventId) return;
    const refused = new Map(rejected.map((r) => [r.seq, r.reason]));
    for (let seq = batch.firstSeq; seq <= batch.lastSeq; seq++) {
      const event = this.events.get(seq);
      if (!event || event.state !== 'pending') continue;
      const reason = refused.get(seq);
      event.state = reason === undefined ? 'acked' : 'dead';
      event.reason = reason ?? null;
    }
  }

  private async handle(command: StoreCommand): Promise<void> {
    if (command.kind === 'resend') {
      const retained = retainedFrom(this.events.values(), command.fromSeq);
      await this.publishEvents(retained);
      await this.client.publishAsync(
        topic.events(this.storeId),
        resendReport(this.storeId, this.epoch, command, retained, this.lastSeq),
        { qos: 1 },
      );
      return;
    }
    // A requestId is handled once: asked again, the store repeats its answer.
    if (!this.answers.some((a) => a.requestId === command.requestId)) {
      const dead = [...this.events.values()].find((e) => e.eventId === command.eventId && e.state === 'dead');
      let answer: CommandAnswer;
      const at = new Date().toISOString();
      if (!dead) {
        answer = {
          requestId: command.requestId,
          kind: command.kind,
          outcome: 'refused',
          message: `no dead letter ${command.eventId}`,
          at,
        };
      } else if (command.kind === 'retry-dead-letter') {
        // As the agent's retry: the same event, the next seq of the epoch, sent whole.
        this.events.delete(dead.seq);
        const seq = ++this.lastSeq;
        this.events.set(seq, { ...dead, seq, state: 'pending', withheld: null, reason: null });
        answer = {
          requestId: command.requestId,
          kind: command.kind,
          outcome: 'done',
          message: `queued again as seq ${seq}`,
          at,
        };
      } else {
        dead.state = 'discarded';
        answer = {
          requestId: command.requestId,
          kind: command.kind,
          outcome: 'done',
          message: `discarded: ${command.note}`,
          at,
        };
      }
      this.answers.unshift(answer);
    }
    await this.publishStatus();
    if (this.backlog() > 0) await this.deliver();
  }
}
