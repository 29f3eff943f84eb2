import { afterEach, describe, expect, it } from 'vitest';
import type { ChainDaySummary, StoreDayView } from '../../src/hub/index.js';
import { DAY, SALE_TOTAL, tillClose, tillSale, txId } from '../support/day-close-fixtures.js';
import { hubDatabase, startTestHub, type HubDbKind, type TestHub } from '../support/hub-in-process.js';
import { startMosquitto } from '../support/mosquitto.js';
import { StoreSimulator, waitUntil } from '../support/store-simulator.js';

/**
 * End-of-day proof through a real Mosquitto and both hub databases: stores (simulated, speaking the real
 * protocol) send their sales and their tills' closes; head office judges each close against what it holds,
 * answers with a `day` verdict on the store's acks topic, and shows the day per store and chain-wide.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** The hub's today is two days after the trading day (time runs on), so the day counts in the day gauges. */
const OFFSET = Date.parse(`${DAY}T12:00:00Z`) + 2 * 86_400_000 - Date.now();
const clock = { now: () => Date.now() + OFFSET, monotonic: () => performance.now() };

async function setUp(kind: HubDbKind): Promise<{ hub: TestHub; brokerUrl: string }> {
  const broker = await startMosquitto();
  cleanups.push(() => broker.stop());
  const db = await hubDatabase(kind);
  cleanups.push(() => db.drop());
  const hub = await startTestHub({ dbUrl: db.url, mqttUrl: broker.url, deps: { clock } });
  cleanups.push(() => hub.hub.stop());
  await waitUntil('the hub online', async () =>
    (await hub.get('/healthz', null)).status === 200 ? true : undefined,
  );
  return { hub, brokerUrl: broker.url };
}

async function store(brokerUrl: string, storeId: string, epoch: string): Promise<StoreSimulator> {
  const sim = await StoreSimulator.connect(brokerUrl, storeId, epoch);
  cleanups.push(() => sim.close());
  return sim;
}

