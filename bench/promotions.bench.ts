/**
 * Promotions benchmark: head office publishes 1,000 promotions to 50 stores; how long until every store
 * holds every one, and until head office has every store's proof of rollout, beside a raw baseline
 * measured in the same run on the same broker:
 *
 *   - baseline: a bare MQTT client publishes the same 1,000 signed texts, retained, QoS 1, to 50 bare
 *     subscribers (the broker's share of the work, and nothing else);
 *   - pipeline: `outpost hub` (its own process, SQLite or --db-url PostgreSQL) takes each promotion on
 *     POST /v1/promotions, validates, signs, stores and publishes it; 50 lightweight stores (bare MQTT
 *     clients in this process, see test/support/promotion-store-sim.ts) verify each signature and decide
 *     with the agent's own rules (decideReceivedPromotion), state their catalogue after each burst of
 *     changes as an agent does, and report each applied version as a promotion-applied event on the
 *     events path, acknowledged by the hub after the commit that also records the rollout;
 *   - re-offer: one more store that sees no retained message at all (subscribed to its own topic only, as
 *     after a broker restart without persistence) states an empty catalogue and is re-offered all 1,000.
 *
 * Then the store agent's own endpoints with the same promotions loaded (bench/support/agent-promotion-
 * endpoints.ts): GET /v1/promotions/active and POST /v1/baskets/price with 30-line baskets, p50/p99,
 * beside empty routes measured in the same run (aim: pricing p99 under 5× the empty route).
 *
 * Run with `npm run bench:promotions` (`-- --promotions 200 --stores 10` for a quicker run,
 * `-- --db-url postgres://…` for PostgreSQL). Bounded by a watchdog; the temp dir is removed at the end.
 * Exit 1 if any store ends without every promotion, or head office's rollout disagrees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import type { PromotionListEntry } from '../src/hub/index.js';
import {
  createPromotionSigner,
  createTrustedKeyring,
  generateSigningKeyPair,
} from '../src/promotions/index.js';
import { PromotionStoreSim } from '../test/support/promotion-store-sim.js';
import {
  measureAgentPromotionEndpoints,
  type AgentEndpointResults,
} from './support/agent-promotion-endpoints.js';
import { machineContext } from './support/machine.js';
import { startMosquittoProcess, type MosquittoProcess } from './support/mosquitto-process.js';
import { fmt, resultsPath, table } from './support/report.js';
import { summarize, type Distribution } from './support/stats.js';

const { values: flags } = parseArgs({
  options: {
    promotions: { type: 'string', default: '1000' },
    stores: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '4' },
    'db-url': { type: 'string' },
  },
});
const numberFlag = (name: 'promotions' | 'stores' | 'concurrency', min: number, max: number) => {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`--${name} must be a whole number between ${min} and ${max}`);
  return value;
};
const PROMOTIONS = numberFlag('promotions', 1, 10_000);
const STORES = numberFlag('stores', 1, 500);
const CONCURRENCY = numberFlag('concurrency', 1, 64);
const TOKEN = 'bench-operator-token-0123456789';
const WATCHDOG_MS = 20 * 60 * 1000;
const PHASE_LIMIT_MS = 10 * 60 * 1000;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const progress = (line: string) => process.stderr.write(`· ${line}\n`);
const seconds = (ms: number) => fmt(ms / 1000, 2);

const workDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-promotions-bench-'));
let broker: MosquittoProcess | undefined;
let hubChild: ChildProcess | undefined;
const clients: { close(): Promise<void> }[] = [];
const watchdog = setTimeout(() => {
  process.stderr.write(`promotions bench: watchdog after ${WATCHDOG_MS / 1000} s; giving up\n`);
  hubChild?.kill('SIGKILL');
  broker?.kill();
  rmSync(workDir, { recursive: true, force: true });
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

/** Varied, valid promotions for every store: each rule kind, each concurrency mode, sku and category items. */
function promotionDocument(i: number): Record<string, unknown> {
  const rules = [
    { kind: 'percent-off', percent: 5 + (i % 20) },
    { kind: 'amount-off', amount: 10 + (i % 50) },
    { kind: 'fixed-price', price: 99 + (i % 400) },
    { kind: 'buy-x-get-y', buy: 2, get: 1 },
    { kind: 'bundle-price', quantity: 3, price: 500 + (i % 300) },
    { kind: 'threshold', spend: 5000, amountOff: 500 },
  ];
  return {
    v: 1,
    promotionId: `BENCH-${String(i).padStart(5, '0')}`,
    version: 1,
    name: `Bench promotion ${i}`,
    state: 'active',
    currency: 'EUR',
    target: { all: true },
    validity: { from: '2026-01-01T00:00:00+01:00', until: '2027-01-01T00:00:00+01:00' },
    rule: rules[i % rules.length],
    items:
      i % 3 === 0 ? { categories: [`cat-${i % 40}`] } : { skus: [`SKU-${i % 500}`, `SKU-${(i * 7) % 500}`] },
    concurrency: (['best-price', 'compounded', 'exclusive'] as const)[i % 3],
    priority: i % 10,
  };
}

