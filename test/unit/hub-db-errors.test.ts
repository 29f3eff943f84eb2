import { describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { refusesMqtt5, shareGroupAdvice } from '../../src/hub/broker-refusal.js';
import { describeCommitFailure, describeOpenFailure, redactDbUrl } from '../../src/hub/db-errors.js';
import { ConfigError } from '../../src/lib/errors.js';

const URL_ = 'postgres://outpost:hunter2@db.example.com:5433/outpost';
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('describeOpenFailure', () => {
  it.each([
    [
      withCode('password authentication failed for user "outpost"', '28P01'),
      'PostgreSQL refused the password of user outpost: fix the user or password in db.url',
    ],
    [
      withCode('permission denied for schema public', '42501'),
      'user outpost may not create or change the hub\'s tables in database "outpost" (permission denied for schema public): make it the database owner or grant it CREATE',
    ],
    [
      withCode('sorry, too many clients already', '53300'),
      'PostgreSQL at db.example.com:5433 has no connection slot left (sorry, too many clients already): raise max_connections or lower db.poolSize across the hubs',
    ],
    [
      new Error('timeout exceeded when trying to connect'),
      'no connection to db.example.com:5433 within db.connectTimeoutMs: check the host, port and firewall',
    ],
    [
      new Error('The server does not support SSL connections'),
      'the TLS connection to db.example.com:5433 failed (The server does not support SSL connections): check sslmode and the certificates in db.url',
    ],
    [
      withCode('connect ETIMEDOUT 10.0.0.1:5433', 'ETIMEDOUT'),
      'db.example.com:5433 cannot be reached (ETIMEDOUT): check the host, port and firewall',
    ],
  ])('names db.url, hides the password and says what to do: %s', (error, problem) => {
    const described = describeOpenFailure(error, URL_);
    expect(described).toBeInstanceOf(ConfigError);
    expect((described as Error).message).toBe(
      `db.url postgres://outpost:***@db.example.com:5433/outpost: ${problem}`,
    );
    expect((described as Error).cause).toBe(error);
  });

  it('passes on what a technician cannot fix in the config', () => {
    const error = withCode('division by zero', '22012');
    expect(describeOpenFailure(error, URL_)).toBe(error);
  });

  it('hides passwords only', () => {
    expect(redactDbUrl(URL_)).toBe('postgres://outpost:***@db.example.com:5433/outpost');
    expect(redactDbUrl('postgres://outpost@db/outpost')).toBe('postgres://outpost@db/outpost');
    expect(redactDbUrl('sqlite:/var/lib/outpost/hub.sqlite')).toBe('sqlite:/var/lib/outpost/hub.sqlite');
  });
});

describe('describeCommitFailure', () => {
  it.each([
    [
      withCode('canceling statement due to lock timeout', '55P03'),
      /^waited longer than db\.lockTimeoutMs for a lock/,
    ],
    [
      withCode('canceling statement due to statement timeout', '57014'),
      /^a statement ran longer than db\.statementTimeoutMs/,
    ],
    [new Error('Query read timeout'), /^PostgreSQL did not answer within db\.statementTimeoutMs/],
    [
      new Error('timeout exceeded when trying to connect'),
      /^no database connection within db\.connectTimeoutMs/,
    ],
    [withCode('database is locked', 'SQLITE_BUSY'), /beyond db\.busyTimeoutMs/],
    [withCode('something else', 'XX000'), /^something else \(XX000\)$/],
  ])('says which bound a commit hit: %s', (error, expected) => {
    expect(describeCommitFailure(error)).toMatch(expected);
  });
});

describe('broker refusing MQTT 5', () => {
  it('is recognised by CONNACK code or message, and nothing else', () => {
    expect(
      refusesMqtt5(withCode('Connection refused: Unacceptable protocol version', 1 as unknown as string)),
    ).toBe(true);
    expect(
      refusesMqtt5(
        Object.assign(new Error('Connection refused: Unsupported Protocol Version'), { code: 132 }),
      ),
    ).toBe(true);
    expect(refusesMqtt5(Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }))).toBe(
      false,
    );
    expect(refusesMqtt5(new Error('connect ECONNREFUSED 127.0.0.1:1883'))).toBe(false);
  });

  it('is answered with the setting to change', () => {
    expect(
      shareGroupAdvice('mqtt://u:p@broker:1883', 'hubs', new Error('Unacceptable protocol version')),
    ).toBe(
      'the broker at mqtt://u:***@broker:1883 refused MQTT 5 (Unacceptable protocol version), which mqtt.shareGroup "hubs" needs: ' +
        'set mqtt.shareGroup to false in hub.json (a single hub subscribing directly, e.g. on the embedded broker), ' +
        'or use a broker with MQTT 5 shared subscriptions (Mosquitto 2, EMQX, HiveMQ)',
    );
  });
});

