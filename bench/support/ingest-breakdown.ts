import { performance } from 'node:perf_hooks';
import { eventBatchSchema, SYNC_LIMITS } from '../../src/contracts/sync-messages.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { parseStoreMessage } from '../../src/hub/index.js';
import { textDigest } from '../../src/lib/canonical-hash.js';
import { buildEventBatch, DEFAULT_SYNC_TUNING, type UnsentEvent } from '../../src/sync/index.js';

export interface StepCost {
  side: 'agent' | 'hub';
  step: string;
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
 * on the hub, parseStoreMessage whole and the pieces it is made of (JSON.parse of the message, the
 * envelope schema, JSON.parse of each body's text, the transaction schema per body, the text digest).
 * Tells which of them bounds the hub's drain rate before the database does.
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
  const steps: { side: StepCost['side']; step: string; us: number }[] = [
    {
      side: 'agent',
      step: 'buildEventBatch (splices stored body text)',
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
      step: 'parseStoreMessage, whole',
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
      step: '  eventBatchSchema (envelope, bodies as text)',
      us: cost(parsed, count, rounds, (m) => {
        sink += eventBatchSchema.safeParse(m).success ? 1 : 0;
      }),
    },
    {
      side: 'hub',
      step: '  JSON.parse per body text',
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
      step: '  transactionSchema per body',
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
      step: '  textDigest per body',
      us: cost(
        texts,
        (b) => b.length,
        rounds,
        (b) => {
          for (const text of b) sink += textDigest(text).length;
        },
      ),
    },
  ];
  if (sink < 0) throw new Error('unreachable: keeps the results alive');
  return steps.map((s) => ({ side: s.side, step: s.step, usPerEvent: s.us, eventsPerSecond: 1e6 / s.us }));
}
