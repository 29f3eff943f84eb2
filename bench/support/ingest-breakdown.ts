import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { eventBatchSchema, SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { parseStoreMessage } from '../../src/hub/index.js';
import { classifyEvents } from '../../src/hub/classify-events.js';
import { judgeTransaction } from '../../src/hub/compiled-validation.js';
import type { IncomingEvent } from '../../src/hub/hub-store.js';
import { fromTransfer, toTransfer } from '../../src/hub/parse-transfer.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { buildEventBatch, DEFAULT_SYNC_TUNING, type UnsentEvent } from '../../src/sync/index.js';

export interface StepCost {
  side: 'agent' | 'hub';
  step: string;
  /** 'now': what the hub runs; 'before': the form it replaced, measured beside it for comparison. */
  runs: 'now' | 'before';
  /** CPU per event, microseconds (single-threaded, measured alone on an otherwise idle process). */
  usPerEvent: number;
  /** Events per second one core could push through this step alone. */
  eventsPerSecond: number;
}

/** Runs `fn` over every batch, twice for warm-up, then `rounds` timed passes; µs per event. */
function cost<T>(batches: readonly T[], eventsIn: (b: T) => number, rounds: number, fn: (b: T) => void) {
  const events = batches.reduce((n, b) => n + eventsIn(b), 0);
  for (let r = 0; r < 2; r++) for (const b of batches) fn(b);
  const startedAt = performance.now();
  for (let r = 0; r < rounds; r++) for (const b of batches) fn(b);
  return ((performance.now() - startedAt) * 1000) / (events * rounds);
}

/**
 * What one event costs in CPU at each step between the outbox and the hub's database, measured on the
 * backlog's own messages in this process while nothing else runs: building the batch on the agent and,
 * on the hub, parseStoreMessage whole (what the parse worker runs) and the pieces it is made of (JSON.parse
 * of the message, the envelope schema, JSON.parse of each body's text, the transaction schema per body,
 * the text digest), the hand-off from the parse worker to the main thread, and the classification of a
 * batch. Where the hub replaced a step with a cheaper form, the form it replaced is measured beside it
 * ('before'). Tells which of them bounds the hub's drain rate before the database does.
 */
export function measureIngestSteps(
  storeId: string,
  epoch: string,
  events: readonly UnsentEvent[][],
  payloads: readonly string[],
  rounds = 2,
): StepCost[] {
  const buffers = payloads.map((p) => Buffer.from(p));
  const parsed = payloads.map((p) => JSON.parse(p) as { events: { body: string }[] });
  const texts = parsed.map((m) => m.events.map((e) => e.body));
  const bodies = texts.map((b) => b.map((text) => JSON.parse(text) as unknown));
  const count = (m: { events: unknown[] }) => m.events.length;
  let sink = 0;
  const compiledEnvelope = z.compile(eventBatchSchema);
  const parsedBatches = buffers.map((buffer) => {
    const r = parseStoreMessage(storeId, buffer);
    if (!r.ok || r.kind !== 'batch') throw new Error('a backlog message did not parse as a batch');
    return r;
  });
  const perBatch = parsedBatches.map((p) => ({ p, n: p.events.length }));
  const emptyFacts = () => ({ bySeq: new Map(), storedByEventId: new Map(), storedByTransaction: new Map() });
  const steps: { side: StepCost['side']; step: string; runs: StepCost['runs']; us: number }[] = [
    {
      side: 'agent',
      step: 'buildEventBatch (splices stored body text)',
      runs: 'now',
      us: cost(
        events,
        (b) => b.length,
        rounds,
        (b) => {
          const built = buildEventBatch(storeId, epoch, b, {
            ...DEFAULT_SYNC_TUNING.batch,
            maxMessageBytes: SYNC_LIMITS.maxBatchBytes,
          });
          sink += built?.kind === 'batch' ? built.count : 0;
        },
      ),
    },
    {
      side: 'hub',
      step: 'parseStoreMessage, whole (the parse worker)',
      runs: 'now',
      us: cost(
        buffers.map((buffer, i) => ({ buffer, n: count(parsed[i]!) })),
        (b) => b.n,
        rounds,
        (b) => {
          const r = parseStoreMessage(storeId, b.buffer);
          sink += r.ok && r.kind === 'batch' ? r.events.length : 0;
        },
      ),
    },
    {
      side: 'hub',
      step: '  JSON.parse of the message',
      runs: 'now',
      us: cost(
        buffers.map((buffer, i) => ({ buffer, n: count(parsed[i]!) })),
        (b) => b.n,
        rounds,
        (b) => {
          sink += (JSON.parse(b.buffer.toString('utf8')) as { events: unknown[] }).events.length;
        },
      ),
    },
    {
      side: 'hub',
      step: '  envelope schema, compiled (z.compile)',
      runs: 'now',
      us: cost(parsed, count, rounds, (m) => {
        sink += compiledEnvelope.safeParse(m).success ? 1 : 0;
      }),
    },
    {
      side: 'hub',
      step: '  envelope schema, zod at run time',
      runs: 'before',
      us: cost(parsed, count, rounds, (m) => {
        sink += eventBatchSchema.safeParse(m).success ? 1 : 0;
      }),
    },
    {
      side: 'hub',
      step: '  JSON.parse per body text',
      runs: 'now',
      us: cost(
        texts,
        (b) => b.length,
        rounds,
        (b) => {
          for (const text of b) sink += JSON.parse(text) === null ? 0 : 1;
        },
      ),
    },
    {
      side: 'hub',
      step: '  transaction schema per body, compiled + arithmetic',
      runs: 'now',
      us: cost(
        bodies,
        (b) => b.length,
        rounds,
        (b) => {
          for (const body of b) sink += judgeTransaction(body).success ? 1 : 0;
        },
      ),
    },
    {
      side: 'hub',
      step: '  transaction schema per body, zod at run time',
      runs: 'before',
      us: cost(
        bodies,
        (b) => b.length,
        rounds,
        (b) => {
          for (const body of b) sink += transactionSchema.safeParse(body).success ? 1 : 0;
        },
      ),
    },
    {
      side: 'hub',
      step: '  textDigest per body (one-shot SHA-256)',
      runs: 'now',
      us: cost(
        texts,
        (b) => b.length,
        rounds,
        (b) => {
          for (const text of b) sink += textDigest(text).length;
        },
      ),
    },
    {
      side: 'hub',
      step: '  SHA-256 per body through a Hash object',
      runs: 'before',
      us: cost(
        texts,
        (b) => b.length,
        rounds,
        (b) => {
          for (const text of b) sink += createHash('sha256').update(text).digest('base64url').length;
        },
      ),
    },
    {
      side: 'hub',
      step: 'hand-off, parse worker → main thread (columns, structured clone)',
      runs: 'now',
      us: cost(
        perBatch,
        (b) => b.n,
        rounds,
        (b) => {
          const back = fromTransfer(structuredClone(toTransfer(b.p)));
          sink += back.ok && back.kind === 'batch' ? back.events.length : 0;
        },
      ),
    },
    {
      side: 'hub',
      step: 'hand-off, parse worker → main thread (event objects, structured clone)',
      runs: 'before',
      us: cost(
        perBatch,
        (b) => b.n,
        rounds,
        (b) => {
          sink += (structuredClone(b.p.events) as IncomingEvent[]).length;
        },
      ),
    },
    {
      side: 'hub',
      step: 'classifyEvents (new events, nothing held)',
      runs: 'now',
      us: cost(
        perBatch,
        (b) => b.n,
        rounds,
        (b) => {
          sink += classifyEvents(epoch, b.p.events, emptyFacts()).stored;
        },
      ),
    },
  ];
  if (sink < 0) throw new Error('unreachable: keeps the results alive');
  return steps.map((s) => ({
    side: s.side,
    step: s.step,
    runs: s.runs,
    usPerEvent: s.us,
    eventsPerSecond: 1e6 / s.us,
  }));
}
