import { mkdirSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { topics } from '../../src/contracts/sync-messages.js';
import type { IncomingEvent, KnownStore, RolloutFact, RolloutRecord } from '../../src/hub/hub-store.js';
import { audienceTopics, publishTopics } from '../../src/hub/promotion-audience.js';
import { rolloutWrites } from '../../src/hub/promotion-rows.js';
import { activationDue, versionRollout } from '../../src/hub/promotion-rollout.js';
import { loadPromotionSigner } from '../../src/hub/promotion-signing-key.js';
import { checkPush, nextVersionDocument, parsePushedDocument } from '../../src/hub/promotion-versions.js';
import { ConfigError, ConflictError, ValidationError } from '../../src/lib/errors.js';
import { generateSigningKeyPair } from '../../src/promotions/index.js';
import { promotion, promotionDraft } from '../support/promotion-documents.js';
import { makeTempDir } from '../support/temp-dir.js';

const topic = topics('outpost/v1');

const known = (storeId: string, region: string | null, online = true): KnownStore => ({
  storeId,
  region,
  online,
  lastSeen: '2026-11-23T11:00:00.000Z',
  statusAt: online ? '2026-11-23T09:00:00.000Z' : '2026-11-23T10:00:00.000Z',
  catalogueAt: null,
});

const row = (
  storeId: string,
  outcome: 'applied' | 'refused',
  extra: Partial<RolloutRecord> = {},
): RolloutRecord => ({
  promotionId: 'P',
  version: 1,
  storeId,
  outcome,
  change: outcome === 'applied' ? 'new' : null,
  previousVersion: null,
  reason: outcome === 'refused' ? 'unknown-key' : null,
  message: outcome === 'refused' ? 'not trusted' : null,
  digest: null,
  keyId: null,
  at: '2026-11-23T12:00:00+01:00',
  eventId: `01EV${storeId}`,
  receivedAt: '2026-11-23T11:00:01.000Z',
  ...extra,
});

describe('which stores a version targets, and what each did', () => {
  const stores = [known('S1', 'north'), known('S2', 'north', false), known('S3', 'south'), known('S4', null)];

  it('targets known stores by region (as they last stated it) and by id, and lists a named store never seen as pending', () => {
    const rollout = versionRollout({ regions: ['north'], storeIds: ['S3', 'S9'] }, stores, [
      row('S1', 'applied'),
      row('S3', 'refused'),
    ]);
    expect(rollout.summary).toEqual({ targeted: 4, applied: 1, refused: 1, pending: 2 });
    expect(rollout.stores).toEqual([
      { storeId: 'S1', targeted: true, status: 'applied', at: '2026-11-23T12:00:00+01:00', change: 'new' },
      { storeId: 'S2', targeted: true, status: 'pending', online: false, since: '2026-11-23T10:00:00.000Z' },
      {
        storeId: 'S3',
        targeted: true,
        status: 'refused',
        at: '2026-11-23T12:00:00+01:00',
        reason: 'unknown-key',
        message: 'not trusted',
      },
      { storeId: 'S9', targeted: true, status: 'pending', online: null, since: null },
    ]);
  });

  it('counts every known store for an all-stores target, and shows stores that reported without being targeted apart', () => {
    expect(versionRollout({ all: true }, stores, []).summary).toEqual({
      targeted: 4,
      applied: 0,
      refused: 0,
      pending: 4,
    });
    const retargeted = versionRollout({ regions: ['south'] }, stores, [
      row('S1', 'applied', { change: 'no-longer-targeted' }),
    ]);
    expect(retargeted.summary).toEqual({ targeted: 1, applied: 0, refused: 0, pending: 1 });
    expect(retargeted.stores.at(-1)).toMatchObject({
      storeId: 'S1',
      targeted: false,
      status: 'applied',
      change: 'no-longer-targeted',
    });
  });

  it('a store whose region is unknown is not counted for a region target until it states one', () => {
    expect(versionRollout({ regions: ['east'] }, [known('S4', null)], []).summary.targeted).toBe(0);
  });
});

describe('automatic activation', () => {
  const staged = (share: number | null, state: 'staged' | 'active' = 'staged') => ({
    state,
    activateWhenShare: share,
  });
  const summary = (applied: number, targeted: number) => ({
    targeted,
    applied,
    refused: 0,
    pending: targeted - applied,
  });

  it.each([
    [0.6, 1, 3, false],
    [0.6, 2, 3, true],
    [2 / 3, 2, 3, true],
    [0.67, 2, 3, false],
    [1, 2, 3, false],
    [1, 3, 3, true],
    [0.5, 1, 2, true],
  ])('share %s: %i of %i applied → due %s', (share, applied, targeted, due) => {
    expect(activationDue(staged(share), summary(applied, targeted))).toBe(due);
  });

  it('is never due without a share, once active, or for a target matching no store', () => {
    expect(activationDue(staged(null), summary(3, 3))).toBe(false);
    expect(activationDue(staged(0.5, 'active'), summary(3, 3))).toBe(false);
    expect(activationDue(staged(0.5), summary(0, 0))).toBe(false);
  });
});

describe('rollout rows of one batch', () => {
  const fact = (outcome: 'applied' | 'refused', extra: Partial<RolloutFact> = {}): RolloutFact => ({
    promotionId: 'P',
    version: 2,
    outcome,
    change: null,
    previousVersion: null,
    reason: outcome === 'refused' ? 'bad-signature' : null,
    message: null,
    digest: null,
    keyId: null,
    at: '2026-11-23T12:00:00Z',
    ...extra,
  });
  const insert = (
    seq: number,
    rollout: RolloutFact | undefined,
    status: 'stored' | 'duplicate' | 'rejected' = 'stored',
  ) => ({
    event: { seq, eventId: `E${seq}`, ...(rollout ? { rollout } : {}) } as IncomingEvent,
    status,
    reason: null,
  });

  it('folds in seq order: an application replaces a refusal, never the other way round', () => {
    const writes = rolloutWrites([
      insert(3, fact('refused', { reason: 'stale-version' })),
      insert(1, fact('refused')),
      insert(2, fact('applied')),
    ]);
    expect(writes.map((w) => [w.outcome, w.eventId])).toEqual([['applied', 'E2']]);
    expect(
      rolloutWrites([insert(1, fact('refused')), insert(2, fact('refused', { reason: 'unknown-key' }))])[0],
    ).toMatchObject({
      reason: 'unknown-key',
      eventId: 'E2',
    });
  });

  it('ignores redeliveries (already-held), duplicates, rejected events and events without rollout', () => {
    expect(
      rolloutWrites([
        insert(1, fact('refused', { reason: 'already-held' })),
        insert(2, fact('applied'), 'duplicate'),
        insert(3, fact('applied'), 'rejected'),
        insert(4, undefined),
      ]),
    ).toEqual([]);
  });
});

describe('where a version is published', () => {
  it('on its audience topics, and on those of the version it replaces', () => {
    expect(audienceTopics({ all: true }, 'P', topic)).toEqual([topic.promotionForAll('P')]);
    expect(audienceTopics({ regions: ['n'], storeIds: ['S1'] }, 'P', topic)).toEqual([
      topic.promotionForRegion('n', 'P'),
      topic.promotionForStore('S1', 'P'),
    ]);
    expect(publishTopics({ regions: ['s'] }, { regions: ['n', 's'] }, 'P', topic)).toEqual([
      topic.promotionForRegion('n', 'P'),
      topic.promotionForRegion('s', 'P'),
    ]);
  });
});

describe('what an operator may do to a promotion', () => {
  it('refuses an invalid document with every issue and its path', () => {
    const error = (() => {
      try {
        parsePushedDocument(promotionDraft({ version: 0, concurrency: 'all-at-once' }));
      } catch (e) {
        return e;
      }
    })() as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues.map((i) => i.path)).toEqual(expect.arrayContaining([['version'], ['concurrency']]));
  });

  it('takes only a version above the latest, and a share only for a staged push', () => {
    const doc = promotion({ version: 3 });
    expect(() => checkPush(doc, { version: 2, state: 'active' }, undefined)).not.toThrow();
    expect(() => checkPush(doc, undefined, undefined)).not.toThrow();
    expect(() => checkPush(doc, { version: 3, state: 'active' }, undefined)).toThrow(ConflictError);
    expect(() => checkPush(doc, undefined, 0.5)).toThrow(ValidationError);
    expect(() => checkPush(promotion({ state: 'staged' }), undefined, 0.5)).not.toThrow();
  });

  it('activates only a staged version and withdraws only once, each as the next version of the same document', () => {
    const staged = promotion({ state: 'staged', version: 4 });
    const head = (state: 'staged' | 'active' | 'withdrawn') => ({
      promotionId: 'PROMO-1',
      version: 4,
      state,
    });
    expect(nextVersionDocument('activate', head('staged'), staged)).toEqual({
      ...staged,
      version: 5,
      state: 'active',
    });
    expect(nextVersionDocument('withdraw', head('staged'), staged)).toEqual({
      ...staged,
      version: 5,
      state: 'withdrawn',
    });
    expect(() => nextVersionDocument('activate', head('active'), staged)).toThrow(/active already/);
    expect(() => nextVersionDocument('activate', head('withdrawn'), staged)).toThrow(/push a new version/);
    expect(() => nextVersionDocument('withdraw', head('withdrawn'), staged)).toThrow(/withdrawn already/);
  });
});

