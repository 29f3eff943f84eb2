import type { PromotionDocument, PromotionState } from '../contracts/promotion.js';
import { decideReceivedPromotion, type HeldVersion } from './catalogue-rules.js';
import type { CatalogueWrite } from './catalogue-store.js';
import type { StoreContext } from './in-force.js';
import { appliedRecord, receivedDocumentDigest, refusalKey, refusedRecord } from './rollout-records.js';
import type { TrustedKeyring } from './signing.js';

/**
 * What a store does with a run of received promotion messages, as data: the versions it takes and the
 * writes (catalogue, history, rollout record) that go into one transaction. Pure: the catalogue service
 * writes the result and updates its memory once the transaction committed.
 */

/** A promotion as the store holds it: the latest version taken, in any state. */
export interface HeldPromotion extends HeldVersion {
  promotionId: string;
  keyId: string;
  state: PromotionState;
  /** Undefined only when a stored version can no longer be read (kept so nothing older replaces it). */
  document: PromotionDocument | undefined;
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
}

export interface DecidedVersions<M extends ReceivedMessage> {
  /** The versions taken, each promotion's latest of the run. */
  taken: Map<string, HeldPromotion>;
  /** In arrival order; a redelivery of the version held writes nothing and is absent. */
  writes: CatalogueWrite[];
  /** The message each write came from (same index). */
  sources: M[];
  /** Messages that were the version already held, again: normal, counted for the logs. */
  redeliveries: number;
}

export interface DecisionContext {
  store: StoreContext;
  keyring: TrustedKeyring;
  /** The trusted keys and identity refusals are judged under (trustSettingsKey). */
  settingsKey: string;
  held: (promotionId: string) => HeldPromotion | undefined;
  now: number;
}

/** Larger messages are refused unread: no promotion document is anywhere near this. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

function parse(message: ReceivedMessage): { text: string; received: unknown } {
  const text = message.payload.toString('utf8');
  if (message.payload.length > MAX_MESSAGE_BYTES) return { text, received: text };
  try {
    return { text, received: JSON.parse(text) as unknown };
  } catch {
    // not JSON: decideReceivedPromotion refuses it as malformed
    return { text, received: text };
  }
}

/**
 * Decides on each message in order, each against what is held and what the run already took (version 2
 * then 3 of one promotion in one run: both taken, in order).
 */
export function decideVersions<M extends ReceivedMessage>(
  messages: readonly M[],
  context: DecisionContext,
): DecidedVersions<M> {
  const { store, keyring, settingsKey, now } = context;
  const result: DecidedVersions<M> = { taken: new Map(), writes: [], sources: [], redeliveries: 0 };
  for (const message of messages) {
    const { text, received } = parse(message);
    const decision = decideReceivedPromotion(received, {
      store,
      keyring,
      held: (id) => result.taken.get(id) ?? context.held(id),
    });
    if (decision.outcome === 'apply') {
      const { promotion, digest, signed } = decision;
      result.taken.set(promotion.promotionId, {
        promotionId: promotion.promotionId,
        version: promotion.version,
        digest,
        keyId: signed.signature.keyId,
        state: promotion.state,
        document: promotion,
      });
      result.writes.push({
        kind: 'apply',
        promotionId: promotion.promotionId,
        version: promotion.version,
        state: promotion.state,
        change: decision.change,
        digest,
        keyId: signed.signature.keyId,
        previousVersion: decision.previousVersion,
        signedText: text,
        topic: message.topic,
        record: appliedRecord(decision, now),
        at: now,
      });
      result.sources.push(message);
    } else if (decision.redelivery) {
      // QoS 1 redelivery, a retained copy, a re-offer: normal, and nothing to record.
      result.redeliveries += 1;
    } else {
      const digest = receivedDocumentDigest(received);
      result.writes.push({
        kind: 'refuse',
        refusalKey: refusalKey(settingsKey, decision, digest, text),
        settingsKey,
        topic: message.topic,
        receivedText: text,
        record: refusedRecord(decision, digest, now),
        at: now,
      });
      result.sources.push(message);
    }
  }
  return result;
}