async function connectBare(url: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, clean: true, protocolVersion: 4 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  clients.push({ close: () => client.endAsync(true).catch(() => {}) });
  return client;
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = PHASE_LIMIT_MS,
): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU time of one process (all threads), from /proc. */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return ((fields[11] ?? 0) + (fields[12] ?? 0)) * 10;
  } catch {
    return 0;
  }
}

/** The raw baseline: the same texts, retained QoS 1, from one bare publisher to `stores` bare subscribers. */
async function rawFanOut(url: string, texts: readonly string[]): Promise<number> {
  const subscribers = await Promise.all(Array.from({ length: STORES }, () => connectBare(url)));
  const counts = subscribers.map(() => 0);
  await Promise.all(
    subscribers.map(async (client, i) => {
      client.on('message', () => counts[i]!++);
      await client.subscribeAsync('bench/raw/#', { qos: 1 });
    }),
  );
  const publisher = await connectBare(url);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < texts.length) {
        const i = next++;
        await publisher.publishAsync(`bench/raw/${i}`, texts[i]!, { qos: 1, retain: true });
      }
    }),
  );
  await until('every bare subscriber has every text', () => counts.every((c) => c >= texts.length));
  const elapsed = performance.now() - started;
  for (let i = 0; i < texts.length; i++) publisher.publish(`bench/raw/${i}`, '', { qos: 0, retain: true });
  await Promise.all(subscribers.map((c) => c.endAsync(true)));
  return elapsed;
}

async function startHubProcess(configFile: string): Promise<string> {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/outpost.js'), 'hub', '--config', configFile], {
    cwd: REPO,
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OUTPOST_'))),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hubChild = child;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub not ready after 30 s: ${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`hub exited (${code}) before it was ready: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === 'listening' && event.url) {
          clearTimeout(timer);
          resolve(event.url);
        }
      } catch {
        // not the listening line
      }
    });
  });
}

