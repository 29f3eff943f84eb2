import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AgentConfig } from '../contracts/agent-config.js';
import { buildCaptureServer } from '../capture/index.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage, StorageUnavailableError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { MqttConnect } from '../lib/mqtt-connection.js';
import { OUTPOST_VERSION } from '../lib/version.js';
import {
  createGroupCommit,
  Outbox,
  SyncEngine,
  WalCheckpointer,
  type CaptureInput,
  type CaptureResult,
  type GroupCommit,
} from '../sync/index.js';
import { buildStatusReport, type ConnectionView } from './status-report.js';

export interface AgentDeps {
  logger: Logger;
  clock?: Clock;
  /** How to open an MQTT connection; tests inject faults here. */
  mqttConnect?: MqttConnect;
}

export interface RunningAgent {
  /** Base URL of the capture API, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  readonly outbox: Outbox;
  readonly sync: SyncEngine | undefined;
  stop(): Promise<void>;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const PROBE_EVERY_MS = 2000;
const CHECKPOINT_EVERY_MS = 1000;

/**
 * The store agent's composition root: opens the outbox, serves the capture API, keeps the status.
 * Parts start in order and stop in reverse: the API stops taking requests and lets in-flight ones
 * finish (their group commit included) before the outbox closes.
 */
export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  const outbox = new Outbox({
    file: path.join(config.dataDir, 'outbox.sqlite'),
    maxSizeMb: config.outbox.maxSizeMb,
    clock,
  });

  const checkpointer = new WalCheckpointer(outbox.file, CHECKPOINT_EVERY_MS, (message) =>
    logger.warn('background checkpoint failed; SQLite will checkpoint by itself', { error: message }),
  );
  let captureError: string | null = null;
  let probeTimer: NodeJS.Timeout | undefined;
  const sync = config.mqtt
    ? new SyncEngine({
        storeId: config.storeId,
        outbox,
        mqtt: config.mqtt,
        logger,
        version: OUTPOST_VERSION,
        clock,
        ...(deps.mqttConnect ? { connect: deps.mqttConnect } : {}),
        tuning: {
          batch: { maxEvents: config.sync.batchMaxEvents, maxBytes: config.sync.batchMaxBytes },
          lingerMs: config.sync.lingerMs,
          maxInFlightBatches: config.sync.maxInFlightBatches,
          ackTimeoutMs: config.sync.ackTimeoutMs,
          reconnect: { initialMs: config.sync.reconnectInitialMs, maxMs: config.sync.reconnectMaxMs },
        },
      })
    : undefined;
  const connection = (): ConnectionView => {
    if (!sync) return { state: 'not-configured', since: null, lastError: null };
    const c = sync.connection();
    return { state: c.state, since: c.since, lastError: c.lastError };
  };

  const markUnavailable = (error: StorageUnavailableError) => {
    if (captureError === null)
      logger.error('capture unavailable', {
        reason: error.reason,
        error: errorMessage(error.cause ?? error),
      });
    captureError = error.message;
    // Recover by ourselves: a tiny durable write tells when the disk takes writes again, even if no till is submitting.
    probeTimer ??= setInterval(() => {
      try {
        // Acknowledged events are only kept for support; when space runs out, new sales come first.
        if (error.reason === 'disk-full') outbox.pruneAcknowledged(clock.now() + 1);
        outbox.probeWritable();
        markAvailable();
      } catch {
        // still unavailable; keep probing
      }
    }, PROBE_EVERY_MS);
  };
  const markAvailable = () => {
    if (captureError !== null) logger.info('capture available again');
    captureError = null;
    if (probeTimer) clearInterval(probeTimer);
    probeTimer = undefined;
  };

  const commits: GroupCommit<CaptureInput, CaptureResult> = createGroupCommit<CaptureInput, CaptureResult>(
    (items) => {
      try {
        const results = outbox.appendBatch(items);
        markAvailable();
        sync?.notifyCaptured();
        return results;
      } catch (error) {
        if (error instanceof StorageUnavailableError) markUnavailable(error);
        throw error;
      }
    },
    { maxBatch: 256 },
  );

  const status = () =>
    buildStatusReport({
      storeId: config.storeId,
      version: OUTPOST_VERSION,
      now: clock.now(),
      outbox: outbox.stats(),
      captureError,
      connection: connection(),
      deadLetters: outbox.deadLetters(50).map((d) => ({
        epoch: d.epoch,
        seq: d.seq,
        eventId: d.eventId,
        terminalId: d.terminalId,
        transactionId: d.transactionId,
        reason: d.reason,
        state: d.state,
        capturedAt: new Date(d.capturedAt).toISOString(),
      })),
      activePromotions: 0,
    });

  const server: FastifyInstance = buildCaptureServer({
    sink: { capture: (input) => commits.submit(input) },
    terminals: config.api.terminals,
    bodyLimitBytes: config.api.bodyLimitBytes,
    logger,
    status,
    activePromotions: () => [],
    healthy: () => (captureError === null ? { ok: true } : { ok: false, reason: captureError }),
  });

  const prune = () => {
    try {
      const removed = outbox.pruneAcknowledged(clock.now() - config.outbox.ackedRetentionDays * DAY_MS);
      if (removed > 0) logger.info('pruned acknowledged events', { removed });
    } catch (error) {
      logger.warn('pruning failed; will retry', { error: errorMessage(error) });
    }
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();

  try {
    await server.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    clearInterval(pruneTimer);
    await checkpointer.stop();
    outbox.close();
    throw error;
  }
  sync?.start();
  const address = server.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info('agent started', {
    storeId: config.storeId,
    url,
    epoch: outbox.epoch,
    version: OUTPOST_VERSION,
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    outbox,
    sync,
    stop() {
      stopping ??= (async () => {
        clearInterval(pruneTimer);
        if (probeTimer) clearInterval(probeTimer);
        await server.close();
        await commits.drain();
        await sync?.stop();
        await checkpointer.stop();
        outbox.close();
        logger.info('agent stopped', { storeId: config.storeId });
      })();
      return stopping;
    },
  };
}
