import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { apiErrorSchema, captureAcceptedSchema, type ApiIssue } from '../../src/contracts/api.js';
import { agentStatusSchema } from '../../src/contracts/status.js';
import { silentLogger } from '../../src/lib/logger.js';
import { returnOf, sale, voidOf } from '../support/pos-payloads.js';

const TILL_1 = { id: 'T1', token: 'till-one-secret-token-0001' };
const TILL_2 = { id: 'T2', token: 'till-two-secret-token-0002' };

let dir: string;
let agent: RunningAgent;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-capture-'));
  const config = agentConfigSchema.parse({
    storeId: 'store-0042',
    dataDir: path.join(dir, 'data'),
    api: { host: '127.0.0.1', port: 0, terminals: [TILL_1, TILL_2] },
  });
  agent = await startAgent(config, { logger: silentLogger() });
});

afterAll(async () => {
  await agent?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Request {
  method?: 'GET' | 'POST' | 'PUT';
  path?: string;
  body?: string | Uint8Array;
  /** null sends no Content-Type at all. */
  contentType?: string | null;
  /** null sends no Authorization header. */
  authorization?: string | null;
}

/** Sends one request the way a till would: POST /v1/transactions as terminal T1, JSON, unless told otherwise. */
async function send(request: Request): Promise<{ status: number; json: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  const contentType = request.contentType === undefined ? 'application/json' : request.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const authorization =
    request.authorization === undefined ? `Bearer ${TILL_1.token}` : request.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const method = request.method ?? 'POST';
  const response = await fetch(`${agent.url}${request.path ?? '/v1/transactions'}`, {
    method,
    headers,
    body: method === 'GET' ? undefined : request.body,
  });
  const text = await response.text();
  return {
    status: response.status,
    json: text ? (JSON.parse(text) as unknown) : undefined,
    headers: response.headers,
  };
}

const json = (value: unknown) => JSON.stringify(value);

/** The body of a sale nobody has submitted yet: if a bad variant of it were ever stored, the outbox would show it. */
const fresh = (overrides: Record<string, unknown> = {}) =>
  sale({ transactionId: 'must-never-be-stored', ...overrides });

interface SaleDoc {
  lines: {
    lineNo: number;
    quantity: number | string;
    unitPrice: number | string;
    amount: number;
    discounts: { amount: number }[];
    taxes: { rate: number }[];
    [extra: string]: unknown;
  }[];
  tenders: { method: string; amount: number }[];
  totals: { gross: number; discount: number; tax: number; total: number; [extra: string]: unknown };
  [field: string]: unknown;
}

/** A fresh sale with exactly one thing broken by `mutate`, as the JSON text a till would send. */
function broken(mutate: (tx: SaleDoc) => void): string {
  const tx = structuredClone(fresh()) as SaleDoc;
  mutate(tx);
  return json(tx);
}

/** Inserts raw JSON text as the first member of the fresh sale, for keys JSON.stringify cannot produce. */
const withRawMember = (member: string) => json(fresh()).replace(/^\{/, `{${member},`);

const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

const STORED_ID = 'stored-1';
const storedSale = () => sale({ transactionId: STORED_ID });

interface BadCase {
  name: string;
  request: Request;
  status: 400 | 401 | 403 | 404 | 409 | 413 | 415;
  /** What the `error` string must say. */
  error: RegExp;
  /** For schema errors: the path `issues` must point at. */
  path?: ApiIssue['path'];
}

const schema = (name: string, body: string, path: ApiIssue['path'], error: RegExp): BadCase => ({
  name,
  request: { body },
  status: 400,
  error,
  path,
});

const { original: _original, ...returnWithoutOriginal } = returnOf(
  { terminalId: 'T1', transactionId: 'sale-1', businessDay: '2026-11-23' },
  99,
);
const { voids: _voids, ...voidWithoutVoids } = voidOf({ terminalId: 'T1', transactionId: 'sale-1' }, 99);

const badCases: BadCase[] = [
  // Not JSON, or not a JSON object.
  {
    name: 'a body that is not JSON',
    request: { body: 'SALE T1 3x pencil' },
    status: 400,
    error: /not valid JSON/,
  },
  {
    name: 'truncated JSON',
    request: { body: json(fresh()).slice(0, -20) },
    status: 400,
    error: /not valid JSON/,
  },
  { name: 'an empty body', request: { body: '' }, status: 400, error: /body is empty/ },
  { name: 'a whitespace-only body', request: { body: ' \r\n\t ' }, status: 400, error: /body is empty/ },
  schema('a JSON array as the body', '[]', [], /must be a JSON object/),
  schema('JSON null as the body', 'null', [], /must be a JSON object/),
  schema('a JSON number as the body', '42', [], /must be a JSON object/),
  schema('a JSON string as the body', '"sale"', [], /must be a JSON object/),
  {
    name: 'a body of 100,000 "[" characters',
    request: { body: '['.repeat(100_000) },
    status: 400,
    error: /JSON/,
  },
  {
    name: 'a 100,000-deep nested array as the body',
    request: { body: nestedArrays(100_000) },
    status: 400,
    error: /JSON/,
  },
  schema(
    'a field holding 10,000 nested arrays',
    json(fresh()).replace('"description":"Pencil HB"', `"description":${nestedArrays(10_000)}`),
    ['lines', 0, 'description'],
    /lines\.0\.description: description must be a string/,
  ),
  schema('a __proto__ key', withRawMember('"__proto__":{"isAdmin":true}'), [], /__proto__/),
  schema(
    'a __proto__ key inside totals',
    json(fresh()).replace('"totals":{', '"totals":{"__proto__":{"gross":0},'),
    ['totals'],
    /totals: .*__proto__/,
  ),
  // Size.
  {
    name: 'a 1 MB body',
    request: { body: json(fresh({ description: 'x'.repeat(1024 * 1024) })) },
    status: 413,
    error: /^request body is too large: \d+ bytes, the limit is 262144 bytes \(api\.bodyLimitBytes\)$/,
  },
  schema(
    'a 100,000-character sku',
    broken((t) => void (t.lines[0]!.sku = '4'.repeat(100_000))),
    ['lines', 0, 'sku'],
    /lines\.0\.sku: sku must be at most 64 characters/,
  ),
  // Content type.
  ...(
    [
      ['text/plain', 'text/plain'],
      ['form-urlencoded', 'application/x-www-form-urlencoded'],
      ['a JSON look-alike', 'application/json-patch+json'],
      ['missing', null],
    ] as const
  ).map(([what, contentType]): BadCase => ({
    name: `a Content-Type that is ${what}`,
    request: {
      body: contentType === null ? new TextEncoder().encode(json(fresh())) : json(fresh()),
      contentType,
    },
    status: 415,
    error: /unsupported Content-Type: send the body as application\/json/,
  })),
  // Version, type and shape.
  schema('schema version 2', json(fresh({ v: 2 })), ['v'], /v: must be 1/),
  schema('an unknown type', json(fresh({ type: 'refund' })), ['type'], /type must be one of/),
  schema('no type', json(fresh({ type: undefined })), ['type'], /type must be one of/),
  schema('a missing operatorId', json(fresh({ operatorId: undefined })), ['operatorId'], /operatorId/),
  schema('taxIncluded given as "yes"', json(fresh({ taxIncluded: 'yes' })), ['taxIncluded'], /true or false/),
  schema(
    'a quantity given as a string',
    broken((t) => void (t.lines[0]!.quantity = '3')),
    ['lines', 0, 'quantity'],
    /must be a number/,
  ),
  schema('an unknown extra field', json(fresh({ customer: 'Jane Doe' })), [], /customer/),
  schema(
    'an unknown field in a line',
    broken((t) => void (t.lines[0]!.colour = 'red')),
    ['lines', 0],
    /lines\.0: .*colour/,
  ),
  schema(
    'a transactionId with path characters',
    json(fresh({ transactionId: '../../etc/passwd' })),
    ['transactionId'],
    /transactionId may contain only/,
  ),
  // Arithmetic.
  schema(
    'a line amount that is not quantity × unitPrice',
    broken((t) => {
      t.lines[0]!.amount = 361;
      t.totals.gross = 730;
      t.totals.total = 610;
      t.tenders[1]!.amount = 110;
    }),
    ['lines', 0, 'amount'],
    /lines\.0\.amount: is 361 but quantity × unitPrice = 3 × 120 = 360/,
  ),
  schema(
    'a gross total that is not the sum of the lines',
    broken((t) => void (t.totals.gross = 730)),
    ['totals', 'gross'],
    /totals\.gross: is 730/,
  ),
  schema(
    'a discount total that is not the sum of line discounts',
    broken((t) => void (t.totals.discount = 100)),
    ['totals', 'discount'],
    /totals\.discount: is 100/,
  ),
  schema(
    'a tax total that is not the sum of line taxes',
    broken((t) => void (t.totals.tax = 0)),
    ['totals', 'tax'],
    /totals\.tax: is 0/,
  ),
  schema(
    'a total that is not gross − discount',
    broken((t) => {
      t.totals.total = 729;
      t.tenders[1]!.amount = 229;
    }),
    ['totals', 'total'],
    /totals\.total: is 729 but gross − discount = 609/,
  ),
  schema(
    'a tax-excluded total that leaves out the tax',
    broken((t) => void (t.taxIncluded = false)),
    ['totals', 'total'],
    /gross − discount \+ tax = 671/,
  ),
  schema(
    'tenders that do not cover the total',
    broken((t) => void (t.tenders[1]!.amount = 100)),
    ['tenders'],
    /tenders: tenders add up to 600 but totals\.total is 609/,
  ),
  schema(
    'discounts exceeding the line amount',
    broken((t) => {
      t.lines[0]!.discounts = [{ amount: 300 }, { amount: 100 }];
      t.totals.discount = 400;
      t.totals.total = 329;
      t.tenders = [{ method: 'cash', amount: 329 }];
    }),
    ['lines', 0, 'discounts'],
    /discounts add up to 400, more than the line amount 360/,
  ),
  schema(
    'a duplicate lineNo',
    broken((t) => void (t.lines[1]!.lineNo = 1)),
    ['lines', 1, 'lineNo'],
    /lineNo 1 appears twice/,
  ),
  schema(
    'a sale with no lines',
    json(fresh({ lines: [], tenders: [], totals: { gross: 0, discount: 0, tax: 0, total: 0 } })),
    ['lines'],
    /a sale needs at least one line/,
  ),
  schema('a return without its original', json(returnWithoutOriginal), ['original'], /original/),
  schema('a void without what it voids', json(voidWithoutVoids), ['voids'], /voids/),
  // Money and quantities.
  schema(
    'a negative unit price',
    broken((t) => void (t.lines[0]!.unitPrice = -120)),
    ['lines', 0, 'unitPrice'],
    /must not be negative/,
  ),
  schema(
    'a negative tender',
    broken((t) => void (t.tenders[0]!.amount = -500)),
    ['tenders', 0, 'amount'],
    /must not be negative/,
  ),
  schema(
    'fractional money',
    broken((t) => void (t.tenders[1]!.amount = 109.5)),
    ['tenders', 1, 'amount'],
    /whole number of minor units/,
  ),
  schema(
    'money given as a decimal string',
    broken((t) => void (t.lines[0]!.unitPrice = '1.20')),
    ['lines', 0, 'unitPrice'],
    /number of minor units/,
  ),
  schema(
    'money beyond any real amount (1e400)',
    json(fresh()).replace('"unitPrice":120', '"unitPrice":1e400'),
    ['lines', 0, 'unitPrice'],
    /number of minor units/,
  ),
  schema(
    'a quantity with 4 decimals',
    broken((t) => void (t.lines[1]!.quantity = 1.2345)),
    ['lines', 1, 'quantity'],
    /at most 3 decimals/,
  ),
  schema(
    'a zero quantity',
    broken((t) => void (t.lines[0]!.quantity = 0)),
    ['lines', 0, 'quantity'],
    /greater than zero/,
  ),
  schema(
    'a return with a negative quantity',
    json({
      ...returnOf({ terminalId: 'T1', transactionId: 'sale-1', businessDay: '2026-11-23' }, 98),
      lines: [
        {
          ...returnOf({ terminalId: 'T1', transactionId: 'x', businessDay: '2026-11-23' }).lines[0],
          quantity: -1,
        },
      ],
    }),
    ['lines', 0, 'quantity'],
    /^invalid transaction: lines\.0\.quantity: must be greater than zero: quantities are positive in sales and returns alike \(the transaction type gives the direction\)$/,
  ),
  schema(
    'a void that restates lines without totals',
    json({
      ...voidOf({ terminalId: 'T1', transactionId: 'sale-1' }, 98),
      lines: returnOf({ terminalId: 'T1', transactionId: 'x', businessDay: '2026-11-23' }).lines,
      tenders: [{ method: 'cash', amount: 120 }],
      totals: undefined,
    }),
    ['totals'],
    /totals: required when lines or tenders are given/,
  ),
  schema(
    'a tax rate given as a percentage',
    broken((t) => void (t.lines[0]!.taxes[0]!.rate = 19)),
    ['lines', 0, 'taxes', 0, 'rate'],
    /fraction/,
  ),
  schema(
    'an unknown tender method',
    broken((t) => void (t.tenders[0]!.method = 'bitcoin')),
    ['tenders', 0, 'method'],
    /must be one of cash, card/,
  ),
  // Currency, dates and times.
  schema(
    'an unknown currency',
    json(fresh({ currency: 'ABC' })),
    ['currency'],
    /unknown ISO 4217 currency "ABC"/,
  ),
  schema('a lower-case currency', json(fresh({ currency: 'eur' })), ['currency'], /three upper-case letters/),
  schema(
    'a business day that is not a calendar date',
    json(fresh({ businessDay: '2026-02-30' })),
    ['businessDay'],
    /not a real calendar date/,
  ),
  schema(
    'a business day in another format',
    json(fresh({ businessDay: '23.11.2026' })),
    ['businessDay'],
    /YYYY-MM-DD/,
  ),
  schema(
    'occurredAt without an offset',
    json(fresh({ occurredAt: '2026-11-23T10:15:00' })),
    ['occurredAt'],
    /occurredAt: must be an ISO-8601 timestamp with an offset/,
  ),
  // Credentials.
  {
    name: 'no Authorization header',
    request: { body: json(fresh()), authorization: null },
    status: 401,
    error: /missing Authorization header/,
  },
  {
    name: 'an unknown token',
    request: { body: json(fresh()), authorization: 'Bearer not-a-token-of-this-store' },
    status: 401,
    error: /unknown terminal token/,
  },
  {
    name: 'a Basic instead of a Bearer credential',
    request: {
      body: json(fresh()),
      authorization: `Basic ${Buffer.from(`T1:${TILL_1.token}`).toString('base64')}`,
    },
    status: 401,
    error: /terminal token/,
  },
  {
    name: 'the token of another terminal than body.terminalId',
    request: { body: json(fresh()), authorization: `Bearer ${TILL_2.token}` },
    status: 403,
    error: /belongs to terminal T2, but the transaction says terminalId T1/,
  },
  // Idempotency.
  {
    name: 'a stored key with a different body',
    request: { body: json({ ...storedSale(), operatorId: 'op-8' }) },
    status: 409,
    error: /stored-1 of terminal T1 was already captured with a different body/,
  },
  // Routes.
  {
    name: 'an unknown route',
    request: { path: '/v1/transaction', body: json(fresh()) },
    status: 404,
    error: /no such endpoint: POST \/v1\/transaction$/,
  },
  {
    name: 'PUT on the transactions route',
    request: { method: 'PUT', body: json(fresh()) },
    status: 404,
    error: /no such endpoint: PUT \/v1\/transactions/,
  },
  {
    name: 'a promotions query with ?at=garbage',
    request: { method: 'GET', path: '/v1/promotions/active?at=garbage' },
    status: 400,
    error: /"at" must be an ISO-8601 timestamp/,
    path: ['at'],
  },
  {
    name: 'a promotions query without a token',
    request: { method: 'GET', path: '/v1/promotions/active', authorization: null },
    status: 401,
    error: /missing Authorization header/,
  },
];

/** What the outbox holds: compared before and after every bad request. */
const outboxState = () => {
  const { lastSeq, total, unsent } = agent.outbox.stats();
  return { lastSeq, total, unsentCount: unsent.count };
};

describe('capture API: bad input gets a clear error and changes nothing', () => {
  let stored: { eventId: string; seq: number };

  beforeAll(async () => {
    // One stored sale, so that a different body under its key has something to conflict with.
    const { status, json: body } = await send({ body: json(storedSale()) });
    expect(status).toBe(201);
    stored = captureAcceptedSchema.parse(body);
  });

  it('has at least 30 distinct bad requests, all named differently', () => {
    expect(new Set(badCases.map((c) => c.name)).size).toBe(badCases.length);
    expect(new Set(badCases.map((c) => json(c.request))).size).toBe(badCases.length);
    expect(badCases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(badCases)('answers $status for $name, says what is wrong, and stores nothing', async (badCase) => {
    const before = outboxState();
    const { status, json: body, headers } = await send(badCase.request);

    expect(status).toBeLessThan(500);
    expect(status, JSON.stringify(body)).toBe(badCase.status);
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    const answer = apiErrorSchema.parse(body);
    expect(answer.error).toMatch(badCase.error);
    if (badCase.path) {
      expect(answer.issues?.map((issue) => issue.path)).toContainEqual(badCase.path);
      const where = badCase.path.join('.');
      if (where && badCase.request.method !== 'GET') expect(answer.error).toContain(`${where}: `);
    }
    if (status === 401) expect(headers.get('www-authenticate')).toBe('Bearer');
    expect(outboxState()).toEqual(before);
  });

  it('still holds the stored sale under its first eventId and seq after all of that', async () => {
    const { status, json: body } = await send({ body: json(storedSale()) });
    expect(status).toBe(200);
    expect(body).toEqual({ ...stored, duplicate: true });
  });
});

describe('capture API: accepted and repeated transactions', () => {
  it('answers 201 {eventId, seq} and stores the body exactly as sent', async () => {
    const text = `{"v":1,  ${json(sale({ transactionId: 'exact-1' })).slice(7)}\n`;
    const before = outboxState();
    const { status, json: body } = await send({ body: text });
    expect(status).toBe(201);
    const accepted = captureAcceptedSchema.parse(body);
    expect(accepted.seq).toBe(before.lastSeq + 1);
    expect(accepted.duplicate).toBeUndefined();
    const row = agent.outbox.database
      .prepare('SELECT body, seq, event_id FROM event_log WHERE terminal_id = ? AND transaction_id = ?')
      .get('T1', 'exact-1');
    expect(row).toEqual({ body: text, seq: accepted.seq, event_id: accepted.eventId });
  });

  it('answers an exact re-submission 200 {duplicate: true} with the same eventId and seq, storing nothing', async () => {
    const body = json(sale({ transactionId: 'again-1' }));
    const first = await send({ body });
    expect(first.status).toBe(201);
    const before = outboxState();
    const second = await send({ body });
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ ...captureAcceptedSchema.parse(first.json), duplicate: true });
    expect(outboxState()).toEqual(before);
  });

  it('recognises a re-submission with keys in another order and other whitespace as the same (canonical hash)', async () => {
    const original = sale({ transactionId: 'reordered-1' });
    const first = await send({ body: json(original) });
    expect(first.status).toBe(201);
    const reverseKeys = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(reverseKeys);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value)
            .reverse()
            .map(([k, v]) => [k, reverseKeys(v)]),
        );
      }
      return value;
    };
    const reserialised = `\n  ${JSON.stringify(reverseKeys(original), null, 3)}\r\n`;
    expect(reserialised).not.toBe(json(original));
    const before = outboxState();
    const second = await send({ body: reserialised });
    expect(second.status).toBe(200);
    expect(second.json).toEqual({ ...captureAcceptedSchema.parse(first.json), duplicate: true });
    expect(outboxState()).toEqual(before);
  });

  it('answers 409 for the same key with a different body and keeps the stored body unchanged', async () => {
    const body = json(sale({ transactionId: 'conflict-1' }));
    const first = captureAcceptedSchema.parse((await send({ body })).json);
    const before = outboxState();
    const { status, json: answer } = await send({
      body: json(sale({ transactionId: 'conflict-1', operatorId: 'op-9' })),
    });
    expect(status).toBe(409);
    expect(apiErrorSchema.parse(answer).error).toContain(first.eventId);
    expect(outboxState()).toEqual(before);
    const storedBody = agent.outbox.database
      .prepare('SELECT body FROM event_log WHERE event_id = ?')
      .pluck()
      .get(first.eventId);
    expect(storedBody).toBe(body);
  });

  it('keys transactions per terminal: T2 may use a transactionId T1 already used', async () => {
    const fromT1 = await send({ body: json(sale({ transactionId: 'shared-1' })) });
    const fromT2 = await send({
      body: json(sale({ terminalId: 'T2', transactionId: 'shared-1' })),
      authorization: `Bearer ${TILL_2.token}`,
    });
    expect([fromT1.status, fromT2.status]).toEqual([201, 201]);
    expect(captureAcceptedSchema.parse(fromT2.json).seq).toBe(
      captureAcceptedSchema.parse(fromT1.json).seq + 1,
    );
  });

  it("accepts a void with only what README's transaction format asks of one: voids, no lines, tenders or totals", async () => {
    const {
      lines: _lines,
      tenders: _tenders,
      totals: _totals,
      ...bare
    } = voidOf({ terminalId: 'T1', transactionId: 'sale-1' }, 8);
    const { status, json: body } = await send({ body: json(bare) });
    expect(status, JSON.stringify(body)).toBe(201);
  });

  it('accepts a return and a void, and a Content-Type with a charset', async () => {
    const original = { terminalId: 'T1', transactionId: 'sale-1', businessDay: '2026-11-23' };
    const ret = await send({
      body: json(returnOf(original, 7)),
      contentType: 'application/json; charset=utf-8',
    });
    const voided = await send({ body: json(voidOf({ terminalId: 'T1', transactionId: 'sale-1' }, 7)) });
    expect([ret.status, voided.status]).toEqual([201, 201]);
  });
});

