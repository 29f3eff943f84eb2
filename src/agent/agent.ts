import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AgentConfig } from '../contracts/agent-config.js';
import { topics } from '../contracts/sync-messages.js';
import { buildCaptureServer, defaultWindowFilesDir } from '../capture/index.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { errorMessage } from '../lib/errors.js';
import { logFileHealth, type Logger } from '../lib/logger.js';
import type { MqttConnect } from '../lib/mqtt-connection.js';
import { OUTPOST_VERSION } from '../lib/version.js';
import { CatalogueService, createCatalogueStore, createTrustedKeyring } from '../promotions/index.js';
import {
  createGroupCommit,
  DeliveryThread,
  Outbox,
  SyncEngine,
  type CaptureInput,
  type CaptureResult,
  type GroupCommit,
} from '../sync/index.js';
import { checkAgentFiles, type FieldName } from './agent-files.js';
import { buildDaysStatus } from './day-status.js';
import { describeListenFailure } from './listen-failure.js';
import { buildStatusReport, deadLetterView, type ConnectionView } from './status-report.js';
import { StorageHealth } from './storage-health.js';
import { promotionsPanelOf } from './window-promotions.js';
import { WindowService, type ShellAgent } from './window-service.js';

export interface AgentDeps {
  logger: Logger;
  clock?: Clock;
  /** How to open an MQTT connection; tests inject faults here. */
  mqttConnect?: MqttConnect;
  /** How messages name a config field (the CLI says which ones an environment variable set). */
  fieldName?: FieldName;
}

/** The running agent; the desktop shell and the status window use it through `ShellAgent`. */
export interface RunningAgent extends ShellAgent {
  /** Base URL of the capture API, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  readonly outbox: Outbox;
  readonly sync: SyncEngine | undefined;
  /** The store's promotions: what is in force, basket pricing, the promotions part of the status. */
  readonly promotions: CatalogueService;
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
  // An unreadable key is a ConfigError naming its entry: skipped, it would refuse every promotion it signs.
  const keyring = createTrustedKeyring(config.promotions.trustedKeys);
  const outbox = new Outbox({
    file: path.join(config.dataDir, 'outbox.sqlite'),
    storeId: config.storeId,
    maxSizeMb: config.outbox.maxSizeMb,
    clock,
  });
  // Promotions live in the outbox database and arrive over the sync engine's link (declared below).
  const promotions = new CatalogueService({
    store: createCatalogueStore(outbox),
    identity: { storeId: config.storeId, region: config.region, timeZone: config.timeZone },
    keyring,
    logger,
    clock,
    topicPrefix: config.mqtt?.topicPrefix ?? 'outpost/v1',
    onRecorded: () => sync?.notifyCaptured(),
    publish: (topic, payload) => sync?.publishMessage(topic, payload) ?? Promise.resolve(false),
  });
  try {
    promotions.start();
  } catch (error) {
    outbox.close();
    throw error;
  }

  /** Bumped by what changes the window's business days or dead letters from outside it. */
  let dayAndCommandChanges = 0;
  // The outbox's one worker thread: the sync engine's reads, batch building and ack writes, off the
  // tills' path, and the periodic WAL checkpoint (it runs without a broker too).
  const outboxThread = new DeliveryThread({
    file: outbox.file,
    storeId: config.storeId,
    writeTurns: outbox.writeTurns,
    checkpointEveryMs: CHECKPOINT_EVERY_MS,
    onCheckpointError: (message) =>
      logger.warn('background checkpoint failed; SQLite will checkpoint by itself', {
        storeId: config.storeId,
        error: message,
      }),
  });
  const sync = config.mqtt
    ? new SyncEngine({
        storeId: config.storeId,
        outbox,
        mqtt: config.mqtt,
        logger,
        version: OUTPOST_VERSION,
        clock,
        delivery: outboxThread,
        ...(deps.mqttConnect ? { connect: deps.mqttConnect } : {}),
        extraTopics: topics(config.mqtt.topicPrefix).promotionFilters(config.storeId, config.region),
        onMessage: (topic, payload) => promotions.receive(topic, payload),
        onConnected: () => promotions.connected(),
        // Verdicts on the tills' days and head office's retries and discards show in the window (its watch).
        onDayResult: () => (dayAndCommandChanges += 1),
        onCommandHandled: () => (dayAndCommandChanges += 1),
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
      window.recordCaptures(items, results);
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
      promotions: promotions.status(clock.now()),
      promotionsExpected: config.mqtt !== undefined,
      days: buildDaysStatus(outbox.tillDays(), { timeZone: config.timeZone }),
      timeZone: config.timeZone,
    });

  const window = new WindowService({
    version: OUTPOST_VERSION,
    timeZone: config.timeZone,
    clock,
    logger,
    status,
    unsentCount: () => outbox.unsentCount(),
    deadLetters: {
      retry: (eventId) => outbox.retryDeadLetter(eventId),
      discard: (eventId, note) => outbox.discardDeadLetter(eventId, note),
    },
    afterRetry: () => sync?.notifyCaptured(),
    terminalsSince: (since) => outbox.terminalsSince(since),
    promotions: () => promotionsPanelOf(promotions.active(clock.now())),
    // What changes without a word: the link, acknowledgements, storage and log file health (memory only).
    watch: () =>
      JSON.stringify([
        connection(),
        storage.unavailableMessage,
        logFileHealth(logger)?.state ?? null,
        dayAndCommandChanges,
      ]),
  });

  const server: FastifyInstance = buildCaptureServer({
    sink: { capture: (input) => commits.submit(input) },
    dayCloses: {
      closeDay: async (input) => {
        const result = storage.write(
          () => outbox.appendDayClose(input),
          (r) => !(r instanceof Error) && !r.duplicate,
        );
        if (result instanceof Error) throw result;
        if (!result.duplicate) {
          sync?.notifyCaptured();
          dayAndCommandChanges += 1;
        }
        return result;
      },
    },
    terminals: config.api.terminals,
    bodyLimitBytes: config.api.bodyLimitBytes,
    logger,
    status,
    promotions,
    now: () => clock.now(),
    healthy: () => {
      const reason = storage.unavailableMessage;
      return reason === null ? { ok: true } : { ok: false, reason };
    },
    window: {
      source: window,
      filesDir: config.window.filesDir ?? defaultWindowFilesDir(),
      managerToken: config.window.managerToken,
      now: () => clock.now(),
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
    promotions.stop();
    await outboxThread.close();
    outbox.close();
    throw describeListenFailure(error, config.api, deps.fieldName) ?? error;
  }
  sync?.start();
  window.start();
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
    promotions,
    commitsInFlight: () => commits.pending,
    storageWritable: () => storage.unavailableMessage === null,
    unsentCount: () => outbox.unsentCount(),
    windowSnapshot: () => window.windowSnapshot(),
    onChange: (listener) => window.onChange(listener),
    retryDeadLetter: (eventId) => window.retryDeadLetter(eventId),
    discardDeadLetter: (eventId, note) => window.discardDeadLetter(eventId, note),
    stop() {
      stopping ??= (async () => {
        clearInterval(pruneTimer);
        window.stop();
        pruneStopped = true;
        storage.stop();
        await server.close();
        await commits.drain();
        await sync?.stop();
        promotions.stop();
        await outboxThread.close();
        outbox.close();
        logger.info('agent stopped', { storeId: config.storeId });
      })();
      return stopping;
    },
  };
}
