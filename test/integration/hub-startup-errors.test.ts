import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterEach, describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { openHubStore, startHub, type RunningHub } from '../../src/hub/index.js';
import { startEmbeddedBroker, type RunningBroker } from '../../src/broker/index.js';
import { ConfigError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/logger.js';
import { freePort } from '../support/mosquitto.js';
import { POSTGRES_ADMIN_URL } from '../support/postgres.js';
import { waitFor } from '../support/sync-harness.js';
import { makeDiskReadOnly, makeTempDir, mountSmallDisk } from '../support/temp-dir.js';

const run = promisify(execFile);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/outpost.js');

const pgUrl = (change: (url: URL) => void) => {
  const url = new URL(POSTGRES_ADMIN_URL);
  change(url);
  return url.toString();
};

/** What opening the hub database with this db.url throws (it must throw). */
async function openFailure(url: string): Promise<Error> {
  const error = await openHubStore(url).then(
    async (store) => {
      await store.close();
      throw new Error(`${url} opened`);
    },
    (e: unknown) => e as Error,
  );
  return error;
}

describe('the hub database named by db.url cannot be used', () => {
  it.each([
    [
      'nothing listens at its port',
      async () => pgUrl((u) => (u.port = '1')),
      /^db\.url postgres:\/\/postgres@127\.0\.0\.1:1\/test: nothing accepts connections at 127\.0\.0\.1:1 \(connection refused\): check the host and port/,
    ],
    [
      'its host does not exist',
      async () => pgUrl((u) => (u.hostname = 'no-such-host.invalid')),
      /^db\.url postgres:\/\/postgres@no-such-host\.invalid:5432\/test: the host in it cannot be resolved .*check the host name$/,
    ],
    [
      'its database does not exist',
      async () => pgUrl((u) => (u.pathname = '/no_such_hub_db')),
      /database "no_such_hub_db" does not exist on 127\.0\.0\.1:5432: create it \(createdb no_such_hub_db\) or fix its name in db\.url$/,
    ],
    [
      'its user is refused (the password stays hidden)',
      async () =>
        pgUrl((u) => {
          u.username = 'no_such_hub_user';
          u.password = 'secret-password';
        }),
      /^db\.url postgres:\/\/no_such_hub_user:\*\*\*@127\.0\.0\.1:5432\/test: PostgreSQL refused user no_such_hub_user .*fix the user in db\.url/,
    ],
  ])('PostgreSQL: %s → a ConfigError naming db.url and what to do', async (_what, url, message) => {
    const error = await openFailure(await url());
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('secret-password');
  });

  it('SQLite: a path through a file, a directory, a file that is not a database, and a read-only disk', async () => {
    const dir = makeTempDir('hub-db-errors');
    const file = path.join(dir, 'plain.txt');
    writeFileSync(file, 'not a database, but long enough to have a header '.repeat(4));
    mkdirSync(path.join(dir, 'folder'));

    const throughFile = await openFailure(`sqlite:${file}/hub.sqlite`);
    expect(throughFile).toBeInstanceOf(ConfigError);
    expect(throughFile.message).toBe(
      `db.url sqlite:${file}/hub.sqlite: cannot create the directory ${file} for the hub database: a part of the path is a file, not a directory (ENOTDIR); use a path the hub's user can write`,
    );
    expect((await openFailure(`sqlite:${dir}/folder`)).message).toBe(
      `db.url sqlite:${dir}/folder: ${dir}/folder is a directory: name a file in it, e.g. ${dir}/folder/hub.sqlite`,
    );
    expect((await openFailure(`sqlite:${file}`)).message).toBe(
      `db.url sqlite:${file}: ${file} is not a SQLite database; point db.url at the hub's own database file`,
    );

    // Even root cannot write a read-only file system: a new database there, and an existing one.
    const disk = mountSmallDisk('hub-db-ro', 4 * 1024 * 1024);
    const existing = await openHubStore(`sqlite:${disk}/old/hub.sqlite`);
    await existing.close();
    makeDiskReadOnly(disk);
    const fresh = await openFailure(`sqlite:${disk}/hub.sqlite`);
    expect(fresh).toBeInstanceOf(ConfigError);
    expect(fresh.message).toMatch(
      /^db\.url sqlite:.*: cannot create or open .*use a path the hub's user can write$/,
    );
    const old = await openFailure(`sqlite:${disk}/old/hub.sqlite`);
    expect(old).toBeInstanceOf(ConfigError);
    expect(old.message).toMatch(/^db\.url sqlite:.*(read-only|cannot create or open)/);
  });

  it('`outpost hub` prints the one line and exits 2', async () => {
    const dir = makeTempDir('hub-cli-db');
    const config = path.join(dir, 'hub.json');
    const url = pgUrl((u) => (u.pathname = '/no_such_hub_db'));
    writeFileSync(
      config,
      JSON.stringify({
        hubId: 'h1',
        db: { url },
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        api: { token: 'operator-token-0123456789' },
      }),
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OUTPOST_')));
    const failure = (await run(process.execPath, [BIN, 'hub', '--config', config], { env }).catch(
      (e: unknown) => e,
    )) as { code: number; stderr: string };
    expect(failure.code).toBe(2);
    expect(failure.stderr.trim()).toBe(
      `outpost: db.url ${url}: database "no_such_hub_db" does not exist on 127.0.0.1:5432: create it (createdb no_such_hub_db) or fix its name in db.url`,
    );
  });
});

describe('hub start-up on a broker or port it cannot use', () => {
  const hubs: RunningHub[] = [];
  const brokers: RunningBroker[] = [];
  afterEach(async () => {
    for (const hub of hubs.splice(0)) await hub.stop();
    for (const broker of brokers.splice(0)) await broker.stop();
  });

  const config = (mqttUrl: string, extra: { shareGroup?: string | false; port?: number } = {}) =>
    hubConfigSchema.parse({
      hubId: 'hub-errors',
      db: { url: `sqlite:${path.join(makeTempDir('hub-errors'), 'hub.sqlite')}` },
      mqtt: { url: mqttUrl, shareGroup: extra.shareGroup ?? 'outpost-hubs', keepaliveSeconds: 2 },
      api: { host: '127.0.0.1', port: extra.port ?? 0, token: 'operator-token-0123456789' },
    });

  it('says to set mqtt.shareGroup to false when the broker refuses MQTT 5, in the log and in /healthz', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, logger: silentLogger() });
    brokers.push(broker);
    const lines: string[] = [];
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk: Buffer, _encoding, callback) {
              lines.push(chunk.toString());
              callback();
            },
          }),
        }),
      ],
    });
    const hub = await startHub(config(broker.url), { logger });
    hubs.push(hub);

    const health = await waitFor('/healthz to name the share group', async () => {
      const response = await fetch(`${hub.url}/healthz`);
      const body = (await response.json()) as { ok: boolean; reason?: string };
      return response.status === 503 && body.reason?.includes('mqtt.shareGroup') ? body : undefined;
    });
    expect(health.ok).toBe(false);
    expect(health.reason).toContain(
      `the broker at ${broker.url} refused MQTT 5 (Connection refused: Unacceptable protocol version), which mqtt.shareGroup "outpost-hubs" needs: set mqtt.shareGroup to false in hub.json`,
    );
    expect(
      lines.some((l) => l.includes('"level":"error"') && l.includes('set mqtt.shareGroup to false')),
    ).toBe(true);

    // With the advice followed, the same broker serves the hub.
    const fixed = await startHub(config(broker.url, { shareGroup: false }), { logger: silentLogger() });
    hubs.push(fixed);
    await waitFor(
      'the fixed hub to be healthy',
      async () => (await fetch(`${fixed.url}/healthz`)).status === 200,
    );
  });

  it('says which api.port is in use', async () => {
    const port = await freePort();
    const first = await startHub(config('mqtt://127.0.0.1:1', { port }), { logger: silentLogger() });
    hubs.push(first);
    const second = await startHub(config('mqtt://127.0.0.1:1', { port }), { logger: silentLogger() }).catch(
      (e: unknown) => e as Error,
    );
    expect(second).toBeInstanceOf(ConfigError);
    expect((second as Error).message).toBe(
      `api.port ${port} is in use on 127.0.0.1: stop what uses it or pick another port`,
    );
  });
});
