import type { AddressInfo } from 'node:net';
import type { HubConfig } from '../contracts/hub-config.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { ConfigError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { MqttConnect } from '../lib/mqtt-connection.js';
import { buildHubApi, type HubHealth } from './hub-api.js';
import { HubIngest } from './hub-ingest.js';
import { createHubMetrics } from './hub-metrics.js';
import { HubPromotions, type HubPromotionsOptions } from './hub-promotions.js';
import type { HubStore } from './hub-store.js';
import { openHubStore } from './open-hub-store.js';
import { ParseWorker } from './parse-pool.js';
import { loadPromotionSigner } from './promotion-signing-key.js';

export interface HubDeps {
  logger: Logger;
  clock?: Clock;
  connect?: MqttConnect;
  afterCommit?: () => void;
  /** Test seam: sweep timing of unpublished promotion versions. */
  promotionSweep?: Pick<HubPromotionsOptions, 'sweepAfterMs' | 'sweepEveryMs' | 'publishWaitMs'>;
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
  const parser = config.ingest.parseWorker ? new ParseWorker(deps.logger) : undefined;
  // Promotions publish on ingest's broker link and ingest hands them catalogues and rollout news.
  const promotions: HubPromotions = new HubPromotions({
    hubId: config.hubId,
    store,
    signer,
    publisher: { publish: (topic, payload, options) => ingest.publish(topic, payload, options) },
    topicPrefix: config.mqtt.topicPrefix,
    logger: deps.logger,
    clock: deps.clock ?? systemClock,
    metrics,
    ...deps.promotionSweep,
  });
  const ingest: HubIngest = new HubIngest({
    promotions: {
      onCatalogue: (storeId, payload) => promotions.onCatalogue(storeId, payload),
      onRolloutApplied: (ids) => promotions.onRolloutApplied(ids),
      onLinkUp: () => void promotions.sweep(),
    },
    ...(parser ? { parse: parser.parse } : {}),
    config,
    store,
    logger: deps.logger,
    metrics,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.connect ? { connect: deps.connect } : {}),
    ...(deps.afterCommit ? { afterCommit: deps.afterCommit } : {}),
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
  ingest.start();
  promotions.start();
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
        await ingest.stop();
        await parser?.close();
        await api.close();
        await store.close();
        deps.logger.info('hub stopped', { hubId: config.hubId });
      })();
      return stopping;
    },
  };
}
