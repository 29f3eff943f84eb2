import { subscribe } from 'node:diagnostics_channel';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { summarize, type Distribution } from './stats.js';

/**
 * The line protocol between the bench (parent) and a server under test (child). The child prints one
 * JSON message per line on stdout; the parent writes one command per line on stdin. Closing stdin stops
 * the child too, so a bench that dies never leaves a server behind.
 */
export type ChildCommand = 'sample' | 'stop';

/** Group commits made by the durable capture server since the previous sample. */
export interface CommitSample {
  /** Rows per commit, one entry per group commit (one durable SQLite transaction, one WAL fsync). */
  batchSizes: number[];
  /** Wall time of each group commit, milliseconds: the event loop is blocked for this long. */
  durationsMs: number[];
}

/** What the server process did since the previous sample. */
export interface ServerSample {
  elapsedMs: number;
  /** CPU time of the server process (all its threads), milliseconds. */
  cpuMs: number;
  /** Fraction of the interval the server's event loop was busy (0..1). */
  eventLoopUtilization: number;
  /**
   * Time inside the server per request, from its headers being parsed to the last byte of the answer
   * handed to the kernel (node's http.server diagnostics channels): the load generator's latency minus
   * this is loopback, scheduling and the client's own time.
   */
  serverLatencyMs: Distribution;
  commits: CommitSample | null;
}

export type ChildMessage =
  | { type: 'ready'; url: string; pid: number }
  | { type: 'sample'; sample: ServerSample }
  | { type: 'stopped'; info: Record<string, number | string> }
  | { type: 'error'; message: string };

export interface ServerUnderTest {
  url: string;
  /** Commit figures since the previous call, or null for servers that store nothing. */
  takeCommits(): CommitSample | null;
  stop(): Promise<Record<string, number | string>>;
}

function send(message: ChildMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** The child side: starts the server, answers `sample` and `stop`, and exits when stdin closes. */
export async function serveUnderControl(start: () => Promise<ServerUnderTest>): Promise<void> {
  let latencies: number[] = [];
  const startedAt = new WeakMap<object, number>();
  subscribe('http.server.request.start', (message) => {
    startedAt.set((message as { response: object }).response, performance.now());
  });
  subscribe('http.server.response.finish', (message) => {
    const at = startedAt.get((message as { response: object }).response);
    if (at !== undefined) latencies.push(performance.now() - at);
  });

  let server: ServerUnderTest;
  try {
    server = await start();
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
  let lastAt = performance.now();
  let lastCpu = process.cpuUsage();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let stopping = false;

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const info = await server.stop();
    send({ type: 'stopped', info });
    process.exit(0);
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = line.trim() as ChildCommand;
    if (command === 'sample') {
      const now = performance.now();
      const cpu = process.cpuUsage(lastCpu);
      const elu = performance.eventLoopUtilization(lastElu);
      send({
        type: 'sample',
        sample: {
          elapsedMs: now - lastAt,
          cpuMs: (cpu.user + cpu.system) / 1000,
          eventLoopUtilization: elu.utilization,
          serverLatencyMs: summarize(latencies),
          commits: server.takeCommits(),
        },
      });
      lastAt = now;
      latencies = [];
      lastCpu = process.cpuUsage();
      lastElu = performance.eventLoopUtilization();
    } else if (command === 'stop') {
      void stop();
    }
  });
  lines.on('close', () => void stop());
  send({ type: 'ready', url: server.url, pid: process.pid });
}