async function hubGet<T>(hubUrl: string, url: string): Promise<T> {
  const response = await fetch(`${hubUrl}${url}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

interface Results {
  promotions: number;
  stores: number;
  db: string;
  rawFanOutMs: number;
  pushMs: number;
  pushLatencyMs: Distribution;
  allHeldMs: number;
  storeHeldMs: Distribution;
  allReportedMs: number;
  reofferMs: number;
  hubCpuMs: number;
  ratio: number;
  agent: AgentEndpointResults;
}

async function main(): Promise<Results> {
  progress(`${PROMOTIONS} promotions to ${STORES} stores; broker, hub and stores starting`);
  broker = await startMosquittoProcess(workDir);
  const key = generateSigningKeyPair();
  const keyFile = path.join(workDir, 'promotion-signing-key.pem');
  writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
  const dbUrl = flags['db-url'] ?? `sqlite:${path.join(workDir, 'hub.sqlite')}`;
  const configFile = path.join(workDir, 'hub.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      hubId: 'bench-hub',
      db: { url: dbUrl },
      mqtt: { url: broker.url, shareGroup: 'bench-hubs' },
      api: { host: '127.0.0.1', port: 0, token: TOKEN },
      promotions: { signingKeyFile: keyFile },
      log: { level: 'warn', console: false },
    }),
  );

  // The baseline first, on an idle broker: the same bytes the hub will publish.
  const signer = createPromotionSigner(key.privateKeyPem);
  const documents = Array.from({ length: PROMOTIONS }, (_, i) => promotionDocument(i));
  const texts = documents.map((d) => JSON.stringify(signer.sign(d)));
  progress('baseline: raw retained fan-out of the same texts');
  const rawFanOutMs = await rawFanOut(broker.url, texts);

  const hubUrl = await startHubProcess(configFile);
  const keyring = createTrustedKeyring([key.publicKeyBase64]);
  const sims = await Promise.all(
    Array.from({ length: STORES }, (_, i) =>
      PromotionStoreSim.connect({
        url: broker!.url,
        storeId: `B${String(i).padStart(3, '0')}`,
        region: `R${i % 5}`,
        auto: { keyring },
        stateCatalogue: true,
      }),
    ),
  );
  clients.push(...sims);
  for (const sim of sims) {
    await sim.publishStatus('online');
    await sim.publishCatalogue();
  }
  await until('the hub knows every store', async () => {
    const { stores } = await hubGet<{ stores: unknown[] }>(hubUrl, '/v1/stores');
    return stores.length >= STORES;
  });

  progress('pipeline: pushing through the hub');
  const cpuBefore = processCpuMs(hubChild?.pid);
  const started = performance.now();
  const pushLatencies: number[] = [];
  const heldAt = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < documents.length) {
        const doc = documents[next++]!;
        const t = performance.now();
        const response = await fetch(`${hubUrl}/v1/promotions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(doc),
        });
        if (response.status !== 201)
          throw new Error(`push answered ${response.status}: ${await response.text()}`);
        pushLatencies.push(performance.now() - t);
      }
    }),
  );
  const pushMs = performance.now() - started;
  await until('every store holds every promotion', () => {
    for (const sim of sims) {
      if (!heldAt.has(sim.storeId) && sim.held.size >= PROMOTIONS)
        heldAt.set(sim.storeId, performance.now() - started);
    }
    return heldAt.size === sims.length;
  });
  const allHeldMs = performance.now() - started;
  progress(
    `every store holds every promotion after ${seconds(allHeldMs)} s; waiting for the rollout reports`,
  );
  await Promise.all(sims.map((s) => s.settled()));
  const list = await hubGet<{ promotions: PromotionListEntry[] }>(hubUrl, '/v1/promotions');
  const allReportedMs = performance.now() - started;
  const hubCpuMs = processCpuMs(hubChild?.pid) - cpuBefore;
  const short = list.promotions.filter((p) => p.rollout.applied !== STORES || p.rollout.targeted !== STORES);
  if (list.promotions.length !== PROMOTIONS || short.length > 0) {
    throw new Error(
      `head office's rollout disagrees: ${list.promotions.length} promotions, ${short.length} not applied by every store (e.g. ${JSON.stringify(short[0]?.rollout)})`,
    );
  }
  const failed = sims.filter((s) => s.lastError);
  if (failed.length > 0)
    throw new Error(`${failed.length} stores failed to report: ${failed[0]!.lastError!.message}`);

  progress('re-offer: a store that sees no retained message states an empty catalogue');
  const late = await PromotionStoreSim.connect({
    url: broker.url,
    storeId: 'LATE',
    region: 'R0',
    auto: { keyring },
    ownTopicOnly: true,
  });
  clients.push(late);
  const reofferStarted = performance.now();
  await late.publishCatalogue();
  await until('the late store holds every promotion', () => late.held.size >= PROMOTIONS);
  const reofferMs = performance.now() - reofferStarted;

  progress(`the store agent's endpoints with ${PROMOTIONS} promotions loaded`);
  const agent = await measureAgentPromotionEndpoints({
    workDir,
    documents: Array.from({ length: PROMOTIONS }, (_, i) => promotionDocument(i)),
  });

  return {
    promotions: PROMOTIONS,
    stores: STORES,
    db: dbUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres',
    rawFanOutMs,
    pushMs,
    pushLatencyMs: summarize(pushLatencies),
    allHeldMs,
    storeHeldMs: summarize([...heldAt.values()]),
    allReportedMs,
    reofferMs,
    hubCpuMs,
    ratio: allHeldMs / rawFanOutMs,
    agent,
  };
}