describe('capture API: status, promotions, health', () => {
  it('serves GET /v1/status to the loopback address without a token', async () => {
    const { status, json: body } = await send({ method: 'GET', path: '/v1/status', authorization: null });
    expect(status).toBe(200);
    const report = agentStatusSchema.parse(body);
    expect(report.storeId).toBe('store-0042');
    expect(report.capture.state).toBe('ok');
    expect(report.epoch).toBe(agent.outbox.epoch);
    expect(report.lastSeq).toBe(agent.outbox.stats().lastSeq);
    expect(report.backlog.count).toBe(agent.outbox.stats().unsent.count);
  });

  it('asks for a token when a loopback request names a foreign host (a rebound name in a browser)', async () => {
    const { port } = new URL(agent.url);
    const statusFor = (host: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/v1/status', headers: { host } }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          })
          .on('error', reject);
      });
    expect(await statusFor(`localhost:${port}`)).toBe(200);
    expect(await statusFor(`attacker.example:${port}`)).toBe(401);
  });

  it('answers GET /v1/promotions/active to a terminal with its token: none yet', async () => {
    const { status, json: body } = await send({ method: 'GET', path: '/v1/promotions/active' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ promotions: [] });
  });

  it('evaluates promotions at the instant given by ?at=', async () => {
    const { status, json: body } = await send({
      method: 'GET',
      path: '/v1/promotions/active?at=2026-11-23T14:05:00%2B01:00',
      authorization: `Bearer ${TILL_2.token}`,
    });
    expect(status).toBe(200);
    expect(body).toEqual({ at: '2026-11-23T13:05:00.000Z', promotions: [] });
  });

  it('answers /healthz 200 while capture works', async () => {
    const { status, json: body } = await send({ method: 'GET', path: '/healthz', authorization: null });
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true });
  });
});