describe('hub.json db.* and ingest.* settings', () => {
  const base = {
    hubId: 'h1',
    mqtt: { url: 'mqtt://127.0.0.1:1883' },
    api: { token: 'operator-token-0123456789' },
  };

  it('bounds every database wait by default', () => {
    const config = hubConfigSchema.parse({ ...base, db: { url: 'postgres://outpost@db/outpost' } });
    expect(config.db).toEqual({
      url: 'postgres://outpost@db/outpost',
      poolSize: 10,
      connectTimeoutMs: 5_000,
      statementTimeoutMs: 15_000,
      lockTimeoutMs: 5_000,
      idleInTransactionTimeoutMs: 60_000,
      busyTimeoutMs: 5_000,
    });
    expect(config.ingest).toEqual({ parseWorker: true, stuckAfterMs: 5_000, failureHoldMs: 60_000 });
  });

  it.each([
    [{ statementTimeoutMs: 0 }, 'db.statementTimeoutMs', 'must be at least 100 ms'],
    [
      { lockTimeoutMs: 20_000, statementTimeoutMs: 10_000 },
      'db.lockTimeoutMs',
      'lockTimeoutMs must not exceed statementTimeoutMs',
    ],
    [{ poolSize: 1 }, 'db.poolSize', 'must be at least 2 (one for ingest, one for the operator API)'],
    [{ connectTimeoutMs: 'soon' }, 'db.connectTimeoutMs', 'must be a number of milliseconds'],
    [
      { idleInTransactionTimeoutMs: 10 * 3_600_000 },
      'db.idleInTransactionTimeoutMs',
      'must be at most 3600000 ms',
    ],
  ])('refuses %j, naming the field', (db, field, message) => {
    const parsed = hubConfigSchema.safeParse({ ...base, db: { url: 'sqlite:/tmp/h.sqlite', ...db } });
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(field);
    expect(issue.message).toBe(message);
  });

  it('takes numbers from environment overrides as strings', () => {
    const config = hubConfigSchema.parse({
      ...base,
      db: { url: 'sqlite:/tmp/h.sqlite', lockTimeoutMs: '1500' },
      ingest: { stuckAfterMs: '2000' },
    });
    expect(config.db.lockTimeoutMs).toBe(1500);
    expect(config.ingest.stuckAfterMs).toBe(2000);
  });
});

describe('db.retentionMonths', () => {
  const hub = (db: Record<string, unknown>) =>
    hubConfigSchema.safeParse({
      hubId: 'hub-1',
      db,
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
      api: { token: 'operator-token-0123456789' },
    });
  const issues = (db: Record<string, unknown>) => {
    const parsed = hub(db);
    return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join('.'), i.message]);
  };

  it('applies to PostgreSQL only, and keeps at least the current and the previous month', () => {
    expect(hub({ url: 'postgres://127.0.0.1/outpost', retentionMonths: 13 }).success).toBe(true);
    expect(issues({ url: 'sqlite:/var/lib/outpost/hub.sqlite', retentionMonths: 13 })).toEqual([
      [
        'db.retentionMonths',
        'applies only to a PostgreSQL hub database (db.url postgres://…): the SQLite hub keeps every event in one table',
      ],
    ]);
    expect(issues({ url: 'postgres://127.0.0.1/outpost', retentionMonths: 1 })).toEqual([
      ['db.retentionMonths', 'must be at least 2: the current and the previous business month always stay'],
    ]);
    expect(issues({ url: 'postgres://127.0.0.1/outpost', retentionMonths: 'a year' })).toEqual([
      ['db.retentionMonths', 'must be a number of months'],
    ]);
  });
});
