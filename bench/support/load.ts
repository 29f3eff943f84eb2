import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { TerminalCredential } from '../../src/capture/index.js';
import { summarize, type Distribution } from './stats.js';
import { saleBodies } from './terminals.js';

export interface LoadResult {
  connections: number;
  elapsedS: number;
  /** Responses by HTTP status. */
  statuses: Record<string, number>;
  created: number;
  notCreated: number;
  /** Connection errors and timeouts seen by the load generator. */
  errors: number;
  timeouts: number;
  /** 201 responses per second. */
  throughput: number;
  /** Latency of every response in the run, milliseconds, measured by the load generator. */
  latencyMs: Distribution;
}

/**
 * Closed-loop load: `connections` keep-alive connections, each a till of its own (its own terminal and
 * token), each sending the next sale as soon as the previous one is answered. Every request carries a
 * transactionId never sent before, so each is a new capture, not a duplicate lookup.
 */
export function createLoadGenerator(terminals: readonly TerminalCredential[]) {
  let lastTransaction = 0;
  const nextNumber = () => ++lastTransaction;

  return async function run(url: string, connections: number, durationS: number): Promise<LoadResult> {
    if (connections > terminals.length)
      throw new Error(`only ${terminals.length} terminals for ${connections} connections`);
    let clientIndex = 0;
    const statuses: Record<string, number> = {};
    const latencies: number[] = [];
    const startedAt = performance.now();

    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `${url}/v1/transactions`,
          connections,
          duration: durationS,
          method: 'POST',
          timeout: 10,
          setupClient(client) {
            const terminal = terminals[clientIndex++ % terminals.length]!;
            const nextBody = saleBodies(terminal.id, nextNumber);
            client.setRequests([
              {
                method: 'POST',
                path: '/v1/transactions',
                headers: {
                  'content-type': 'application/json',
                  authorization: `Bearer ${terminal.token}`,
                },
                setupRequest: (request) => ({ ...request, body: nextBody() }),
              },
            ]);
          },
        },
        (error: unknown, done: autocannon.Result) => {
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else resolve(done);
        },
      );
      instance.on('response', (_client, statusCode, _bytes, responseTime) => {
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
        latencies.push(responseTime);
      });
    });

    const elapsedS = (performance.now() - startedAt) / 1000;
    const created = statuses['201'] ?? 0;
    const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
    return {
      connections,
      elapsedS,
      statuses,
      created,
      notCreated: answered - created,
      errors: result.errors,
      timeouts: result.timeouts,
      throughput: created / elapsedS,
      latencyMs: summarize(latencies),
    };
  };
}