describe('the hub signing key (promotions.signingKeyFile)', () => {
  const dir = makeTempDir('signing-key');
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };

  it('is optional, and signs with the key id of its public key when given', () => {
    expect(loadPromotionSigner(undefined)).toBeUndefined();
    const pair = generateSigningKeyPair();
    expect(loadPromotionSigner(file('good.pem', pair.privateKeyPem))?.keyId).toBe(pair.keyId);
  });

  it.each([
    ['missing', () => path.join(dir, 'absent.pem'), /no such file/],
    [
      'a directory',
      () => (mkdirSync(path.join(dir, 'folder'), { recursive: true }), path.join(dir, 'folder')),
      /is a directory/,
    ],
    ['not a key', () => file('text.pem', 'hello'), /not a readable PEM private key/],
    ['a public key', () => file('public.pem', generateSigningKeyPair().publicKeyPem), /holds a public key/],
    [
      'an RSA key',
      () =>
        file(
          'rsa.pem',
          generateKeyPairSync('rsa', { modulusLength: 1024 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString(),
        ),
      /rsa, not Ed25519/,
    ],
  ])('%s: a ConfigError naming the field', (_what, make, message) => {
    const keyFile = make();
    let error: unknown;
    try {
      loadPromotionSigner(keyFile);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(
      new RegExp(`^promotions\\.signingKeyFile ${keyFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
    );
    expect((error as Error).message).toMatch(message);
  });
});
