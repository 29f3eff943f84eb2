import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { agentStatusSchema } from '../../src/contracts/status.js';
import { silentLogger } from '../../src/lib/logger.js';
import { Outbox } from '../../src/sync/index.js';
import { outboxMigrations } from '../../src/sync/outbox-migrations.js';
import { DAY, tillClose, tillSale } from '../support/day-close-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * POST /v1/business-days/{day}/close on a real agent (in this process, real SQLite outbox): a till's
 * Z-report captured durably as a `day-close` event with its exact text, idempotent per (till, day,
 * closedAt), refused with the field's path when wrong; and every sale filed under its business day so the
 * store can say what of each day it has not sent.
 */

const T1 = { id: 'T1', token: 'till-one-secret-token-0001' };
const T2 = { id: 'T2', token: 'till-two-secret-token-0002' };

const agents: RunningAgent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

async function start(dataDir = makeTempDir('agent-day')): Promise<RunningAgent> {
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'S-DAY',
      dataDir,
      timeZone: 'Europe/Paris',
      api: { host: '127.0.0.1', port: 0, terminals: [T1, T2] },
    }),
    { logger: silentLogger() },
  );
  agents.push(agent);
  return agent;
}

async function post(
  agent: RunningAgent,
  urlPath: string,
  body: string | object,
  token: string | null = T1.token,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${agent.url}${urlPath}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const close = (agent: RunningAgent, body: string | object, day = DAY, token?: string | null) =>
  post(agent, `/v1/business-days/${day}/close`, body, token);

interface EventRow {
  seq: number;
  type: string;
  terminal_id: string | null;
  business_day: string | null;
  body: string;
  state: string;
}

const events = (agent: RunningAgent) =>
  agent.outbox.database
    .prepare('SELECT seq, type, terminal_id, business_day, body, state FROM event_log ORDER BY seq')
    .all() as EventRow[];

describe('a till closes its business day', () => {
  it('is captured durably as a day-close event with its exact text, and a retry is the same close', async () => {
    const agent = await start();
    // The till's own text: key order, spacing and a 20-digit Z number as it wrote them.
    const text = JSON.stringify(tillClose('T1', { sales: 3, zNumber: '12345678901234567890' }), null, 1);
    const first = await close(agent, text);
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ eventId: expect.any(String), seq: 1 });

    // A retry after a timeout, byte for byte, and one re-serialised by another library: both the same close.
    const again = await close(agent, text);
    expect(again).toEqual({ status: 200, json: { eventId: first.json.eventId, seq: 1, duplicate: true } });
    const reordered = await close(agent, JSON.stringify(JSON.parse(text)));
    expect(reordered.status).toBe(200);
    expect(reordered.json.eventId).toBe(first.json.eventId);

    expect(events(agent)).toEqual([
      { seq: 1, type: 'day-close', terminal_id: 'T1', business_day: DAY, body: text, state: 'pending' },
    ]);
    // Not a sale: the backlog of sales stays empty, the close waits as one of the store's records.
    const status = agentStatusSchema.parse(await (await fetch(`${agent.url}/v1/status`)).json());
    expect(status.backlog.count).toBe(0);
    expect(status.days).toEqual([
      expect.objectContaining({
        businessDay: DAY,
        state: 'awaiting',
        tills: [
          expect.objectContaining({ terminalId: 'T1', state: 'awaiting', zNumber: '12345678901234567890' }),
        ],
      }),
    ]);
    expect(status.days![0]!.message).toBe(
      'Monday 23 November: 3 sales, €18.27; waiting for head office to confirm T1.',
    );
  });

  it('takes a corrected Z-report (closed again, later) as a new close in force, and refuses another body under the same closedAt', async () => {
    const agent = await start();
    const original = tillClose('T1', { sales: 3, closedAt: `${DAY}T22:00:00+01:00` });
    expect((await close(agent, original)).status).toBe(201);

    const corrected = tillClose('T1', { sales: 4, closedAt: `${DAY}T22:30:00+01:00`, zNumber: 'Z-2' });
    const second = await close(agent, corrected);
    expect(second.status).toBe(201);
    expect(second.json.seq).toBe(2);

    // Same till, day and closedAt, different figures: not a retry, and no silent overwrite.
    const clash = await close(agent, {
      ...original,
      totals: [{ type: 'sale', currency: 'EUR', count: 9, amount: 9 }],
    });
    expect(clash.status).toBe(409);
    expect(String(clash.json.error)).toMatch(/already closed 2026-11-23 .* different Z-report/);

    // The same instant written in another offset is the same close.
    const sameInstant = { ...original, closedAt: `${DAY}T21:00:00Z` };
    expect((await close(agent, sameInstant)).status).toBe(409);

    // An earlier close arriving late is kept and sent, but the later one stays in force.
    const earlier = tillClose('T1', { sales: 2, closedAt: `${DAY}T21:00:00+01:00` });
    expect((await close(agent, earlier)).status).toBe(201);
    const [day] = agent.outbox.tillDays();
    expect(day).toMatchObject({
      terminalId: 'T1',
      businessDay: DAY,
      close: { closedAt: Date.parse(corrected.closedAt), zNumber: 'Z-2' },
    });
    expect(events(agent).map((e) => e.type)).toEqual(['day-close', 'day-close', 'day-close']);
  });

  it('refuses what is not this till’s close of that day, naming the field, and stores nothing', async () => {
    const agent = await start();
    const good = tillClose('T1', { sales: 2 });

    const otherTill = await close(agent, good, DAY, T2.token);
    expect(otherTill.status).toBe(403);
    expect(String(otherTill.json.error)).toMatch(/belongs to terminal T2.*terminalId T1/);

    const otherDay = await close(agent, good, '2026-11-24');
    expect(otherDay.status).toBe(400);
    expect(String(otherDay.json.error)).toMatch(/2026-11-24.*2026-11-23/);
    expect(otherDay.json.issues).toEqual([
      { path: ['businessDay'], message: expect.stringContaining('2026-11-24') },
    ]);

    const badPath = await close(agent, good, '2026-02-30');
    expect(badPath.status).toBe(400);
    expect(badPath.json.issues).toEqual([{ path: ['day'], message: expect.any(String) }]);

    const badBody = await close(agent, {
      ...good,
      lastTransactionId: null,
      totals: [
        { type: 'sale', currency: 'EUR', count: -1, amount: 5 },
        { type: 'sale', currency: 'EUR', count: 1, amount: 5 },
      ],
    });
    expect(badBody.status).toBe(400);
    const paths = (badBody.json.issues as { path: unknown[] }[]).map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['totals.0.count']));
    expect(String(badBody.json.error)).toMatch(/^invalid day close: /);

    const unknownField = await close(agent, { ...good, drawer: 'left' });
    expect(unknownField.status).toBe(400);

    expect((await close(agent, good, DAY, null)).status).toBe(401);
    expect((await close(agent, good, DAY, 'not-a-known-token-000000')).status).toBe(401);
    expect(events(agent)).toEqual([]);
  });
});

