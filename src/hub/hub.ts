import type { AddressInfo } from 'node:net';
import type { HubConfig } from '../contracts/hub-config.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { MqttConnect } from '../lib/mqtt-connection.js';
import { createConsole, defaultConsoleFilesDir } from './console-routes.js';
import { buildHubApi, type HubHealth } from './hub-api.js';
import { HubCommands } from './hub-commands.js';
import { HubDays, type HubDaysOptions } from './hub-days.js';
import { HubIngest } from './hub-ingest.js';
import { HubMaintenance } from './hub-maintenance.js';
import { createHubMetrics } from './hub-metrics.js';
import { HubPromotions, type HubPromotionsOptions } from './hub-promotions.js';
import { HubResync } from './hub-resync.js';
import type { HubStore } from './hub-store.js';
import { openHubStore } from './open-hub-store.js';
import { ParseWorker } from './parse-pool.js';
import { loadPromotionSigner } from './promotion-signing-key.js';
import { dayWindow, registerStoreHealth, storeHealth } from './store-health.js';

export interface HubDeps {
  logger: Logger;
  clock?: Clock;
  connect?: MqttConnect;
  afterCommit?: () => void;
  /** Test seam: sweep timing of unpublished promotion versions. */
  promotionSweep?: Pick<HubPromotionsOptions, 'sweepAfterMs' | 'sweepEveryMs' | 'publishWaitMs'>;
  /** Test seam: sweep timing of day verdicts no broker took. */
  daySweep?: Pick<HubDaysOptions, 'sweepAfterMs' | 'sweepEveryMs'>;
}

export interface RunningHub {
  readonly url: string;
  readonly store: HubStore;
  readonly promotions: HubPromotions;
  /** What /healthz answers. */
  health(): HubHealth;
  stop(): Promise<void>;
}

