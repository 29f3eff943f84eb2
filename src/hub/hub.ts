import type { AddressInfo } from 'node:net';
import type { HubConfig } from '../contracts/hub-config.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { MqttConnect } from '../lib/mqtt-connection.js';
import { buildHubApi } from './hub-api.js';
import { HubIngest } from './hub-ingest.js';
import { createHubMetrics } from './hub-metrics.js';
import type { HubStore } from './hub-store.js';
import { openHubStore } from './open-hub-store.js';
import { ParseWorker } from './parse-pool.js';

export interface HubDeps {
  logger: Logger;
  clock?: Clock;
  connect?: MqttConnect;
  afterCommit?: () => void;
}

export interface RunningHub {
  readonly url: string;
  readonly store: HubStore;
  stop(): Promise<void>;
}

/** A hub process: database, MQTT ingest and operator API. Stops in reverse order of starting. */
export async function startHub(config: HubConfig, deps: HubDeps): Promise<RunningHub> {
  const store = await openHubStore(config.db.url);
  const metrics = createHubMetrics();
  const parser = config.ingest.parseWorker ? new ParseWorker(deps.logger) : undefined;
  const ingest = new HubIngest({
    ...(parser ? { parse: parser.parse } : {}),
    config,
    store,
    logger: deps.logger,
    metrics,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.connect ? { connect: deps.connect } : {}),
    ...(deps.afterCommit ? { afterCommit: deps.afterCommit } : {}),
  });
  const api = buildHubApi({
    store,
    token: config.api.token,
    logger: deps.logger,
    metrics,
    health: () => {
      const link = ingest.status();
      return { ok: link.state === 'online', mqtt: link.state };
    },
  });
  try {
    await api.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    await store.close();
    await parser?.close();
    throw error;
  }
  ingest.start();
  const address = api.server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  deps.logger.info('hub started', { hubId: config.hubId, url, db: store.kind });
  let stopping: Promise<void> | undefined;
  return {
    url,
    store,
    stop() {
      stopping ??= (async () => {
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
