import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { runSimulation, type SubmissionResult } from '../../src/simulate/index.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

/**
 * A stand-in agent whose storage is unavailable for the first `unavailableFor` attempts of every
 * transaction: the one thing a real agent cannot be made to do on cue.
 */
let server: Server | undefined;
const bodiesSeen = new Map<string, string[]>();

async function flakyAgent(unavailableFor: number): Promise<string> {
  bodiesSeen.clear();
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const { terminalId, transactionId } = JSON.parse(body) as { terminalId: string; transactionId: string };
      const seen = bodiesSeen.get(`${terminalId}/${transactionId}`) ?? [];
      seen.push(body);
      bodiesSeen.set(`${terminalId}/${transactionId}`, seen);
      const status = seen.length <= unavailableFor ? 503 : 201;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(
          status === 503 ? { error: 'storage unavailable: disk full' } : { eventId: 'e', seq: 1 },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const running = server;
  server = undefined;
  if (running) await new Promise((resolve) => running.close(resolve));
});

const terminals = [{ id: 'T1', token: 'till-1-token-0123456789abcdef' }];

describe('simulated tills when the agent answers 503', () => {
  it('send the same bytes again after a short backoff, as a real till would, and count the retries', async () => {
    const agentUrl = await flakyAgent(2);
    const summary = await runSimulation({
      agentUrl,
      terminals,
      tills: 2,
      ratePerSecond: 10,
      durationSeconds: 1,
      retryProbability: 0,
    });
    expect(summary.errors).toEqual({});
    expect(summary.created).toBe(summary.submitted);
    expect(summary.unavailableRetries).toBe(2 * summary.submitted);
    expect(summary.unansweredRetries).toBe(0);
    for (const bodies of bodiesSeen.values()) {
      expect(bodies).toHaveLength(3);
      expect(new Set(bodies).size).toBe(1);
    }
  });

  it('keep retrying through the grace period, then give up and report the 503 with a sample body', async () => {
    const agentUrl = await flakyAgent(Number.POSITIVE_INFINITY);
    const started = performance.now();
    const summary = await runSimulation({
      agentUrl,
      terminals,
      tills: 1,
      ratePerSecond: 5,
      durationSeconds: 1,
      gracePeriodMs: 500,
    });
    expect((performance.now() - started) / 1000).toBeLessThan(2.5);
    expect(summary.created).toBe(0);
    expect(summary.errors['503']?.count).toBe(summary.submitted);
    expect(summary.errors['503']?.sample).toContain('disk full');
    expect(summary.unavailableRetries).toBeGreaterThan(0);
  });
});

describe('simulated tills when the connection to the agent is cut', () => {
  let dataDir: string;
  let agent: RunningAgent | undefined;
  let proxy: FaultProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    await agent?.stop();
    proxy = undefined;
    agent = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('send the same bytes again until they get an answer: no phantom losses, nothing stored twice', async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-simulate-cut-'));
    const tills = [1, 2, 3, 4].map((n) => ({ id: `T${n}`, token: `till-${n}-token-0123456789abcdef` }));
    agent = await startAgent(
      agentConfigSchema.parse({
        storeId: 'store-cut',
        dataDir,
        api: { host: '127.0.0.1', port: 0, terminals: tills },
      }),
      { logger: silentLogger() },
    );
    const port = Number(new URL(agent.url).port);
    proxy = await startFaultProxy({ port });
    const faults = proxy;
    const results: SubmissionResult[] = [];
    const run = runSimulation({
      agentUrl: `http://127.0.0.1:${proxy.port}`,
      terminals: tills,
      tills: 4,
      ratePerSecond: 40,
      durationSeconds: 4,
      seed: 7,
      retryProbability: 0.05,
      onResult: (r) => results.push(r),
    });
    // The agent's PC drops off the LAN for a second: connections are reset, new ones refused.
    await sleep(800);
    faults.drop({ resetExisting: true });
    await sleep(1000);
    faults.pass();
    // Then answers are lost on the way back, after the agent has stored the sale: three times.
    for (let i = 0; i < 3; i += 1) {
      await faults.cutAfterBytes(12, 'down');
      await sleep(150);
    }
    const summary = await run;

    expect(summary.errors).toEqual({});
    expect(summary.unansweredRetries, 'the cuts reached no till').toBeGreaterThan(0);
    expect(summary.createdBeforeLostAnswer, 'no answer was lost after a store').toBeGreaterThan(0);
    // What the agent stored is exactly what the summary says was created: each new sale once.
    const stored = agent.outbox.database
      .prepare(
        'SELECT terminal_id AS terminalId, transaction_id AS transactionId FROM event_log ORDER BY seq',
      )
      .all() as { terminalId: string; transactionId: string }[];
    const created = results.filter((r) => r.kind === 'new');
    expect(summary.created).toBe(stored.length);
    expect(new Set(stored.map((s) => `${s.terminalId}/${s.transactionId}`))).toEqual(
      new Set(created.map((r) => `${r.terminalId}/${r.transactionId}`)),
    );
    expect(stored).toHaveLength(created.length);
    for (const r of created) {
      expect(r.status === 201 || (r.status === 200 && r.unanswered > 0), JSON.stringify(r.response)).toBe(
        true,
      );
    }
    expect(summary.duplicates).toBe(summary.deliberateRetries);
  }, 60_000);
});