/** A hub process: database, MQTT ingest and operator API. Stops in reverse order of starting. */
export async function startHub(config: HubConfig, deps: HubDeps): Promise<RunningHub> {
  // Before anything opens: an unusable key is a config error (exit 2), not a hub that fails every push.
  const signer = loadPromotionSigner(config.promotions.signingKeyFile);
  const metrics = createHubMetrics();
  const store = await openHubStore(config.db, {
    onPoolError: (error) => {
      metrics.poolErrors.inc();
      deps.logger.error('a pooled database connection failed while idle; the pool replaces it', {
        hubId: config.hubId,
        error: errorMessage(error),
      });
    },
  });
  const clock = deps.clock ?? systemClock;
  registerStoreHealth(metrics.registry, async () => {
    const window = dayWindow(clock.now());
    const [stores, unconfirmed] = await Promise.all([
      store.listStores(),
      store.unconfirmedDays(window.from, window.to),
    ]);
    return storeHealth(stores, unconfirmed, clock.now());
  });
  const parser = config.ingest.parseWorker ? new ParseWorker(deps.logger) : undefined;
  // Verdicts and resend commands, like promotions, go out on ingest's broker link.
  const publisher = {
    publish: (topic: string, payload: string, options: { retain: boolean }) =>
      ingest.publish(topic, payload, options),
  };
  const days = new HubDays({
    store,
    publisher,
    topicPrefix: config.mqtt.topicPrefix,
    logger: deps.logger,
    clock,
    metrics,
    ...deps.daySweep,
  });
  const resync = new HubResync({
    hubId: config.hubId,
    store,
    publisher,
    topicPrefix: config.mqtt.topicPrefix,
    logger: deps.logger,
    clock,
    metrics,
    reaskAfterMs: config.resync.reaskAfterMs,
    sweepEveryMs: config.resync.sweepEveryMs,
  });
  // The operator's console: commands to stores go out on ingest's broker link too; the console is told
  // of every commit, status and command (cheap: it rebuilds at most about once a second, while open).
  const commands = new HubCommands({
    hubId: config.hubId,
    store,
    publisher,
    topicPrefix: config.mqtt.topicPrefix,
    logger: deps.logger,
    clock,
    onChange: () => operatorConsole.changed(),
  });
  const operatorConsole = createConsole({
    store,
    hubId: config.hubId,
    token: config.api.token,
    commands,
    logger: deps.logger,
    clock,
    filesDir: config.console.filesDir ?? defaultConsoleFilesDir(),
  });
  // Promotions publish on ingest's broker link and ingest hands them catalogues and rollout news.
  const promotions: HubPromotions = new HubPromotions({
    hubId: config.hubId,
    store,
    signer,
    publisher,
    topicPrefix: config.mqtt.topicPrefix,
    logger: deps.logger,
    clock,
    metrics,
    ...deps.promotionSweep,
  });
  const ingest: HubIngest = new HubIngest({
    promotions: {
      onCatalogue: (storeId, payload) => promotions.onCatalogue(storeId, payload),
      onRolloutApplied: (ids) => promotions.onRolloutApplied(ids),
      onLinkUp: () => void promotions.sweep(),
    },
    days: {
      publish: (storeId, results) => days.publish(storeId, results),
      onStoreOnline: (storeId) => {
        void commands.onStoreOnline(storeId);
        return days.onStoreOnline(storeId);
      },
    },
    resync: {
      onStatus: async (storeId, status) => {
        operatorConsole.changed();
        await Promise.all([resync.onStatus(storeId, status), commands.onStatus(storeId, status)]);
      },
      onReport: async (storeId, report) => {
        try {
          await resync.onReport(storeId, report);
        } finally {
          await commands.onResendReport(storeId, report);
        }
      },
    },
    ...(parser ? { parse: parser.parse } : {}),
    config,
    store,
    logger: deps.logger,
    metrics,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.connect ? { connect: deps.connect } : {}),
    afterCommit: () => {
      deps.afterCommit?.();
      operatorConsole.changed();
    },
  });
  const health = (): HubHealth => {
    const link = ingest.status();
    const problems = ingest.problems();
    if (link.state !== 'online')
      problems.push(`the MQTT link is ${link.state}${link.lastError ? ` (${link.lastError})` : ''}`);
    return problems.length === 0
      ? { ok: true, mqtt: link.state }
      : { ok: false, mqtt: link.state, reason: problems.join('; '), problems };
  };
  const api = buildHubApi({
    store,
    token: config.api.token,
    logger: deps.logger,
    metrics,
    health,
    promotions,
    console: operatorConsole,
  });
  try {
    await api.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    await store.close();
    await parser?.close();
    if ((error as { code?: unknown }).code === 'EADDRINUSE')
      throw new ConfigError(
        `api.port ${config.api.port} is in use on ${config.api.host}: stop what uses it or pick another port`,
      );
    throw error;
  }
  // Storage upkeep (month partitions, retention) on a timer of its own, off ingest's path.
  const maintenance = new HubMaintenance({
    hubId: config.hubId,
    store,
    retentionMonths: config.db.retentionMonths ?? null,
    logger: deps.logger,
    clock,
  });
  maintenance.start();
  ingest.start();
  promotions.start();
  days.start();
  resync.start();
  commands.start();
  const address = api.server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  deps.logger.info('hub started', {
    hubId: config.hubId,
    url,
    db: store.kind,
    promotionKeyId: signer?.keyId ?? null,
  });
  let stopping: Promise<void> | undefined;
  return {
    url,
    store,
    promotions,
    health,
    stop() {
      stopping ??= (async () => {
        await promotions.stop();
        await commands.stop();
        await resync.stop();
        await days.stop();
        await ingest.stop();
        await maintenance.stop();
        await parser?.close();
        await api.close();
        await store.close();
        deps.logger.info('hub stopped', { hubId: config.hubId });
      })();
      return stopping;
    },
  };
}
