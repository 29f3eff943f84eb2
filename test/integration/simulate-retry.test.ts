import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/simulate/index.js';

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
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
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
