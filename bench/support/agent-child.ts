/**
 * The store agent under test: startAgent exactly as `outpost agent` runs it (outbox in --data-dir, capture
 * API on a free port, sync engine to the private Mosquitto with default sync tuning), in its own process.
 * It loads first and starts on `go`, so the drain is timed from the agent's start, not from Node's.
 *
 * The additions: a measuring wrapper around this instance's appendBatch (a live capture's durable commit,
 * on the main thread), and the time the sync engine's delivery thread spent reading batches (nextBatch)
 * and recording acknowledgements (recordBatchAck), off the main thread. The delivery thread's
 * recordBatchAck reports the mark `acked` once the agent knows head office holds everything through --target.
 */
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { DeliveryThread, type DeliveryTimings } from '../../src/sync/index.js';
import { runStagedChild } from './staged-child.js';
import type { Figures } from './staged-protocol.js';
import { sum } from './stats.js';
import { benchTerminals } from './terminals.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'mqtt-url': { type: 'string' },
    'store-id': { type: 'string' },
    terminals: { type: 'string' },
    target: { type: 'string' },
    'batch-max-events': { type: 'string' },
    'batch-max-bytes': { type: 'string' },
  },
});
const dataDir = values['data-dir'];
const mqttUrl = values['mqtt-url'];
if (!dataDir || !mqttUrl) throw new Error('--data-dir and --mqtt-url are required');
const target = Number(values.target ?? '0');

/** Wraps `fn` so every call is timed into `into`; the wrapper changes nothing else. */
function timed<A extends unknown[], R>(fn: (...args: A) => R, into: number[]): (...args: A) => R {
  return (...args) => {
    const startedAt = performance.now();
    try {
      return fn(...args);
    } finally {
      into.push(performance.now() - startedAt);
    }
  };
}

runStagedChild(async (context) => {
  const config = agentConfigSchema.parse({
    storeId: values['store-id'] ?? 'BENCH-STORE',
    dataDir,
    api: { host: '127.0.0.1', port: 0, terminals: benchTerminals(Number(values.terminals ?? '4')) },
    mqtt: { url: mqttUrl },
    ...(values['batch-max-events']
      ? {
          sync: {
            batchMaxEvents: values['batch-max-events'],
            batchMaxBytes: values['batch-max-bytes'] ?? String(1024 * 1024),
          },
        }
      : {}),
    log: { level: 'info', console: false },
  });
  // The agent's delivery thread is made inside startAgent: its instance is caught on its first call.
  let ackedThrough = 0;
  const deliveryThreads = new Set<DeliveryThread>();
  const recordBatchAck = DeliveryThread.prototype.recordBatchAck;
  DeliveryThread.prototype.recordBatchAck = async function (this: DeliveryThread, ack, at) {
    deliveryThreads.add(this);
    const outcome = await recordBatchAck.call(this, ack, at);
    if (outcome.action === 'applied' && ack.ackedThrough > ackedThrough) {
      ackedThrough = ack.ackedThrough;
      if (target > 0 && ackedThrough >= target) context.mark('acked', { ackedThrough });
    }
    return outcome;
  };
  const nextBatch = DeliveryThread.prototype.nextBatch;
  DeliveryThread.prototype.nextBatch = function (this: DeliveryThread, ...args) {
    deliveryThreads.add(this);
    return nextBatch.apply(this, args);
  };
  const agent = await startAgent(config, { logger: silentLogger() });
  // Wrapped before the first capture: the API cannot answer within this turn.
  const outbox = agent.outbox;
  // Emptied in place by takeFigures: the wrapper holds this array.
  const commits: number[] = [];
  outbox.appendBatch = timed(outbox.appendBatch.bind(outbox), commits);
  type Timing = DeliveryTimings['nextBatch'];
  const zero: Timing = { calls: 0, ms: 0, maxMs: 0 };
  let taken = { reads: zero, acks: zero };
  /** Worker time since the last figures; the longest call is over the whole run (the worker keeps no window). */
  const since = (now: Timing, before: Timing): Timing => ({
    calls: now.calls - before.calls,
    ms: now.ms - before.ms,
    maxMs: now.maxMs,
  });

  // How late the agent's event loop ran a 1 ms timer: what a capture request waits before it is even read.
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  // Garbage-collection pauses, to tell a GC stall from a slow SQLite call when the loop delay peaks.
  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const max = (values: readonly number[]) => (values.length ? Math.max(...values) : Number.NaN);

  return {
    url: agent.url,
    takeFigures(): Figures {
      const [delivery] = deliveryThreads;
      const now = {
        reads: { ...(delivery?.timings.nextBatch ?? zero) },
        acks: { ...(delivery?.timings.recordBatchAck ?? zero) },
      };
      const reads = since(now.reads, taken.reads);
      const acks = since(now.acks, taken.acks);
      taken = now;
      const figures = {
        unsentAfterCalls: reads.calls,
        unsentAfterMs: reads.ms,
        applyAckCalls: acks.calls,
        applyAckMs: acks.ms,
        captureCommits: commits.length,
        captureCommitMs: sum(commits),
        ackedThrough,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        loopDelayMaxMs: loopDelay.max / 1e6,
        unsentAfterMaxMs: reads.calls > 0 ? reads.maxMs : Number.NaN,
        applyAckMaxMs: acks.calls > 0 ? acks.maxMs : Number.NaN,
        captureCommitMaxMs: max(commits),
        gcMs: sum(gcPauses),
        gcMaxMs: max(gcPauses),
      };
      loopDelay.reset();
      gcPauses.length = 0;
      commits.length = 0;
      return figures;
    },
    async stop() {
      gcObserver.disconnect();
      const stats = outbox.stats();
      await agent.stop();
      return { lastSeq: stats.lastSeq, unsent: stats.unsent.count, ackedThrough };
    },
  };
});
