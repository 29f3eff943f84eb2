import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import type { DayClose } from '../../src/contracts/day-close.js';
import { agentStatusSchema, type AgentStatus, type DayStatus } from '../../src/contracts/status.js';
import type { StoredEvent, StoreDayView, StoreSummary } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { DAY, tillClose, tillSale, txId } from '../support/day-close-fixtures.js';
import { hubDatabase, OPERATOR_TOKEN, startTestHub, type TestHub } from '../support/hub-in-process.js';
import { plainBrokerConfig } from '../support/mosquitto-binary.js';
import { startMosquitto } from '../support/mosquitto.js';
import { POSTGRES_ADMIN_URL } from '../support/postgres.js';
import { recordingLogger, waitUntil } from '../support/store-simulator.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * End of day and resync, end to end on what runs in production: a private Mosquitto, real hubs on a real
 * PostgreSQL database, real store agents (in this process, real SQLite outboxes), tills speaking the
 * agent's HTTP API. The tills close their days; head office's verdict is read at the hub
 * (`GET /v1/stores/{id}/days/{day}`) and in the agent's `/v1/status`. Head office's database is restored
 * from a `pg_dump` taken mid-day, and gets back from the agents exactly once what they still hold. The
 * operator's console retries and discards a store's dead letters.
 */

const run = promisify(execFile);

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

const TILLS = [
  { id: 'T1', token: 'till-one-secret-token-0001' },
  { id: 'T2', token: 'till-two-secret-token-0002' },
];
const tokenOf = (terminalId: string) => TILLS.find((t) => t.id === terminalId)!.token;

/** A clock the test moves forward (days pass between the backup and the restore). */
function movableClock() {
  let offset = 0;
  return {
    clock: { now: () => Date.now() + offset, monotonic: () => performance.now() },
    advance: (ms: number) => (offset += ms),
  };
}

interface Store {
  agent: RunningAgent;
  storeId: string;
  dataDir: string;
  sell(terminalId: string, n: number): Promise<void>;
  close(body: DayClose): Promise<void>;
  status(): Promise<AgentStatus>;
  stop(): Promise<void>;
}

async function startStore(options: {
  storeId: string;
  brokerUrl: string;
  dataDir?: string;
  clock?: { now(): number; monotonic(): number };
  retentionDays?: number;
  protocolVersion?: 5;
}): Promise<Store> {
  const dataDir = options.dataDir ?? makeTempDir('eod-agent');
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: options.storeId,
      dataDir,
      timeZone: 'Europe/Paris',
      api: { host: '127.0.0.1', port: 0, terminals: TILLS },
      mqtt: {
        url: options.brokerUrl,
        ...(options.protocolVersion ? { protocolVersion: options.protocolVersion } : {}),
      },
      outbox: { ackedRetentionDays: options.retentionDays ?? 30 },
      sync: { lingerMs: 1, reconnectInitialMs: 50, reconnectMaxMs: 300, ackTimeoutMs: 3000 },
    }),
    { logger: silentLogger(), ...(options.clock ? { clock: options.clock } : {}) },
  );
  cleanups.push(() => agent.stop());
  const post = async (urlPath: string, terminalId: string, body: unknown) => {
    const response = await fetch(`${agent.url}${urlPath}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf(terminalId)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`${urlPath}: ${response.status} ${await response.text()}`);
  };
  return {
    agent,
    storeId: options.storeId,
    dataDir,
    sell: (terminalId, n) => post('/v1/transactions', terminalId, tillSale(terminalId, n)),
    close: (body) => post(`/v1/business-days/${body.businessDay}/close`, body.terminalId, body),
    status: async () => agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json()),
    stop: () => agent.stop(),
  };
}

async function startHub(dbUrl: string, brokerUrl: string, hubId = 'hub-1', logger = silentLogger()) {
  const hub = await startTestHub({
    dbUrl,
    mqttUrl: brokerUrl,
    hubId,
    deps: { logger },
    config: { resync: { reaskAfterMs: 2_000, sweepEveryMs: 200 } },
  });
  cleanups.push(() => hub.hub.stop());
  await waitUntil('the hub online', async () =>
    (await hub.get('/healthz', null)).status === 200 ? true : undefined,
  );
  return hub;
}

async function setUp(brokerConfig?: string[]) {
  const broker = await startMosquitto(
    brokerConfig
      ? { config: (_dir, port) => `${plainBrokerConfig(port)}\n${brokerConfig.join('\n')}\n` }
      : {},
  );
  cleanups.push(() => broker.stop());
  const db = await hubDatabase('postgres');
  cleanups.push(() => db.drop());
  const hub = await startHub(db.url, broker.url);
  return { broker, db, hub };
}

const storeDay = async (hub: TestHub, storeId: string) =>
  (await hub.get<StoreDayView>(`/v1/stores/${storeId}/days/${DAY}`)).body;

/** The agent's view of the day once it reads `state`. */
const agentDay = (store: Store, state: DayStatus['state']) =>
  waitUntil(`store ${store.storeId}: the day ${state} in its status`, async () => {
    const day = (await store.status()).days?.find((d) => d.businessDay === DAY);
    return day?.state === state ? day : undefined;
  });

const hubDay = (hub: TestHub, storeId: string, state: string) =>
  waitUntil(`head office: ${storeId}'s day ${state}`, async () => {
    const day = await storeDay(hub, storeId);
    return day.state === state ? day : undefined;
  });

