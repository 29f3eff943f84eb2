import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { exportLine, startHub, type RunningHub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { exactSaleText } from '../support/exact-bodies.js';
import { startMosquitto } from '../support/mosquitto.js';
import { createTempPostgresDatabase } from '../support/postgres.js';
import { StorePublisher } from '../support/store-publisher.js';
import { SyncHarness } from '../support/sync-harness.js';
import { makeTempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/outpost.js');
const TOKEN = 'operator-token-0123456789';
const STORE = 'S-EXACT';
const EPOCH = '7e7e7e7e7e7e7e7e';
const DAY = '2026-11-23';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

const get = async (hubUrl: string, pathAndQuery: string) => {
  const response = await fetch(`${hubUrl}${pathAndQuery}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
};

/** What `outpost hub export` writes for one store and day, run as the real CLI against the hub's database. */
async function exportWithCli(dbUrl: string, storeId: string): Promise<string> {
  const dir = makeTempDir('hub-exact-export');
  const config = path.join(dir, 'hub.json');
  writeFileSync(
    config,
    JSON.stringify({
      hubId: 'export',
      db: { url: dbUrl },
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      api: { token: TOKEN },
    }),
  );
  const out = path.join(dir, 'day.jsonl');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OUTPOST_')));
  await run(
    process.execPath,
    [BIN, 'hub', 'export', '--config', config, '--store', storeId, '--day', DAY, '--out', out],
    {
      env,
    },
  );
  return readFileSync(out, 'utf8');
}

const lineFor = (seq: number, eventId: string, text: string) =>
  `{"storeId":"${STORE}","epoch":"${EPOCH}","seq":${seq},"eventId":"${eventId}","capturedAt":"2026-11-23T10:15:00.000Z","transaction":${text}}`;

describe.each(['sqlite', 'postgres'] as const)('exact bodies through Mosquitto into a %s hub', (kind) => {
  it('serves and exports each body byte for byte: big integers, integer-like keys, escapes, whitespace', async () => {
    let dbUrl = `sqlite:${path.join(makeTempDir('hub-exact'), 'hub.sqlite')}`;
    if (kind === 'postgres') {
      const database = await createTempPostgresDatabase();
      cleanups.push(() => database.drop());
      dbUrl = database.url;
    }
    const broker = await startMosquitto();
    cleanups.push(() => broker.stop());
    const hub: RunningHub = await startHub(
      hubConfigSchema.parse({
        hubId: `hub-exact-${kind}`,
        db: { url: dbUrl },
        mqtt: { url: broker.url, shareGroup: 'outpost-hubs', keepaliveSeconds: 5 },
        api: { host: '127.0.0.1', port: 0, token: TOKEN },
      }),
      { logger: silentLogger() },
    );
    cleanups.push(() => hub.stop());
    const stores = await StorePublisher.connect(broker.url);
    cleanups.push(() => stores.close());

    const texts = [
      exactSaleText(1),
      exactSaleText(2, 'T2', { lineBreaks: false }),
      exactSaleText(3, 'T3', { outerWhitespace: false }),
    ];
    const notJson = '{"v":1,"type":"sale" ... the till cut this one off';
    const events = [
      ...texts.map((text, i) => ({ seq: i + 1, eventId: `01EXACT${String(i + 1).padStart(12, '0')}`, text })),
      { seq: 4, eventId: '01EXACT000000000004', text: notJson },
    ];
    await stores.publishBatch(STORE, EPOCH, events);
    const ack = await stores.waitForAck(STORE, (a) => a.ackedThrough === 4, 'seqs 1–4');
    expect(ack).toMatchObject({
      kind: 'batch',
      rejected: [{ seq: 4, reason: expect.stringMatching(/^body is not JSON/) as string }],
    });

    // A second writer under the same epoch: its exact text is quarantined, and served as it was sent.
    const clone = exactSaleText(9, 'T9');
    await stores.publishBatch(STORE, EPOCH, [{ seq: 1, eventId: '01CLONE000000000001', text: clone }]);
    await stores.waitForAck(STORE, (a) => a.kind === 'batch' && a.conflicts.length === 1, 'the conflict');

    const served = await get(hub.url, `/v1/stores/${STORE}/transactions?epoch=${EPOCH}`);
    for (const text of texts) expect(served).toContain(`"body":${text}}`);
    expect(served).toContain(`"body":${JSON.stringify(notJson)}}`);
    const decoded = JSON.parse(served) as { events: { seq: number; status: string; body: unknown }[] };
    expect(decoded.events.map((e) => [e.seq, e.status])).toEqual([
      [1, 'stored'],
      [2, 'stored'],
      [3, 'stored'],
      [4, 'rejected'],
    ]);
    const quarantine = await get(hub.url, `/v1/stores/${STORE}/quarantine`);
    expect(quarantine).toContain(`"body":${clone}}`);

    // The export: every line is JSON on one line, the text spliced in. Only line breaks, which in JSON
    // text are whitespace between tokens, become spaces; a text without them comes out byte for byte.
    const exported = await exportWithCli(dbUrl, STORE);
    expect(exported.split('\n')).toEqual([
      lineFor(1, events[0]!.eventId, texts[0]!.replace(/[\r\n]/g, ' ')),
      lineFor(2, events[1]!.eventId, texts[1]!),
      lineFor(3, events[2]!.eventId, texts[2]!.replace(/[\r\n]/g, ' ')),
      '',
    ]);
  });
});

describe('exact bodies from the till to head office (agent → Mosquitto → hub)', () => {
  it('gives the API and the export the text each till sent', async () => {
    const h = await SyncHarness.start({ broker: 'mosquitto' });
    cleanups.push(() => h.close());
    await h.sell(12, { text: (terminalId, n) => exactSaleText(n, terminalId, { lineBreaks: n % 2 === 0 }) });
    expect(h.unexpected).toEqual([]);
    await h.waitUntilDelivered();
    expect(await h.deliveryProblems()).toEqual([]);

    const epoch = h.agent.outbox.epoch;
    const response = await fetch(`${h.hub.url}/v1/stores/${h.storeId}/transactions?epoch=${epoch}`, {
      headers: { authorization: 'Bearer hub-operator-token-for-tests' },
    });
    const served = await response.text();
    for (const sale of h.sent) expect(served).toContain(`"body":${sale.text}}`);

    const lines = (await h.hub.store.exportDay(h.storeId, DAY)).map(exportLine);
    expect(lines).toHaveLength(h.sent.length);
    for (const sale of h.sent) {
      const line = lines.find((l) => l.includes(`"eventId":"${sale.eventId}"`));
      expect(line).toMatch(new RegExp(`^\\{"storeId":"${h.storeId}","epoch":"${epoch}","seq":${sale.seq},`));
      expect(line?.endsWith(`"transaction":${sale.text.replace(/[\r\n]/g, ' ')}}`)).toBe(true);
    }
  });
});
