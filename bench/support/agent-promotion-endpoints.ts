import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  appliedRecord,
  createCatalogueStore,
  createPromotionSigner,
  createTrustedKeyring,
  decideReceivedPromotion,
  generateSigningKeyPair,
  type CatalogueWrite,
} from '../../src/promotions/index.js';
import { Outbox } from '../../src/sync/index.js';
import { startServerProcess } from './server-process.js';
import { summarize, type Distribution } from './stats.js';

/**
 * The store agent's own promotion endpoints under a full catalogue: `outpost agent` (its own process)
 * with the promotions already in its outbox database, as after a rollout, answering one till at a time
 * (keep-alive, closed loop): `GET /v1/promotions/active` and `POST /v1/baskets/price` with 30-line
 * baskets, beside empty routes measured in the same run: `GET /healthz` of the same agent, and the
 * capture bench's empty POST route (Fastify reading a JSON body of the basket's size, in a process of its
 * own). Latencies are taken per request with performance.now(), so sub-millisecond figures keep their
 * precision.
 */

export interface AgentEndpointResults {
  promotions: number;
  inForce: number;
  activeBytes: number;
  /** Promotions that gave a discount, per priced basket (mean). */
  appliedPerBasket: number;
  emptyGetMs: Distribution;
  emptyPostMs: Distribution;
  activeMs: Distribution;
  priceMs: Distribution;
}

const STORE = 'BENCH-STORE';
const TOKEN = 'bench-till-token-0123456789';
const AT = '2026-06-15T12:00:00+02:00';
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Puts the signed versions straight into a new outbox, as the agent would have stored them on receipt. */
function preload(file: string, documents: readonly Record<string, unknown>[]): string {
  const keys = generateSigningKeyPair();
  const signer = createPromotionSigner(keys.privateKeyPem);
  const keyring = createTrustedKeyring([keys.publicKeyBase64]);
  const outbox = new Outbox({ file, storeId: STORE });
  try {
    const store = createCatalogueStore(outbox);
    const writes: CatalogueWrite[] = documents.map((document) => {
      const signed = signer.sign(document);
      const decision = decideReceivedPromotion(signed, {
        store: { storeId: STORE },
        keyring,
        held: () => undefined,
      });
      if (decision.outcome !== 'apply') throw new Error(`bench promotion refused: ${decision.message}`);
      return {
        kind: 'apply',
        promotionId: decision.promotion.promotionId,
        version: decision.promotion.version,
        state: decision.promotion.state,
        change: decision.change,
        digest: decision.digest,
        keyId: keys.keyId,
        previousVersion: undefined,
        signedText: JSON.stringify(signed),
        topic: 'bench',
        record: appliedRecord(decision, Date.now()),
        at: Date.now(),
      };
    });
    for (let i = 0; i < writes.length; i += 500) store.record(writes.slice(i, i + 500));
  } finally {
    outbox.close();
  }
  return keys.publicKeyBase64;
}

async function startAgentProcess(dir: string, publicKey: string) {
  const config = path.join(dir, 'agent.json');
  writeFileSync(
    config,
    JSON.stringify({
      storeId: STORE,
      timeZone: 'Europe/Paris',
      dataDir: dir,
      api: { host: '127.0.0.1', port: 0, terminals: [{ id: 'T1', token: TOKEN }] },
      promotions: { trustedKeys: [publicKey] },
    }),
  );
  const child = spawn(process.execPath, [path.join(REPO, 'bin/outpost.js'), 'agent', '--config', config], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the agent did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the agent exited (code ${String(code)})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /"url":"([^"]+)"/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { url, stop };
}

/** One till: requests one after another on one keep-alive connection, each timed on its own. */
function till(base: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(base);
  const send = (method: string, pathname: string, body?: string) =>
    new Promise<{ ms: number; status: number; text: string }>((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: pathname,
          method,
          agent,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              ms: performance.now() - started,
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  return { send, close: () => agent.destroy() };
}

async function measure(
  what: string,
  requests: number,
  next: (i: number) => Promise<{ ms: number; status: number; text: string }>,
  expectStatus: number,
): Promise<Distribution> {
  const warmUp = Math.ceil(requests / 10);
  const latencies: number[] = [];
  for (let i = 0; i < warmUp + requests; i++) {
    const answer = await next(i);
    if (answer.status !== expectStatus)
      throw new Error(`${what}: answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    if (i >= warmUp) latencies.push(answer.ms);
  }
  return summarize(latencies);
}

/** 30-line baskets of the bench's skus and categories (SKU-0…499, cat-0…39), several so nothing is primed. */
function baskets(count: number): string[] {
  let seed = 20260615;
  const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return Array.from({ length: count }, () =>
    JSON.stringify({
      currency: 'EUR',
      at: AT,
      lines: Array.from({ length: 30 }, (_, i) => ({
        lineNo: i + 1,
        sku: `SKU-${Math.floor(random() * 500)}`,
        category: `cat-${Math.floor(random() * 40)}`,
        quantity: 1 + Math.floor(random() * 4),
        unitPrice: 99 + Math.floor(random() * 1500),
      })),
    }),
  );
}

export async function measureAgentPromotionEndpoints(options: {
  workDir: string;
  documents: readonly Record<string, unknown>[];
  requests?: number;
}): Promise<AgentEndpointResults> {
  const requests = options.requests ?? 2000;
  const dir = path.join(options.workDir, 'agent-endpoints');
  mkdirSync(dir, { recursive: true });
  const publicKey = preload(path.join(dir, 'outbox.sqlite'), options.documents);
  const agent = await startAgentProcess(dir, publicKey);
  const empty = await startServerProcess('empty-route-child.ts', []);
  const toAgent = till(agent.url);
  const toEmpty = till(empty.url);
  try {
    const bodies = baskets(64);
    const active = await toAgent.send('GET', `/v1/promotions/active?at=${encodeURIComponent(AT)}`);
    const inForce = (JSON.parse(active.text) as { promotions: unknown[] }).promotions.length;
    let applied = 0;
    let priced = 0;
    const results: AgentEndpointResults = {
      promotions: options.documents.length,
      inForce,
      activeBytes: Buffer.byteLength(active.text),
      appliedPerBasket: 0,
      emptyGetMs: await measure('GET /healthz', requests, () => toAgent.send('GET', '/healthz'), 200),
      emptyPostMs: await measure(
        'empty POST route',
        requests,
        // The same bytes as a basket, plus the one field the empty route reads.
        (i) =>
          toEmpty.send('POST', '/v1/transactions', `{"transactionId":"b${i}",${bodies[i % 64]!.slice(1)}`),
        201,
      ),
      activeMs: await measure(
        'GET /v1/promotions/active',
        Math.ceil(requests / 4),
        () => toAgent.send('GET', `/v1/promotions/active?at=${encodeURIComponent(AT)}`),
        200,
      ),
      priceMs: await measure(
        'POST /v1/baskets/price',
        requests,
        async (i) => {
          const answer = await toAgent.send('POST', '/v1/baskets/price', bodies[i % 64]);
          if (answer.status === 200) {
            applied += (JSON.parse(answer.text) as { promotions: unknown[] }).promotions.length;
            priced += 1;
          }
          return answer;
        },
        200,
      ),
    };
    results.appliedPerBasket = priced > 0 ? applied / priced : 0;
    return results;
  } finally {
    toAgent.close();
    toEmpty.close();
    await empty.stop().catch(() => undefined);
    await agent.stop();
  }
}
