import { describe, expect, it } from 'vitest';
import { catalogueMessageSchema } from '../../src/contracts/promotion-sync.js';
import { StorageUnavailableError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/logger.js';
import {
  CatalogueService,
  createPromotionSigner,
  createTrustedKeyring,
  generateSigningKeyPair,
  type CatalogueStore,
  type CatalogueTuning,
  type CatalogueWrite,
  type StoredPromotion,
  type WriteOutcome,
} from '../../src/promotions/index.js';
import { promotionDraft } from '../support/promotion-documents.js';

/**
 * The agent's catalogue service over an in-memory store: what it decides, writes, states and answers,
 * and how it copes with storage that fails. The SQLite store itself is tested in
 * test/integration/agent-promotions-outbox.test.ts, the whole agent in agent-promotions.test.ts.
 */

const keys = generateSigningKeyPair();
const signer = createPromotionSigner(keys.privateKeyPem);
const identity = { storeId: 'S042', region: 'north', timeZone: 'Europe/Paris' };
const AT = Date.parse('2026-06-15T10:00:00Z');

interface MemoryStore extends CatalogueStore {
  batches: CatalogueWrite[][];
  rows: Map<string, StoredPromotion>;
  /** The next this many record() calls fail as a full disk. */
  failing: number;
}

function memoryStore(initial: StoredPromotion[] = []): MemoryStore {
  const refusalKeys = new Set<string>();
  let seq = 0;
  const store: MemoryStore = {
    batches: [],
    rows: new Map(initial.map((row) => [row.promotionId, row])),
    failing: 0,
    loadCatalogue: () => [...store.rows.values()],
    refusalsUnder: () => [],
    lastRefusal: () => undefined,
    refusalCount: () => refusalKeys.size,
    unsentReports: () => 0,
    record(writes) {
      if (store.failing > 0) {
        store.failing -= 1;
        throw new StorageUnavailableError('the disk holding the outbox is full', 'disk-full');
      }
      store.batches.push([...writes]);
      return writes.map((write): WriteOutcome => {
        if (write.kind === 'refuse') {
          if (refusalKeys.has(write.refusalKey)) return { recorded: false };
          refusalKeys.add(write.refusalKey);
        } else {
          store.rows.set(write.promotionId, {
            promotionId: write.promotionId,
            version: write.version,
            state: write.state,
            change: write.change,
            digest: write.digest,
            keyId: write.keyId,
            signedText: write.signedText,
            appliedAt: write.at,
          });
        }
        seq += 1;
        return { recorded: true, eventId: `E${seq}`, epoch: 'e1', seq };
      });
    },
  };
  return store;
}

function service(
  store: MemoryStore,
  options: { tuning?: Partial<CatalogueTuning>; published?: string[]; recorded?: () => void } = {},
) {
  const published = options.published ?? [];
  const s = new CatalogueService({
    store,
    identity,
    keyring: createTrustedKeyring([keys.publicKeyPem]),
    logger: silentLogger(),
    clock: { now: () => AT, monotonic: () => 0 },
    topicPrefix: 'outpost/v1',
    ...(options.recorded ? { onRecorded: options.recorded } : {}),
    publish: async (_topic, payload) => {
      published.push(payload);
      return true;
    },
    tuning: { stateAfterMs: 1, ...options.tuning },
  });
  s.start();
  return s;
}

const message = (overrides: Record<string, unknown>) =>
  Buffer.from(JSON.stringify(signer.sign(promotionDraft(overrides))));
const TOPIC = 'outpost/v1/promotions/stores/S042/P';

describe('the catalogue service', () => {
  it('applies in order, a slice per transaction, each version deciding on what the slice already took', async () => {
    const store = memoryStore();
    let recorded = 0;
    const s = service(store, { tuning: { sliceSize: 2 }, recorded: () => (recorded += 1) });
    for (const version of [1, 2, 3]) s.receive(TOPIC, message({ promotionId: 'P', version }));
    s.receive(TOPIC, message({ promotionId: 'P', version: 2 })); // stale by then
    await s.idle();

    expect(store.batches.map((b) => b.map((w) => `${w.kind}:${w.record.version}`))).toEqual([
      ['apply:1', 'apply:2'],
      ['apply:3', 'refuse:2'],
    ]);
    expect(recorded).toBe(2);
    expect(s.activeAt(AT).promotions.map((p) => `${p.promotionId}@${p.version}`)).toEqual(['P@3']);
    expect(s.status(AT)).toMatchObject({
      active: 1,
      held: 1,
      refused: 1,
      trustedKeys: 1,
      timeZone: 'Europe/Paris',
    });
  });

  it('writes nothing for a redelivery of the version held, nor for an empty (cleared) retained message', async () => {
    const store = memoryStore();
    const s = service(store);
    const v1 = message({ promotionId: 'P', version: 1 });
    s.receive(TOPIC, v1);
    await s.idle();
    s.receive(TOPIC, v1);
    s.receive(TOPIC, Buffer.alloc(0));
    await s.idle();
    expect(store.batches).toHaveLength(1);
  });

  it('tries a slice again when storage fails, and changes nothing in force meanwhile', async () => {
    const store = memoryStore();
    store.failing = 2;
    const s = service(store, { tuning: { retryAfterMs: 5 } });
    s.receive(TOPIC, message({ promotionId: 'P', version: 1 }));
    await new Promise((r) => setTimeout(r, 1));
    expect(s.activeAt(AT).promotions).toEqual([]);
    await s.idle();
    expect(store.batches).toHaveLength(1);
    expect(s.activeAt(AT).promotions).toHaveLength(1);
  });

  it('gives a message up after its attempts (a hub offers it again), and keeps taking the next ones', async () => {
    const store = memoryStore();
    store.failing = 3;
    const s = service(store, { tuning: { retryAfterMs: 1, maxAttempts: 3 } });
    s.receive(TOPIC, message({ promotionId: 'P', version: 1 }));
    await s.idle();
    expect(store.batches).toEqual([]);
    s.receive(TOPIC, message({ promotionId: 'Q', version: 1 }));
    await s.idle();
    expect(store.batches.flat().map((w) => w.record.promotionId)).toEqual(['Q']);
  });

  it('drops what exceeds its queue rather than grow without bound, and states its catalogue so a hub re-offers it', async () => {
    const store = memoryStore();
    const published: string[] = [];
    const s = service(store, { tuning: { maxQueued: 2 }, published });
    for (let n = 0; n < 5; n++) s.receive(TOPIC, message({ promotionId: `P${n}`, version: 1 }));
    await s.idle();
    expect(store.batches.flat()).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 20));
    expect(published.length).toBeGreaterThan(0);
  });

  it('states what it holds, live for this store, and the refused versions no later version replaced', async () => {
    const store = memoryStore();
    const published: string[] = [];
    const s = service(store, { published });
    s.receive(TOPIC, message({ promotionId: 'LIVE', version: 2 }));
    s.receive(TOPIC, message({ promotionId: 'STAGED', version: 1, state: 'staged' }));
    s.receive(TOPIC, message({ promotionId: 'GONE', version: 1 }));
    s.receive(TOPIC, message({ promotionId: 'GONE', version: 2, state: 'withdrawn' }));
    // Refused: not for this store's region; then a version conflict on LIVE.
    s.receive(TOPIC, message({ promotionId: 'SOUTH', version: 3, target: { regions: ['south'] } }));
    s.receive(TOPIC, message({ promotionId: 'LIVE', version: 2, name: 'Another document, same version' }));
    await s.idle();

    const stated = catalogueMessageSchema.parse(s.catalogueMessage(AT));
    expect(stated).toMatchObject({ storeId: 'S042', region: 'north', at: new Date(AT).toISOString() });
    expect(stated.statement).toMatchObject({ count: 2, versions: { LIVE: 2, STAGED: 1 } });
    // The conflict on LIVE names the version held: no later version replaced it, but it is not above it either.
    expect(stated.refused.map((r) => [r.promotionId, r.version, r.reason])).toEqual([
      ['SOUTH', 3, 'not-targeted'],
    ]);

    s.connected();
    await new Promise((r) => setTimeout(r, 10));
    expect(JSON.parse(published.at(-1)!)).toMatchObject({ statement: { count: 2 } });
  });

  it('loads what the database holds, and a version it cannot read any more stays held but out of force', () => {
    const good = signer.sign(promotionDraft({ promotionId: 'GOOD', version: 4 }));
    const store = memoryStore([
      {
        promotionId: 'GOOD',
        version: 4,
        state: 'active',
        change: 'new',
        digest: 'd',
        keyId: keys.keyId,
        signedText: JSON.stringify(good),
        appliedAt: 1,
      },
      {
        promotionId: 'BROKEN',
        version: 9,
        state: 'active',
        change: 'new',
        digest: 'd',
        keyId: keys.keyId,
        signedText: '{"document":',
        appliedAt: 1,
      },
    ]);
    const s = service(store);
    expect(s.activeAt(AT).promotions.map((p) => p.promotionId)).toEqual(['GOOD']);
    expect(s.status(AT).held).toBe(2);
  });

  it('answers from a cache that a catalogue change renews at once', async () => {
    const store = memoryStore();
    const s = service(store);
    s.receive(TOPIC, message({ promotionId: 'P', version: 1, rule: { kind: 'percent-off', percent: 10 } }));
    await s.idle();
    const basket = { currency: 'EUR', lines: [{ sku: 'COFFEE', quantity: 1, unitPrice: 1000 }] };
    expect(s.price(basket, AT).totals.discount).toBe(100);
    expect(s.activeAt(AT + 1000).promotions[0]!.version).toBe(1);
    s.receive(TOPIC, message({ promotionId: 'P', version: 2, rule: { kind: 'percent-off', percent: 30 } }));
    await s.idle();
    expect(s.price(basket, AT).totals.discount).toBe(300);
    expect(s.activeAt(AT + 1000).promotions[0]!.version).toBe(2);
  });

  it('states its catalogue on connecting, again soon after, then now and then, and not once stopped', async () => {
    const store = memoryStore();
    const published: string[] = [];
    const s = service(store, { published, tuning: { restateAfterConnectMs: [10, 20], restateEveryMs: 30 } });
    s.connected();
    await new Promise((r) => setTimeout(r, 1));
    expect(published).toHaveLength(1);
    // +10, +30, then every 30: by 100 ms, 1 + 2 + 2.
    await new Promise((r) => setTimeout(r, 100));
    expect(published.length).toBeGreaterThanOrEqual(4);
    s.stop();
    const count = published.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(published).toHaveLength(count);
  });

  it('takes nothing once stopped', async () => {
    const store = memoryStore();
    const s = service(store);
    s.stop();
    s.receive(TOPIC, message({ promotionId: 'P', version: 1 }));
    await s.idle();
    expect(store.batches).toEqual([]);
  });
});
