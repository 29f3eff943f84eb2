import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { afterEach, describe, expect, it } from 'vitest';
import type { CatalogueMessage } from '../../src/contracts/promotion-sync.js';
import { topics } from '../../src/contracts/sync-messages.js';
import { HubPromotions } from '../../src/hub/hub-promotions.js';
import { SqliteHubStore } from '../../src/hub/sqlite-hub-store.js';
import {
  catalogueStatement,
  createPromotionSigner,
  generateSigningKeyPair,
  type PromotionHead,
} from '../../src/promotions/index.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The hub's answer to a store's catalogue statement, with a real (temp) SQLite hub store and a publisher
 * that records what would go to the broker: exactly what the store lacks, on its own topic, not retained.
 */

const topic = topics('outpost/v1');
const signer = createPromotionSigner(generateSigningKeyPair().privateKeyPem);
const stores: SqliteHubStore[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function hubWith(pushes: Record<string, unknown>[]) {
  const store = new SqliteHubStore(path.join(makeTempDir('reoffer'), 'hub.sqlite'));
  stores.push(store);
  const published: { topic: string; payload: string; retain: boolean }[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      }),
    ],
  });
  const promotions = new HubPromotions({
    hubId: 'hub-1',
    store,
    signer,
    publisher: {
      publish: async (t, payload, options) =>
        void published.push({ topic: t, payload, retain: options.retain }),
    },
    topicPrefix: 'outpost/v1',
    logger,
    clock: { now: () => Date.parse('2026-11-23T12:00:00Z'), monotonic: () => 0 },
  });
  for (const doc of pushes) await promotions.push(doc);
  published.length = 0;
  return { store, promotions, published, lines };
}

function statementMessage(
  storeId: string,
  held: PromotionHead[],
  options: { region?: string; refused?: CatalogueMessage['refused']; short?: boolean } = {},
): Buffer {
  const message: CatalogueMessage = {
    v: 1,
    storeId,
    ...(options.region ? { region: options.region } : {}),
    at: '2026-11-23T12:00:00Z',
    statement: catalogueStatement(held, { storeId, region: options.region }, { versions: !options.short }),
    refused: options.refused ?? [],
  };
  return Buffer.from(JSON.stringify(message));
}

const head = (promotionId: string, version = 1): PromotionHead => ({
  promotionId,
  version,
  state: 'active',
  target: { all: true },
});

describe('answering a catalogue statement', () => {
  it('re-offers exactly the version a store lacks, as signed, on its own topic and not retained', async () => {
    const hub = await hubWith([promotionDraft({ promotionId: 'A' }), promotionDraft({ promotionId: 'B' })]);
    await hub.promotions.onCatalogue('S1', statementMessage('S1', [head('A')]));
    const [b] = await hub.store.promotionVersions('B');
    expect(hub.published).toEqual([
      { topic: topic.promotionForStore('S1', 'B'), payload: b!.signedText, retain: false },
    ]);
  });

  it('sends nothing to a store that holds exactly what it should', async () => {
    const hub = await hubWith([promotionDraft({ promotionId: 'A' }), promotionDraft({ promotionId: 'B' })]);
    await hub.promotions.onCatalogue('S1', statementMessage('S1', [head('A'), head('B')]));
    await hub.promotions.onCatalogue('S2', statementMessage('S2', [head('A'), head('B')], { short: true }));
    expect(hub.published).toEqual([]);
  });

  it('offers the newer version of one the store holds older, only what targets it, and not what it refused', async () => {
    const hub = await hubWith([
      promotionDraft({ promotionId: 'A' }),
      promotionDraft({ promotionId: 'A', version: 2, name: 'Changed' }),
      promotionDraft({ promotionId: 'N', target: { regions: ['north'] } }),
      promotionDraft({ promotionId: 'S', target: { regions: ['south'] } }),
      promotionDraft({ promotionId: 'R' }),
    ]);
    const [r] = await hub.store.promotionVersions('R');
    await hub.promotions.onCatalogue(
      'S1',
      statementMessage('S1', [head('A', 1)], {
        region: 'north',
        refused: [{ promotionId: 'R', version: 1, digest: r!.digest, reason: 'unknown-key' }],
      }),
    );
    expect(hub.published.map((p) => [p.topic, JSON.parse(p.payload).document.version])).toEqual([
      [topic.promotionForStore('S1', 'A'), 2],
      [topic.promotionForStore('S1', 'N'), 1],
    ]);
    // A refusal of another document under that version (another digest) does not stop the offer.
    hub.published.length = 0;
    await hub.promotions.onCatalogue(
      'S1',
      statementMessage('S1', [head('A', 2), head('N')], {
        region: 'north',
        refused: [{ promotionId: 'R', version: 1, digest: 'x'.repeat(43), reason: 'bad-signature' }],
      }),
    );
    expect(hub.published.map((p) => p.topic)).toEqual([topic.promotionForStore('S1', 'R')]);
  });

  it('answers a short statement that disagrees with everything live for the store', async () => {
    const hub = await hubWith([promotionDraft({ promotionId: 'A' }), promotionDraft({ promotionId: 'B' })]);
    await hub.promotions.onCatalogue('S1', statementMessage('S1', [head('A')], { short: true }));
    expect(hub.published.map((p) => p.topic)).toEqual([
      topic.promotionForStore('S1', 'A'),
      topic.promotionForStore('S1', 'B'),
    ]);
  });

  it("logs what sending cannot fix, and ignores a statement on another store's topic or one that is not one", async () => {
    const hub = await hubWith([promotionDraft({ promotionId: 'A' })]);
    await hub.promotions.onCatalogue('S1', statementMessage('S1', [head('A', 5), head('GHOST')]));
    const anomalies = hub.lines
      .filter((l) => l.level === 'warn')
      .map((l) => [l.promotionId, l.stated, l.current]);
    expect(anomalies).toEqual(
      expect.arrayContaining([
        ['A', 5, 1],
        ['GHOST', 1, undefined],
      ]),
    );
    await hub.promotions.onCatalogue('S2', statementMessage('S1', []));
    await hub.promotions.onCatalogue('S2', Buffer.from('{"v":1}'));
    expect(hub.published).toEqual([]);
    expect((await hub.store.knownStores()).map((s) => s.storeId)).toEqual(['S1']);
  });
});
