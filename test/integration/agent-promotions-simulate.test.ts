import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { silentLogger } from '../../src/lib/logger.js';
import { runSimulation, type SubmissionResult } from '../../src/simulate/index.js';
import { eventually, HeadOfficeDesk, TillClient } from '../support/agent-promotions.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { makeTerminals } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Simulated tills against a real agent that holds promotions: each sale is priced through
 * `POST /v1/baskets/price` first, so what the store captures carries the real promotion ids, with the
 * transaction arithmetic intact (the agent answers 201 to every one).
 */

const terminals = makeTerminals(['T1', 'T2']);
let broker: TestMosquitto;
let agent: RunningAgent | undefined;
let desk: HeadOfficeDesk | undefined;
let standIn: Server | undefined;

beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.stop();
});
afterEach(async () => {
  await agent?.stop();
  await desk?.close();
  if (standIn) await new Promise((resolve) => standIn!.close(resolve));
  agent = undefined;
  desk = undefined;
  standIn = undefined;
});

async function storeWith(promotions: Record<string, unknown>[]): Promise<RunningAgent> {
  desk = await HeadOfficeDesk.connect(broker.url, 'SIM-1');
  const running = await startAgent(
    agentConfigSchema.parse({
      storeId: 'SIM-1',
      timeZone: 'Europe/Paris',
      dataDir: makeTempDir('agent-promotions-simulate'),
      api: { host: '127.0.0.1', port: 0, terminals },
      mqtt: { url: broker.url },
      promotions: { trustedKeys: [desk.keys.publicKeyBase64] },
    }),
    { logger: silentLogger() },
  );
  await eventually('the store to connect', () => desk!.catalogues.length > 0);
  const validity = { from: new Date(Date.now() - 3600_000).toISOString(), until: '2099-01-01T00:00:00Z' };
  for (const overrides of promotions) await desk.publish(desk.sign({ validity, ...overrides }));
  const till = new TillClient(running.url, terminals[0]!.token);
  await eventually(
    'the promotions in force',
    async () => (await till.inForce()).length === promotions.length,
  );
  return running;
}

const simulate = (agentUrl: string, results: SubmissionResult[]) =>
  runSimulation({
    agentUrl,
    terminals,
    tills: 2,
    ratePerSecond: 40,
    durationSeconds: 2,
    seed: 11,
    retryProbability: 0,
    priceWithAgent: true,
    onResult: (r) => results.push(r),
  });

describe('outpost simulate with the promotions the store holds', () => {
  it('rings up sales with the real promotion ids and amounts the agent answered', async () => {
    agent = await storeWith([
      { promotionId: 'DAIRY-10', items: { categories: ['dairy'] } },
      {
        promotionId: 'PASTA-3FOR2',
        rule: { kind: 'buy-x-get-y', buy: 2, get: 1 },
        items: { categories: ['pasta'] },
      },
    ]);
    const results: SubmissionResult[] = [];
    const summary = await simulate(agent.url, results);

    expect(summary.errors).toEqual({});
    expect(summary.pricing?.failureSample).toBeUndefined();
    expect(summary.pricing!.priced).toBe(summary.pricing!.asked);
    expect(summary.pricing!.withPromotions).toBeGreaterThan(0);
    expect(Object.keys(summary.pricing!.promotions)).toContain('DAIRY-10');
    const ids = new Set(
      results
        .filter((r) => r.status === 201)
        .flatMap((r) => transactionSchema.parse(JSON.parse(r.bodyText)).lines)
        .flatMap((l) => l.discounts.map((d) => d.promotionId)),
    );
    expect(ids.has('DAIRY-10')).toBe(true);
    // Only the store's promotions (and unnamed markdowns): none of the simulator's stand-ins.
    expect([...ids].filter((id) => id !== undefined && !['DAIRY-10', 'PASTA-3FOR2'].includes(id))).toEqual(
      [],
    );
  });

  it('sells without promotions when none is in force, and when the agent cannot price at all', async () => {
    agent = await storeWith([]);
    const none: SubmissionResult[] = [];
    const summary = await simulate(agent.url, none);
    expect(summary.errors).toEqual({});
    expect(summary.pricing).toMatchObject({ withPromotions: 0, promotions: {} });
    expect(summary.pricing!.priced).toBe(summary.pricing!.asked);

    // A stand-in for an older agent: it takes transactions but has no pricing endpoint.
    let seq = 0;
    standIn = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        const isCapture = request.url === '/v1/transactions';
        response.writeHead(isCapture ? 201 : 404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(isCapture ? { eventId: `E${++seq}`, seq } : { error: 'no such endpoint' }),
        );
      });
    });
    await new Promise<void>((resolve) => standIn!.listen(0, '127.0.0.1', resolve));
    const older: SubmissionResult[] = [];
    const fallback = await simulate(`http://127.0.0.1:${(standIn.address() as AddressInfo).port}`, older);
    expect(fallback.errors).toEqual({});
    expect(fallback.pricing).toMatchObject({ priced: 0, failureSample: expect.stringContaining('404') });
    expect(fallback.created).toBe(fallback.submitted);
    for (const r of older) {
      const tx = transactionSchema.parse(JSON.parse(r.bodyText));
      expect(tx.lines.flatMap((l) => l.discounts).every((d) => d.promotionId === undefined)).toBe(true);
    }
  });
});
