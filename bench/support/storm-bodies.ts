import { createHash } from 'node:crypto';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { backlogSale } from './backlog.js';

/**
 * What each simulated store of the storm holds, computed from (run, store, seq) whenever it is needed:
 * 500 stores × 2,000 events of about 1 KB would be a gigabyte held for the whole run; generating a
 * batch's bodies when it is (re)published, and again when the result is checked, holds none of it.
 */

export interface StormRun {
  /** Tells runs apart: epochs and eventIds of one run never meet another's. */
  runId: string;
  stores: number;
  eventsPerStore: number;
}

export const stormStoreId = (index: number) => `STORM-${String(index + 1).padStart(4, '0')}`;

/** The store's epoch: random-looking hex, fixed by run and store (an agent's is random at install). */
export const stormEpoch = (run: StormRun, index: number) =>
  createHash('sha256').update(`${run.runId}/${index}`).digest('hex').slice(0, 16);

/** A ULID-shaped id, unique across stores, seqs and runs. */
export const stormEventId = (run: StormRun, index: number, seq: number) =>
  `01${run.runId}S${String(index).padStart(4, '0')}E${String(seq).padStart(7, '0')}`;

/** When the event was captured during the outage (its seq-th second). */
export const stormCapturedAt = (seq: number) =>
  new Date(Date.UTC(2026, 10, 23, 8) + seq * 1000).toISOString();

interface BodyTemplate {
  /** The text before and after the store's tag (in the receipt number). */
  before: string;
  after: string;
  /** The same halves as they appear inside a JSON string (escaped), for splicing into a message. */
  beforeJson: string;
  afterJson: string;
}

const templates = new Map<number, BodyTemplate>();

/**
 * The POS's exact text: a realistic sale of about 1 KB (bench/support/backlog.ts) on one of 20 tills,
 * with its own transaction id and the store's name in its receipt number; one in fifty carries escapes
 * and a 20-digit loyalty number written as a number, which only exact text keeps as sent. Stores differ
 * only in their tag, so a seq's text is made once and the tag spliced in: publishing 1,000,000 events
 * then costs the stores' process little, and the machine's CPU goes to what is measured.
 */
function template(seq: number): BodyTemplate {
  let t = templates.get(seq);
  if (!t) {
    const sale = backlogSale(`T${51 + (seq % 20)}`, seq);
    let text = JSON.stringify(sale);
    if (seq % 50 === 0)
      text = text.replace('"lane":3', '"lane":3,"note":"caf\\u00e9 \\"@\\"\\n","card":12345678901234567891');
    const [before, after] = text.split('"receiptNo":"') as [string, string];
    const head = `${before}"receiptNo":"`;
    t = {
      before: head,
      after,
      beforeJson: JSON.stringify(head).slice(0, -1),
      afterJson: JSON.stringify(after).slice(1),
    };
    templates.set(seq, t);
  }
  return t;
}

const storeTag = (index: number) => `${stormStoreId(index)}/`;

export function stormBody(index: number, seq: number): string {
  const t = template(seq);
  return `${t.before}${storeTag(index)}${t.after}`;
}

/** stormBody as a JSON string literal (what JSON.stringify of it gives), without escaping it again. */
export function stormBodyJson(index: number, seq: number): string {
  const t = template(seq);
  return `${t.beforeJson}${storeTag(index)}${t.afterJson}`;
}

export const stormBodyDigest = (index: number, seq: number) => textDigest(stormBody(index, seq));