describe('a business day closed by the tills', () => {
  it('is confirmed at head office and in the store’s status', async () => {
    const { broker, hub } = await setUp();
    const store = await startStore({ storeId: 'S1', brokerUrl: broker.url });
    for (let n = 1; n <= 3; n++) await store.sell('T1', n);
    for (let n = 1; n <= 2; n++) await store.sell('T2', n);
    await store.close(tillClose('T1', { sales: 3, zNumber: 'Z-0815' }));
    await store.close(tillClose('T2', { sales: 2, listIds: true }));

    const day = await hubDay(hub, 'S1', 'confirmed');
    expect(day.tills.map((t) => [t.terminalId, t.state, t.zNumber])).toEqual([
      ['T1', 'confirmed', 'Z-0815'],
      ['T2', 'confirmed', null],
    ]);
    const atStore = await agentDay(store, 'confirmed');
    expect(atStore.tills.map((t) => [t.terminalId, t.state])).toEqual([
      ['T1', 'confirmed'],
      ['T2', 'confirmed'],
    ]);
    // Judged today, a week after the business day: the date is named with the time.
    expect(atStore.message).toMatch(
      /^Monday 23 November: 5 sales, €30\.45, confirmed by head office (at|on \d+ \w+ at) \d\d:\d\d\.$/,
    );
  });

  it('reads mismatch, at head office and in the store, for a sale the till counted but never submitted', async () => {
    const { broker, hub } = await setUp();
    const store = await startStore({ storeId: 'S2', brokerUrl: broker.url });
    // The till made four sales; the third never reached the agent.
    for (const n of [1, 2, 4]) await store.sell('T1', n);
    await store.close(tillClose('T1', { sales: 4 }));

    const day = await hubDay(hub, 'S2', 'mismatch');
    expect(day.tills).toEqual([
      expect.objectContaining({
        terminalId: 'T1',
        state: 'mismatch',
        differences: expect.objectContaining({ missing: [txId('T1', 3)] }),
      }),
    ]);
    const atStore = await agentDay(store, 'mismatch');
    expect(atStore.message).toBe(
      'Monday 23 November: till T1 does not match head office: short 1 sale (€6.09); missing at head office: T1-0003.',
    );
    expect((await store.status()).problems).toContainEqual(
      expect.objectContaining({ code: 'day-mismatch', message: atStore.message }),
    );
  });

  it('becomes confirmed once the day’s last sales arrive after the close', async () => {
    const { broker, hub } = await setUp();
    const store = await startStore({ storeId: 'S3', brokerUrl: broker.url });
    for (const n of [1, 2]) await store.sell('T1', n);
    // The till closes while its last sale is still on its way (a POS retrying after a network blip).
    await store.close(tillClose('T1', { sales: 3 }));
    await hubDay(hub, 'S3', 'mismatch');
    await agentDay(store, 'mismatch');

    await store.sell('T1', 3);
    const day = await hubDay(hub, 'S3', 'confirmed');
    expect(day.tills[0]).toMatchObject({ terminalId: 'T1', state: 'confirmed' });
    expect(day.tills[0]!.differences?.missing ?? []).toEqual([]);
    await agentDay(store, 'confirmed');
  });
});