describe.each(['postgres', 'sqlite'] as const)('business days at head office (%s)', (kind) => {
  it('confirms a day every till closed with what head office holds, and says so to the store and the operator', async () => {
    const { hub, brokerUrl } = await setUp(kind);
    const s1 = await store(brokerUrl, 'S1', 'a1a1a1a1a1a1a1a1');
    for (let n = 1; n <= 3; n++) s1.capture('sale', tillSale('T1', n));
    for (let n = 1; n <= 2; n++) s1.capture('sale', tillSale('T2', n));
    s1.capture('day-close', { ...tillClose('T1', { sales: 3, zNumber: 'Z-0042' }) });
    s1.capture('day-close', { ...tillClose('T2', { sales: 2, listIds: true }) });
    await s1.deliver();

    expect(await s1.waitForVerdict('T1', DAY, () => true)).toMatchObject({
      state: 'confirmed',
      differences: { missing: [], extra: [], totals: [] },
    });
    expect((await s1.waitForVerdict('T2', DAY, () => true)).state).toBe('confirmed');

    const { status, body } = await hub.get<StoreDayView>(`/v1/stores/S1/days/${DAY}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ storeId: 'S1', businessDay: DAY, state: 'confirmed' });
    expect(body.tills.map((t) => [t.terminalId, t.state, t.zNumber])).toEqual([
      ['T1', 'confirmed', 'Z-0042'],
      ['T2', 'confirmed', null],
    ]);
    // The till's Z totals beside head office's.
    expect(body.tills[0]!.totals).toEqual([
      {
        type: 'sale',
        currency: 'EUR',
        till: { count: 3, amount: 3 * SALE_TOTAL },
        headOffice: { count: 3, amount: 3 * SALE_TOTAL },
      },
    ]);

    const chain = await hub.get<ChainDaySummary>(`/v1/days/${DAY}`);
    expect(chain.body).toMatchObject({ confirmed: ['S1'], mismatch: [], notClosed: [] });
    expect(await hub.metric('outpost_hub_store_days_not_confirmed', '{store="S1"}')).toBe(0);
  });

  it('reads mismatch for a sale the POS counted but never submitted, naming the till and the transaction', async () => {
    const { hub, brokerUrl } = await setUp(kind);
    const s2 = await store(brokerUrl, 'S2', 'b2b2b2b2b2b2b2b2');
    const s3 = await store(brokerUrl, 'S3', 'c3c3c3c3c3c3c3c3');
    // Till T2 of S2 rang up T2-0002 but it never reached the agent; T3 sold and has not closed yet.
    s2.capture('sale', tillSale('T1', 1));
    s2.capture('sale', tillSale('T2', 1));
    s2.capture('sale', tillSale('T2', 3));
    s2.capture('sale', tillSale('T3', 1));
    s2.capture('day-close', { ...tillClose('T1', { sales: 1 }) });
    s2.capture('day-close', { ...tillClose('T2', { sales: 3 }) });
    await s2.deliver();
    s3.capture('sale', tillSale('T1', 1));
    await s3.deliver();

    const verdict = await s2.waitForVerdict('T2', DAY, () => true);
    expect(verdict).toMatchObject({
      terminalId: 'T2',
      businessDay: DAY,
      state: 'mismatch',
      differences: {
        missing: [txId('T2', 2)],
        extra: [],
        totals: [
          {
            type: 'sale',
            currency: 'EUR',
            till: { count: 3, amount: 3 * SALE_TOTAL },
            headOffice: { count: 2, amount: 2 * SALE_TOTAL },
          },
        ],
      },
    });
    expect((await s2.waitForVerdict('T1', DAY, () => true)).state).toBe('confirmed');

    const { body } = await hub.get<StoreDayView>(`/v1/stores/S2/days/${DAY}`);
    expect(body.state).toBe('mismatch');
    expect(body.tills.map((t) => [t.terminalId, t.state])).toEqual([
      ['T1', 'confirmed'],
      ['T2', 'mismatch'],
      ['T3', 'not-closed'],
    ]);
    expect(body.tills[1]!.differences?.missing).toEqual([txId('T2', 2)]);

    const chain = await hub.get<ChainDaySummary>(`/v1/days/${DAY}`);
    expect(chain.body).toEqual({
      businessDay: DAY,
      counts: { stores: 2, confirmed: 0, mismatch: 1, notClosed: 1 },
      confirmed: [],
      mismatch: [{ storeId: 'S2', mismatched: ['T2'], notClosed: ['T3'] }],
      notClosed: [{ storeId: 'S3', notClosed: ['T1'] }],
    });
    await waitUntil('the per-store day gauges', async () =>
      (await hub.metric('outpost_hub_store_days_mismatched', '{store="S2"}')) === 1 ? true : undefined,
    );
    expect(await hub.metric('outpost_hub_store_days_not_confirmed', '{store="S3"}')).toBe(1);
  });

  it('turns a close that came before the last sales into confirmed when they arrive, and tells the store', async () => {
    const { hub, brokerUrl } = await setUp(kind);
    const s4 = await store(brokerUrl, 'S4', 'd4d4d4d4d4d4d4d4');
    s4.capture('sale', tillSale('T1', 1));
    s4.capture('day-close', { ...tillClose('T1', { sales: 2 }) });
    await s4.deliver();
    expect(await s4.waitForVerdict('T1', DAY, () => true)).toMatchObject({
      state: 'mismatch',
      differences: { missing: [txId('T1', 2)] },
    });

    // The till's last sale reaches the store late (a POS retry after its own outage).
    s4.capture('sale', tillSale('T1', 2));
    await s4.deliver();
    const confirmed = await s4.waitForVerdict('T1', DAY, (d) => d.state === 'confirmed');
    expect(confirmed.differences).toEqual({ missing: [], extra: [], totals: [] });
    expect(s4.verdictLog.map((d) => d.state)).toEqual(['mismatch', 'confirmed']);
    expect((await hub.get<StoreDayView>(`/v1/stores/S4/days/${DAY}`)).body.state).toBe('confirmed');
  });
});

describe('the day routes of the operator API', () => {
  it('refuse a malformed day by name, an unknown store by name, and a missing token', async () => {
    const { hub, brokerUrl } = await setUp('sqlite');
    const s5 = await store(brokerUrl, 'S5', 'e5e5e5e5e5e5e5e5');
    await s5.publishStatus();
    await waitUntil('the hub to know S5', async () =>
      (await hub.get(`/v1/stores/S5/days/${DAY}`)).status === 200 ? true : undefined,
    );

    for (const path of ['/v1/stores/S5/days/2026-02-30', '/v1/days/23.11.2026']) {
      const { status, body } = await hub.get<{ error: string }>(path);
      expect(status, path).toBe(400);
      expect(body.error).toMatch(/^invalid business day "(2026-02-30|23\.11\.2026)": /);
    }
    const unknown = await hub.get<{ error: string }>(`/v1/stores/NOPE/days/${DAY}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain('store NOPE is not known');
    expect((await hub.get(`/v1/days/${DAY}`, null)).status).toBe(401);

    // A store that traded nothing and closed nothing that day proves nothing: not closed.
    const { body } = await hub.get<StoreDayView>(`/v1/stores/S5/days/${DAY}`);
    expect(body).toMatchObject({
      state: 'not-closed',
      tills: [],
      unsent: { count: 0, reportedBy: 'status' },
    });
  });

  it("exposes each store's health from its status as per-store series", async () => {
    const { hub, brokerUrl } = await setUp('sqlite');
    const s6 = await store(brokerUrl, 'S6', 'f6f6f6f6f6f6f6f6');
    s6.capture('sale', tillSale('T1', 1));
    await s6.deliver();
    // Two more wait at the store; the oldest was captured an hour before the hub's "now".
    s6.capture('sale', tillSale('T1', 2));
    s6.capture('sale', tillSale('T1', 3));
    const oldestUnsentAt = new Date(clock.now() - 3_600_000).toISOString();
    await s6.publishStatus({ oldestUnsentAt });
    await waitUntil('the status recorded', async () =>
      (await hub.metric('outpost_hub_store_backlog', '{store="S6"}')) === 2 ? true : undefined,
    );
    expect(await hub.metric('outpost_hub_store_online', '{store="S6"}')).toBe(1);
    const age = await hub.metric('outpost_hub_store_oldest_unsent_age_seconds', '{store="S6"}');
    expect(age).toBeGreaterThanOrEqual(3599);
    expect(age).toBeLessThan(3700);
    expect(await hub.metric('outpost_hub_store_open_gaps', '{store="S6"}')).toBe(0);
    expect(await hub.metric('outpost_hub_store_contiguous_lag', '{store="S6"}')).toBe(0);
    expect(await hub.metric('outpost_hub_store_quarantined', '{store="S6"}')).toBe(0);
    // One label only: the store.
    const { body } = await hub.get<string>('/metrics');
    for (const line of body.split('\n').filter((l) => l.startsWith('outpost_hub_store_')))
      expect(line).toMatch(/^outpost_hub_store_[a-z_]+\{store="[^"]+"\} [0-9.e+-]+$/);
  });
});
