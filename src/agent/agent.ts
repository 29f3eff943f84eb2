import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AgentConfig } from '../contracts/agent-config.js';
import { buildCaptureServer } from '../capture/index.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { logFileHealth, type Logger } from '../lib/logger.js';
import type { MqttConnect } from '../lib/mqtt-connection.js';
import { OUTPOST_VERSION } from '../lib/version.js';
import {
  createGroupCommit,
  DeliveryThread,
  Outbox,
  SyncEngine,
  WalCheckpointer,
  type CaptureInput,
  type CaptureResult,
  type GroupCommit,
} from '../sync/index.js';
import { checkAgentFiles, type FieldName } from './agent-files.js';
import { describeListenFailure } from './listen-failure.js';
import { buildStatusReport, deadLetterView, type ConnectionView } from './status-report.js';
import { StorageHealth } from './storage-health.js';

export interface AgentDeps {
  logger: Logger;
  clock?: Clock;
  /** How to open an MQTT connection; tests inject faults here. */
  mqttConnect?: MqttConnect;
  /** How messages name a config field (the CLI says which ones an environment variable set). */
  fieldName?: FieldName;
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
const CHECKPOINT_EVERY_MS = 1000;

/**
 * The store agent's composition root: opens the outbox, serves the capture API, keeps the status.
 * Parts start in order and stop in reverse: the API stops taking requests and lets in-flight ones
 * finish (their group commit included) before the outbox closes. A configuration mistake (a file, a
 * directory, a taken port) is a ConfigError naming the setting.
 */
export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const clock = deps.clock ?? systemClock;
  const { logger } = deps;
  checkAgentFiles(config, deps.fieldName);
  const outbox = new Outbox({
    file: path.join(config.dataDir, 'outbox.sqlite'),
    storeId: config.storeId,
    maxSizeMb: config.outbox.maxSizeMb,
    clock,
  });

  const checkpointer = new WalCheckpointer(outbox.file, CHECKPOINT_EVERY_MS, (message) =>
    logger.warn('background checkpoint failed; SQLite will checkpoint by itself', { error: message }),
  );
  const sync = config.mqtt
    ? new SyncEngine({
        storeId: config.storeId,
        outbox,
        mqtt: config.mqtt,
        logger,
        version: OUTPOST_VERSION,
        clock,
        // The engine's outbox reads, batch building and ack writes run on a thread of their own, off the tills' path.
        delivery: new DeliveryThread({
          file: outbox.file,
          storeId: config.storeId,
          writeTurns: outbox.writeTurns,
        }),
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
  const connection = (): ConnectionView =>
    sync?.connection() ?? {
      state: 'not-configured',
      since: null,
      lastError: null,
      lastErrorCode: null,
      everConnected: false,
    };
  const broker = config.mqtt
    ? {
        url: config.mqtt.url,
        ca: Boolean(config.mqtt.ca),
        cert: Boolean(config.mqtt.cert),
        username: Boolean(config.mqtt.username),
      }
    : null;

  const storage = new StorageHealth({
    probeWritable: () => outbox.probeWritable(),
    makeRoom: () => outbox.pruneAcknowledged(clock.now() + 1),
    logger,
  });

  const commits: GroupCommit<CaptureInput, CaptureResult> = createGroupCommit<CaptureInput, CaptureResult>(
    (items) => {
      const results = storage.write(
        () => outbox.appendBatch(items),
        (done) => done.some((r) => !(r instanceof Error) && !r.duplicate),
      );
      sync?.notifyCaptured();
      return results;
    },
    { maxBatch: 256 },
  );

  const status = () =>
    buildStatusReport({
      storeId: config.storeId,
      version: OUTPOST_VERSION,
      now: clock.now(),
      outbox: outbox.stats(),
      captureError: storage.unavailableMessage,
      connection: connection(),
      broker,
      logging: logFileHealth(logger),
      deadLetters: outbox.deadLetters(50).map(deadLetterView),
      activePromotions: 0,
    });

  const server: FastifyInstance = buildCaptureServer({
    sink: { capture: (input) => commits.submit(input) },
    terminals: config.api.terminals,
    bodyLimitBytes: config.api.bodyLimitBytes,
    logger,
    status,
    activePromotions: () => [],
    healthy: () => {
      const reason = storage.unavailableMessage;
      return reason === null ? { ok: true } : { ok: false, reason };
    },
  });

  let pruneStopped = false;
  const prune = () => {
    // In small chunks with a turn of the event loop between them: a month of a busy store's events must
    // not hold the tills up.
    outbox
      .pruneAcknowledgedInChunks(clock.now() - config.outbox.ackedRetentionDays * DAY_MS, {
        stopped: () => pruneStopped,
      })
      .then(
        (removed) => {
          if (removed > 0) logger.info('pruned acknowledged events', { removed });
        },
        (error: unknown) => logger.warn('pruning failed; will retry', { error: errorMessage(error) }),
      );
  };
  prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();

  try {
    await server.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    clearInterval(pruneTimer);
    pruneStopped = true;
    storage.stop();
    await sync?.stop();
    await checkpointer.stop();
    outbox.close();
    throw describeListenFailure(error, config.api, deps.fieldName) ?? error;
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
        pruneStopped = true;
        storage.stop();
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