async function pgDump(url: string, file: string): Promise<void> {
  await run('pg_dump', ['--no-owner', '--format=plain', '--file', file, url]);
}

/** Replaces the database with the dump, as an operator restoring a backup would: drop, create, psql. */
async function restore(url: string, file: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  await run('psql', ['-v', 'ON_ERROR_STOP=1', '--quiet', '--file', file, url]);
}

const DAY_MS = 86_400_000;

describe('a hub database restored from a pg_dump taken mid-day', () => {
  it('gets back, exactly once, everything the real agents still hold, and reports what they no longer had', async () => {
    const { broker, db, hub } = await setUp();
    const dump = path.join(makeTempDir('eod-dump'), 'hub.sql');
    const time = movableClock();
    // S1 keeps acknowledged sales one day; S2 keeps them thirty.
    const s1 = await startStore({
      storeId: 'S1',
      brokerUrl: broker.url,
      clock: time.clock,
      retentionDays: 1,
    });
    const s2 = await startStore({ storeId: 'S2', brokerUrl: broker.url, clock: time.clock });
    const acknowledged = async (store: Store, through: number) =>
      waitUntil(`store ${store.storeId}: acknowledged through ${through}`, async () => {
        const s = await store.status();
        return s.backlog.count === 0 && s.lastAck?.seq === through ? true : undefined;
      });

    // Morning: the backup is taken after ten sales at S1 and five at S2.
    for (let n = 1; n <= 10; n++) await s1.sell('T1', n);
    for (let n = 1; n <= 5; n++) await s2.sell('T1', n);
    await acknowledged(s1, 10);
    await acknowledged(s2, 5);
    await pgDump(db.url, dump);

    // Four more at S1, three at S2, acknowledged. Two days later the rest of the day is captured (a
    // store that traded offline), with the till's close; head office confirms both days.
    for (let n = 11; n <= 14; n++) await s1.sell('T1', n);
    for (let n = 6; n <= 8; n++) await s2.sell('T1', n);
    await acknowledged(s1, 14);
    await acknowledged(s2, 8);
    time.advance(2 * DAY_MS);
    for (let n = 15; n <= 24; n++) await s1.sell('T1', n);
    await s1.close(tillClose('T1', { sales: 24 }));
    await s2.close(tillClose('T1', { sales: 8 }));
    await agentDay(s1, 'confirmed');
    await agentDay(s2, 'confirmed');
    const epochs = { S1: s1.agent.outbox.epoch, S2: s2.agent.outbox.epoch };
    const sent = new Map<string, Map<number, string>>();
    for (const store of [s1, s2])
      sent.set(
        store.storeId,
        new Map(
          (
            store.agent.outbox.database.prepare('SELECT seq, body FROM event_log').all() as {
              seq: number;
              body: string;
            }[]
          ).map((r) => [r.seq, r.body]),
        ),
      );

    // Head office's database is restored from the morning's dump. S1 restarts meanwhile and prunes what
    // it acknowledged more than a day ago: seqs 1–14 are gone from it.
    await s1.stop();
    await hub.hub.stop();
    await restore(db.url, dump);
    const s1Again = await startStore({
      storeId: 'S1',
      brokerUrl: broker.url,
      clock: time.clock,
      retentionDays: 1,
      dataDir: s1.dataDir,
    });
    expect(s1Again.agent.outbox.database.prepare('SELECT min(seq) FROM events').pluck().get()).toBe(15);

    // Two hubs start on the restored database.
    const hubs = await Promise.all(
      ['hub-a', 'hub-b'].map(async (hubId) => {
        const logs = recordingLogger();
        return { hub: await startHub(db.url, broker.url, hubId, logs.logger), logs };
      }),
    );
    const [a] = hubs;
    const epochAt = async (storeId: 'S1' | 'S2') =>
      (await a!.hub.get<{ stores: StoreSummary[] }>('/v1/stores')).body.stores
        .find((s) => s.storeId === storeId)
        ?.epochs.find((e) => e.epoch === epochs[storeId]);
    const answered = (storeId: 'S1' | 'S2', lastSeq: number) =>
      waitUntil(
        `${storeId}: the resend answered and its events back`,
        async () => {
          const e = await epochAt(storeId);
          return e?.resend?.answeredAt && e.lastSeq === lastSeq ? e : undefined;
        },
        { timeoutMs: 30_000, describe: () => undefined },
      );

    // S1 still had 15–25 (the close is 25); 11–14 it no longer had: unrecoverable, not a gap.
    expect(await answered('S1', 25)).toMatchObject({
      contiguousThrough: 10,
      gaps: [],
      unrecoverable: [{ from: 11, to: 14 }],
      stored: 21,
      duplicates: 0,
      resend: { fromSeq: 11, ackedThrough: 25, availableFrom: 15, storeThrough: 25 },
    });
    // S2 had everything head office lost: complete again.
    expect(await answered('S2', 9)).toMatchObject({
      contiguousThrough: 9,
      gaps: [],
      unrecoverable: [],
      stored: 9,
      duplicates: 0,
      resend: { fromSeq: 6, availableFrom: 6, storeThrough: 9 },
    });

    // Exactly once, and exactly as the tills sent them.
    for (const [storeId, expected] of [
      [
        'S1',
        [...Array.from({ length: 10 }, (_, i) => i + 1), ...Array.from({ length: 11 }, (_, i) => i + 15)],
      ],
      ['S2', Array.from({ length: 9 }, (_, i) => i + 1)],
    ] as const) {
      const { body } = await a!.hub.get<{ events: StoredEvent[] }>(
        `/v1/stores/${storeId}/transactions?epoch=${epochs[storeId]}&limit=5000`,
      );
      expect(body.events.map((e) => e.seq)).toEqual(expected);
      for (const e of body.events) {
        expect(e.status).toBe('stored');
        expect(JSON.stringify(e.body)).toBe(JSON.stringify(JSON.parse(sent.get(storeId)!.get(e.seq)!)));
      }
    }
    // One resend command per store, from one of the two hubs.
    const firstAsks = await Promise.all(
      hubs.map((h) => h.hub.metric('outpost_hub_resend_commands_total', '{ask="first"}')),
    );
    expect(firstAsks.reduce((n, v) => (n ?? 0) + (v ?? 0), 0)).toBe(2);
    // What S1 no longer had is said where an operator looks first.
    expect(
      hubs.flatMap((h) =>
        h.logs.entries.filter(
          (l) => l.message === 'the store no longer had events head office lost: they are unrecoverable',
        ),
      ),
    ).toEqual([
      expect.objectContaining({ storeId: 'S1', unrecoverableFrom: 11, unrecoverableTo: 14, count: 4 }),
    ]);

    // The re-sent close is judged again: S1's day names exactly what was lost, at head office and in the store.
    const s1Day = await hubDay(a!.hub, 'S1', 'mismatch');
    expect(s1Day.tills[0]!.differences!.missing).toEqual([11, 12, 13, 14].map((n) => txId('T1', n)));
    const atStore = await agentDay(s1Again, 'mismatch');
    expect(atStore.message).toContain('missing at head office: T1-0011, T1-0012, T1-0013, T1-0014');
    expect((await hubDay(a!.hub, 'S2', 'confirmed')).tills[0]!.state).toBe('confirmed');
  });
});