describe('sales filed under their business day', () => {
  it('tells per day how many sales wait, kept as they are captured, delivered and retried', async () => {
    const agent = await start();
    for (let n = 1; n <= 3; n++)
      expect((await post(agent, '/v1/transactions', tillSale('T1', n))).status).toBe(201);
    expect((await post(agent, '/v1/transactions', tillSale('T1', 4, '2026-11-24'))).status).toBe(201);
    expect((await close(agent, tillClose('T1', { sales: 3 }))).status).toBe(201);

    expect(agent.outbox.deliveryFacts()).toMatchObject({
      backlog: 5,
      unsentByDay: [
        { businessDay: DAY, count: 3 },
        { businessDay: '2026-11-24', count: 1 },
      ],
      acked: [],
    });
    // Delivered (as head office's acknowledgement marks it), the day leaves the list; refused, it does too.
    const db = agent.outbox.database;
    db.prepare("UPDATE events SET state = 'acked', acked_at = 1 WHERE seq IN (1, 2)").run();
    db.prepare("UPDATE events SET state = 'dead', dead_reason = 'x' WHERE seq = 4").run();
    expect(agent.outbox.deliveryFacts().unsentByDay).toEqual([{ businessDay: DAY, count: 1 }]);
    // A retried dead letter waits again under its day.
    const dead = db.prepare('SELECT event_id FROM events WHERE seq = 4').pluck().get() as string;
    agent.outbox.retryDeadLetter(dead);
    expect(agent.outbox.deliveryFacts().unsentByDay).toEqual([
      { businessDay: DAY, count: 1 },
      { businessDay: '2026-11-24', count: 1 },
    ]);
  });

  it('files the sales of an outbox written before it knew business days, from their bodies', async () => {
    const dataDir = makeTempDir('agent-day-old');
    const file = path.join(dataDir, 'outbox.sqlite');
    fs.mkdirSync(dataDir, { recursive: true });
    const old = new Database(file);
    for (const [i, sql] of outboxMigrations.slice(0, 5).entries()) {
      old.exec(sql);
      old.pragma(`user_version = ${i + 1}`);
    }
    old.exec(`INSERT INTO meta (key, value) VALUES ('epoch', 'aaaabbbbccccdddd'), ('store_id', 'S-DAY');
      INSERT INTO epochs (epoch, started_at, last_seq, reason) VALUES ('aaaabbbbccccdddd', 1, 4, 'new database')`);
    const insert = old.prepare(
      `INSERT INTO events (id, event_id, epoch, seq, terminal_id, transaction_id, type, captured_at, currency, signed_total, body_hash, state)
       VALUES (?, ?, 'aaaabbbbccccdddd', ?, 'T1', ?, 'sale', 1, 'EUR', 609, 'h', ?)`,
    );
    const body = old.prepare('INSERT INTO event_bodies (id, body) VALUES (?, ?)');
    const days = [DAY, DAY, '2026-11-24', '2026-11-24'];
    days.forEach((day, i) => {
      insert.run(i + 1, `01OLDEVENT000000000${i + 1}`, i + 1, `T1-${i + 1}`, i === 0 ? 'acked' : 'pending');
      body.run(i + 1, JSON.stringify(tillSale('T1', i + 1, day)));
    });
    old.close();

    const outbox = new Outbox({ file, storeId: 'S-DAY' });
    try {
      expect(outbox.database.prepare('SELECT seq, business_day FROM events ORDER BY seq').all()).toEqual(
        days.map((day, i) => ({ seq: i + 1, business_day: day })),
      );
      expect(outbox.deliveryFacts().unsentByDay).toEqual([
        { businessDay: DAY, count: 1 },
        { businessDay: '2026-11-24', count: 2 },
      ]);
    } finally {
      outbox.close();
    }
  });
});
