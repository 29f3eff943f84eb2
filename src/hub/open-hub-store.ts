import { ConfigError } from '../lib/errors.js';
import type { HubStore } from './hub-store.js';
import { SqliteHubStore } from './sqlite-hub-store.js';

/** `sqlite:PATH` opens the embedded store; `postgres://…` the production one. */
export async function openHubStore(url: string): Promise<HubStore> {
  if (url.startsWith('sqlite:')) return new SqliteHubStore(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PostgresHubStore } = await import('./postgres-hub-store.js');
    return PostgresHubStore.open(url);
  }
  throw new ConfigError(`db.url must be sqlite:PATH or postgres://…, not ${url}`);
}