function report(r: Results): void {
  const ms = (v: number) => fmt(v, v < 10 ? 2 : 1);
  console.log(`\nPromotions: ${r.promotions} promotions to ${r.stores} stores (hub database: ${r.db})\n`);
  console.log(
    table(
      ['measure', 'value'],
      [
        ['raw retained fan-out of the same texts (baseline)', `${seconds(r.rawFanOutMs)} s`],
        ['pushes accepted (POST /v1/promotions, all)', `${seconds(r.pushMs)} s`],
        [
          '  per push p50 / p99 / max',
          `${ms(r.pushLatencyMs.p50)} / ${ms(r.pushLatencyMs.p99)} / ${ms(r.pushLatencyMs.max)} ms`,
        ],
        ['every store holds every promotion', `${seconds(r.allHeldMs)} s`],
        ['  per store p50 / max', `${seconds(r.storeHeldMs.p50)} / ${seconds(r.storeHeldMs.max)} s`],
        ['every rollout report stored at head office', `${seconds(r.allReportedMs)} s`],
        ['hub CPU meanwhile', `${seconds(r.hubCpuMs)} s`],
        ['a store without retained messages re-offered all', `${seconds(r.reofferMs)} s`],
        ['held-by-all ÷ raw fan-out', fmt(r.ratio, 1)],
      ],
    ),
  );
  console.log(
    "\nStores are lightweight (bare MQTT clients verifying with the agent's own rules); the store agent's\n" +
      'own endpoints are measured on a real `outpost agent` holding the same promotions:',
  );
  const a = r.agent;
  const p = (d: Distribution) => `${fmt(d.p50, 3)} / ${fmt(d.p99, 3)} ms`;
  console.log(
    table(
      ['one till, keep-alive', 'p50 / p99'],
      [
        ['empty POST route (Fastify, same body size; baseline)', p(a.emptyPostMs)],
        ['GET /healthz of the agent (baseline)', p(a.emptyGetMs)],
        [
          `GET /v1/promotions/active (${a.inForce} in force, ${fmt(a.activeBytes / 1024, 0)} KiB)`,
          p(a.activeMs),
        ],
        [
          `POST /v1/baskets/price (30 lines, ${fmt(a.appliedPerBasket, 1)} promotions applied each)`,
          p(a.priceMs),
        ],
        ['pricing p99 ÷ empty POST route p99 (aim < 5)', fmt(a.priceMs.p99 / a.emptyPostMs.p99, 1)],
        ['pricing p50 ÷ empty POST route p50', fmt(a.priceMs.p50 / a.emptyPostMs.p50, 1)],
      ],
    ),
  );
}

try {
  const results = await main();
  report(results);
  const resultsFile = resultsPath('promotions-latest.json');
  writeFileSync(resultsFile, JSON.stringify({ machine: machineContext(), results }, null, 2));
  console.log(`results: ${path.relative(process.cwd(), resultsFile)}`);
} catch (error) {
  process.stderr.write(`promotions bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await Promise.all(clients.map((c) => c.close()));
  if (hubChild && hubChild.exitCode === null) {
    const exited = new Promise((r) => hubChild!.once('exit', r));
    hubChild.kill('SIGTERM');
    await exited;
  }
  await broker?.stop();
  rmSync(workDir, { recursive: true, force: true });
}