describe('the operator’s console', () => {
  /** A valid sale of about 46 KB: more than the broker below takes in one message. */
  const bigSale = (n: number) => ({
    ...tillSale('T1', n),
    extensions: Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`field${i}`, `${i}:`.padEnd(900, 'x')]),
    ),
  });

  it('retries and discards a real store’s dead letters, and the store does it', async () => {
    const { broker, hub } = await setUp(['max_packet_size 32768']);
    const store = await startStore({ storeId: 'S4', brokerUrl: broker.url, protocolVersion: 5 });
    await store.sell('T1', 1);
    for (const n of [2, 3]) {
      const response = await fetch(`${store.agent.url}/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokenOf('T1')}`, 'content-type': 'application/json' },
        body: JSON.stringify(bigSale(n)),
      });
      expect(response.status).toBe(201);
    }
    await store.sell('T1', 4);
    // Too large for the broker: withheld, refused by head office, dead letters at the store.
    const letters = await waitUntil('two dead letters at the store', async () => {
      const s = await store.status();
      return s.deadLetters.count === 2 && s.backlog.count === 0 ? s.deadLetters.items : undefined;
    });
    const [retried, discarded] = letters.map((l) => l.eventId);

    const act = (urlPath: string, body: object) =>
      fetch(`${hub.hub.url}${urlPath}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${OPERATOR_TOKEN}`,
          'content-type': 'application/json',
          'x-outpost-action': '1',
        },
        body: JSON.stringify(body),
      });
    await waitUntil('head office to count the dead letters', async () => {
      const { body } = await hub.get<{ deadLetters: { eventId: string }[] }>('/v1/console/stores/S4');
      return body.deadLetters.length === 2 ? true : undefined;
    });
    expect(
      (await act(`/v1/console/stores/S4/dead-letters/${retried}/retry`, { note: 'broker limit raised' }))
        .status,
    ).toBe(202);
    expect(
      (await act(`/v1/console/stores/S4/dead-letters/${discarded}/discard`, { note: 'duplicate of T1-0002' }))
        .status,
    ).toBe(202);

    // The store acted: one queued again under the next seq (and refused again: the broker is unchanged),
    // the other kept on record as discarded with the operator's note.
    await waitUntil('the discard done at the store', async () => {
      const s = await store.status();
      return s.deadLetters.items.find((d) => d.eventId === discarded)?.state === 'discarded'
        ? true
        : undefined;
    });
    const after = await store.status();
    expect(after.deadLetters.items.find((d) => d.eventId === discarded)!.reason).toContain(
      'an operator at head office: duplicate of T1-0002',
    );
    const again = await waitUntil('the retried one sent again under seq 5', async () => {
      const d = (await store.status()).deadLetters.items.find((x) => x.eventId === retried);
      return d && d.seq === 5 ? d : undefined;
    });
    expect(again.state).toBe('dead');

    // Head office shows both commands answered by the store.
    const commands = await waitUntil('both commands done at head office', async () => {
      const { body } = await hub.get<{ commands: { kind: string; state: string; answer: string | null }[] }>(
        '/v1/console/stores/S4',
      );
      return body.commands.every((c) => c.state === 'done') && body.commands.length === 2
        ? body.commands
        : undefined;
    });
    expect(commands).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'retry-dead-letter', answer: 'queued again as seq 5' }),
        expect.objectContaining({
          kind: 'discard-dead-letter',
          answer: 'discarded; kept on record with the note',
        }),
      ]),
    );
  });
});
