import { hubDbConfigSchema, type HubDbConfig } from '../contracts/hub-config.js';
import { ConfigError } from '../lib/errors.js';
import { describeOpenFailure, redactDbUrl } from './db-errors.js';
import type { HubStore } from './hub-store.js';
import { SqliteHubStore } from './sqlite-hub-store.js';

export interface OpenHubStoreHooks {
  /** Errors of idle pooled PostgreSQL connections (server restart, dropped link): logged and counted by the hub. */
  onPoolError?: (error: Error) => void;
}

/**
 * `sqlite:PATH` opens the embedded store; `postgres://…` the production one. A database that cannot be
 * opened for a reason the technician can fix (unreachable, refused credentials, unknown database,
 * unwritable path) is a ConfigError naming `db.url`; a bare URL gets the default bounds.
 */
export async function openHubStore(
  db: HubDbConfig | string,
  hooks: OpenHubStoreHooks = {},
): Promise<HubStore> {
  const config = typeof db === 'string' ? hubDbConfigSchema.safeParse({ url: db }).data : db;
  if (!config) throw new ConfigError(`db.url must be sqlite:PATH or postgres://…, not ${String(db)}`);
  const { url } = config;
  try {
    if (url.startsWith('sqlite:'))
      return new SqliteHubStore(url.slice('sqlite:'.length), { busyTimeoutMs: config.busyTimeoutMs });
    if (/^postgres(ql)?:\/\//.test(url)) {
      const { PostgresHubStore } = await import('./postgres-hub-store.js');
      return await PostgresHubStore.open(url, {
        poolSize: config.poolSize,
        connectTimeoutMs: config.connectTimeoutMs,
        statementTimeoutMs: config.statementTimeoutMs,
        lockTimeoutMs: config.lockTimeoutMs,
        idleInTransactionTimeoutMs: config.idleInTransactionTimeoutMs,
        ...(hooks.onPoolError ? { onPoolError: hooks.onPoolError } : {}),
      });
    }
  } catch (error) {
    throw describeOpenFailure(error, url);
  }
  throw new ConfigError(`db.url must be sqlite:PATH or postgres://…, not ${redactDbUrl(url)}`);
}
