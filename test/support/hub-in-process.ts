import path from 'node:path';
import { hubConfigSchema, type HubConfigInput } from '../../src/contracts/hub-config.js';
import { startHub, type HubDeps, type RunningHub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { createTempPostgresDatabase, type TempPostgresDatabase } from './postgres.js';
import { makeTempDir } from './temp-dir.js';

export const OPERATOR_TOKEN = 'operator-token-0123456789';

export type HubDbKind = 'sqlite' | 'postgres';

/** An empty hub database of either kind; `drop` removes it (PostgreSQL) after the hubs on it stopped. */
export async function hubDatabase(
  kind: HubDbKind,
): Promise<{ url: string; drop(): Promise<void>; pg?: TempPostgresDatabase }> {
  if (kind === 'sqlite')
    return { url: `sqlite:${path.join(makeTempDir('hub-db'), 'hub.sqlite')}`, drop: async () => {} };
  const pg = await createTempPostgresDatabase();
  return { url: pg.url, drop: pg.drop, pg };
}

export interface TestHub {
  hub: RunningHub;
  /** GET on the operator API with the token: status and parsed body. */
  get<T = unknown>(pathAndQuery: string, token?: string | null): Promise<{ status: number; body: T }>;
  /** The value of one series of GET /metrics (labels as written, e.g. `{store="S1"}`), or undefined. */
  metric(name: string, labels?: string): Promise<number | undefined>;
}

/** A hub in this process on a broker (share group on), its API on a free port. */
export async function startTestHub(options: {
  dbUrl: string;
  mqttUrl: string;
  hubId?: string;
  config?: Partial<HubConfigInput>;
  deps?: Partial<HubDeps>;
}): Promise<TestHub> {
  const hub = await startHub(
    hubConfigSchema.parse({
      hubId: options.hubId ?? 'hub-1',
      db: { url: options.dbUrl },
      mqtt: { url: options.mqttUrl, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
      api: { host: '127.0.0.1', port: 0, token: OPERATOR_TOKEN },
      ingest: { parseWorker: false },
      ...options.config,
    }),
    { logger: silentLogger(), ...options.deps },
  );
  const get = async <T>(pathAndQuery: string, token: string | null = OPERATOR_TOKEN) => {
    const response = await fetch(`${hub.url}${pathAndQuery}`, {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
  };
  return {
    hub,
    get,
    async metric(name, labels = '') {
      const { body } = await get<string>('/metrics');
      const line = body.split('\n').find((l) => l.startsWith(`${name}${labels} `));
      return line === undefined ? undefined : Number(line.slice(`${name}${labels} `.length));
    },
  };
}
