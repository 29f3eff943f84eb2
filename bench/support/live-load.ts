import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { TerminalCredential } from '../../src/capture/index.js';
import { summarize, type Distribution } from './stats.js';
import { saleBodies } from './terminals.js';

export interface LiveLoadResult {
  ratePerSecond: number;
  maxConcurrency: number;
  elapsedS: number;
  sent: number;
  /** Responses by HTTP status ("error" for a failed connection). */
  statuses: Record<string, number>;
  created: number;
  /** From the moment a request was due to the end of its answer, milliseconds (see startLiveLoad). */
  latencyMs: Distribution;
  /** How late requests left, past their due time, because all connections were busy. */
  queuedMs: Distribution;
}

export interface LiveLoad {
  stop(): Promise<LiveLoadResult>;
}

/**
 * Steady live sales, as tills keep selling while the backlog drains: an open loop that sends one sale
 * every 1/rate seconds whatever the answers, over at most `maxConcurrency` keep-alive connections (one
 * till each, round robin). Latency counts from when a request was due, so a request that had to wait
 * for a free connection is charged for the wait (no coordinated omission). Every sale has a
 * transactionId never sent before.
 */
export function startLiveLoad(
  url: string,
  options: {
    ratePerSecond: number;
    maxConcurrency: number;
    terminals: readonly TerminalCredential[];
    nextNumber: () => number;
  },
): LiveLoad {
  const target = new URL('/v1/transactions', url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxConcurrency });
  const bodies = options.terminals.map((t) => ({ terminal: t, next: saleBodies(t.id, options.nextNumber) }));
  const intervalMs = 1000 / options.ratePerSecond;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const queued: number[] = [];
  const outstanding = new Set<Promise<void>>();
  const startedAt = performance.now();
  let sent = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const send = (dueAt: number) => {
    const { terminal, next } = bodies[sent % bodies.length]!;
    sent += 1;
    const body = next();
    const done = new Promise<void>((resolve) => {
      let counted = false;
      const count = (status: string) => {
        if (counted) return;
        counted = true;
        statuses[status] = (statuses[status] ?? 0) + 1;
        latencies.push(performance.now() - dueAt);
        resolve();
      };
      const request = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${terminal.token}`,
          },
          timeout: 10_000,
        },
        (response) => {
          response.resume();
          response.on('end', () => count(String(response.statusCode)));
          response.on('error', () => count('error'));
        },
      );
      request.on('socket', () => queued.push(performance.now() - dueAt));
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => count('error'));
      request.end(body);
    });
    outstanding.add(done);
    void done.then(() => outstanding.delete(done));
  };

  // Each tick sends every request that is due by now, then sleeps until the next one is due.
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    while (startedAt + sent * intervalMs <= now) send(startedAt + sent * intervalMs);
    timer = setTimeout(tick, Math.max(0, startedAt + sent * intervalMs - performance.now()));
  };
  tick();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const elapsedS = (performance.now() - startedAt) / 1000;
      await Promise.all([...outstanding]);
      agent.destroy();
      return {
        ratePerSecond: options.ratePerSecond,
        maxConcurrency: options.maxConcurrency,
        elapsedS,
        sent,
        statuses,
        created: statuses['201'] ?? 0,
        latencyMs: summarize(latencies),
        queuedMs: summarize(queued),
      };
    },
  };
}
