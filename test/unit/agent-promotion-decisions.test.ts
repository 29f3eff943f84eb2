import { describe, expect, it } from 'vitest';
import {
  createPromotionSigner,
  createTrustedKeyring,
  decideVersions,
  generateSigningKeyPair,
  MAX_MESSAGE_BYTES,
  trustSettingsKey,
  type HeldPromotion,
} from '../../src/promotions/index.js';
import { promotionDraft } from '../support/promotion-documents.js';

/** The store's decisions on a run of received messages, as data (received-versions.ts). */

const keys = generateSigningKeyPair();
const signer = createPromotionSigner(keys.privateKeyPem);
const store = { storeId: 'S042', region: 'north', timeZone: 'Europe/Paris' };
const keyring = createTrustedKeyring([keys.publicKeyPem]);
const context = (held: Map<string, HeldPromotion> = new Map()) => ({
  store,
  keyring,
  settingsKey: trustSettingsKey(keyring.keyIds, store),
  held: (id: string) => held.get(id),
  now: Date.UTC(2026, 5, 15),
});
const message = (text: string) => ({
  topic: 'outpost/v1/promotions/stores/S042/P',
  payload: Buffer.from(text),
});
const signed = (overrides: Record<string, unknown>) =>
  message(JSON.stringify(signer.sign(promotionDraft(overrides))));

describe('decisions on a run of received versions', () => {
  it('take versions in order, each deciding on what the run took before it', () => {
    const decided = decideVersions(
      [
        signed({ promotionId: 'P', version: 1 }),
        signed({ promotionId: 'P', version: 3 }),
        signed({ promotionId: 'P', version: 2 }),
      ],
      context(),
    );
    expect(decided.writes.map((w) => [w.kind, w.record.version])).toEqual([
      ['apply', 1],
      ['apply', 3],
      ['refuse', 2],
    ]);
    expect(decided.taken.get('P')).toMatchObject({ version: 3, state: 'active', keyId: keys.keyId });
    expect(decided.sources).toHaveLength(3);
  });

  it('write nothing for the version held, received again, and keep the signed text exactly as it came', () => {
    const text = `  ${JSON.stringify(signer.sign(promotionDraft({ promotionId: 'P', version: 1 })), null, 2)}\n`;
    const first = decideVersions([message(text)], context());
    expect(first.writes[0]).toMatchObject({ kind: 'apply', signedText: text });
    const again = decideVersions([message(text)], context(first.taken));
    expect(again).toMatchObject({ writes: [], redeliveries: 1 });
  });

  it('refuse what is not JSON or too large to read, without reading it', () => {
    const huge = { topic: 't', payload: Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x7b) };
    const decided = decideVersions([message('{"document":'), huge], context());
    expect(decided.writes.map((w) => (w.kind === 'refuse' ? w.record.reason : w.kind))).toEqual([
      'malformed',
      'malformed',
    ]);
  });
});
