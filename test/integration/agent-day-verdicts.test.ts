import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import type { DayResult } from '../../src/contracts/day-close.js';
import { agentStatusSchema, type AgentStatus } from '../../src/contracts/status.js';
import { silentLogger } from '../../src/lib/logger.js';
import { eventually } from '../support/agent-promotions.js';
import { DAY, tillClose } from '../support/day-close-fixtures.js';
import { FakeHeadOffice } from '../support/fake-head-office.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Head office's verdicts on the tills' business days reach the store on its acks topic (`kind: day`): on
 * a real private Mosquitto, the real agent keeps the latest per till and day (by `at`), durably, and its
 * `/v1/status` says in plain words what head office found. Head office is played by the test.
 */

const STORE = 'S-VERDICT';
const T1 = { id: 'T1', token: 'till-one-secret-token-0001' };
const T2 = { id: 'T2', token: 'till-two-secret-token-0002' };

let broker: TestMosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function start(dataDir: string): Promise<RunningAgent> {
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: STORE,
      dataDir,
      timeZone: 'Europe/Paris',
      api: { host: '127.0.0.1', port: 0, terminals: [T1, T2] },
      mqtt: { url: broker.url },
      sync: { lingerMs: 1, reconnectInitialMs: 50, reconnectMaxMs: 200 },
    }),
    { logger: silentLogger() },
  );
  cleanups.push(() => agent.stop());
  return agent;
}

async function closeDay(agent: RunningAgent, token: string, body: object): Promise<void> {
  const response = await fetch(`${agent.url}/v1/business-days/${DAY}/close`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
}

async function status(agent: RunningAgent): Promise<AgentStatus> {
  return agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json());
}

const confirmed = (terminalId: string, at: string): DayResult => ({
  terminalId,
  businessDay: DAY,
  state: 'confirmed',
  at,
  differences: { missing: [], extra: [], totals: [] },
});

const shortOfOne = (terminalId: string, at: string): DayResult => ({
  terminalId,
  businessDay: DAY,
  state: 'mismatch',
  at,
  differences: {
    missing: [`${terminalId}-0003`],
    extra: [],
    totals: [
      {
        type: 'sale',
        currency: 'EUR',
        till: { count: 3, amount: 1827 },
        headOffice: { count: 2, amount: 1218 },
      },
    ],
  },
});

describe('head office’s verdicts on the tills’ days', () => {
  it('shows the day confirmed in plain words, keeps the latest judgement, and keeps it across a restart', async () => {
    const office = await FakeHeadOffice.connect(broker.url, STORE);
    cleanups.push(() => office.close());
    const dataDir = makeTempDir('agent-verdicts');
    const agent = await start(dataDir);
    await eventually('the agent online', () => office.latestStatus()?.state === 'online');
    await closeDay(agent, T1.token, tillClose('T1', { sales: 3 }));
    await closeDay(agent, T2.token, tillClose('T2', { sales: 2 }));

    // 01:10 UTC is 02:10 in Paris, the morning after.
    await office.verdict(confirmed('T1', '2026-11-24T01:05:00.000Z'));
    await office.verdict(confirmed('T2', '2026-11-24T01:10:00.000Z'));
    const day = await eventually('the day confirmed', async () => {
      const d = (await status(agent)).days?.[0];
      return d?.state === 'confirmed' ? d : undefined;
    });
    expect(day.message).toBe('Monday 23 November: 5 sales, €30.45, confirmed by head office at 02:10.');
    expect(day.tills.map((t) => [t.terminalId, t.state, t.judgedAt])).toEqual([
      ['T1', 'confirmed', '2026-11-24T01:05:00.000Z'],
      ['T2', 'confirmed', '2026-11-24T01:10:00.000Z'],
    ]);

    // A later judgement (a late event changed it) wins; an older one sent again (on a reconnect) does not.
    await office.verdict(shortOfOne('T2', '2026-11-24T09:00:00.000Z'));
    await office.verdict(confirmed('T2', '2026-11-24T01:10:00.000Z'));
    // A malformed message on the acks topic changes nothing and stops nothing.
    await office.publishRawAck('{"v":1,"kind":"day","day":{"terminalId":"T2"}}');
    const mismatch = await eventually('the day in mismatch', async () => {
      const s = await status(agent);
      return s.days?.[0]?.state === 'mismatch' ? s : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    const after = await status(agent);
    expect(after.days).toEqual(mismatch.days);
    expect(after.days![0]!.message).toBe(
      'Monday 23 November: till T2 does not match head office: short 1 sale (€6.09); missing at head office: T2-0003. T1 confirmed.',
    );
    expect(after.problems).toContainEqual(
      expect.objectContaining({
        code: 'day-mismatch',
        severity: 'warning',
        message: after.days![0]!.message,
      }),
    );

    await agent.stop();
    const again = await start(dataDir);
    expect((await status(again)).days).toEqual(after.days);
  });

  it('waits for head office again once a till closes the day again with a corrected Z-report', async () => {
    const office = await FakeHeadOffice.connect(broker.url, STORE);
    cleanups.push(() => office.close());
    const agent = await start(makeTempDir('agent-verdicts'));
    await eventually('the agent online', () => office.latestStatus()?.state === 'online');
    await closeDay(agent, T1.token, tillClose('T1', { sales: 3 }));
    await office.verdict(shortOfOne('T1', '2026-11-24T01:05:00.000Z'));
    await eventually('the mismatch', async () =>
      (await status(agent)).days?.[0]?.state === 'mismatch' ? true : undefined,
    );

    await closeDay(agent, T1.token, tillClose('T1', { sales: 2, closedAt: `${DAY}T23:30:00+01:00` }));
    const waiting = (await status(agent)).days![0]!;
    expect(waiting).toMatchObject({
      state: 'awaiting',
      tills: [
        { terminalId: 'T1', state: 'awaiting', closedAt: '2026-11-23T22:30:00.000Z', differences: null },
      ],
    });
    expect(waiting.message).toBe(
      'Monday 23 November: 2 sales, €12.18; waiting for head office to confirm T1.',
    );

    await office.verdict(confirmed('T1', '2026-11-24T02:00:00.000Z'));
    const day = await eventually('the corrected day confirmed', async () => {
      const d = (await status(agent)).days?.[0];
      return d?.state === 'confirmed' ? d : undefined;
    });
    expect(day.message).toBe('Monday 23 November: 2 sales, €12.18, confirmed by head office at 03:00.');
  });
});
