import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteTurns } from '../../src/sync/write-turns.js';

/**
 * Turns at the outbox's write lock between the tills' thread and the delivery thread: a capture goes
 * the moment an acknowledgement gives its turn back, before any further acknowledgement, and never waits
 * forever on a turn that is not given back. Ordering only; no timing is asserted.
 */

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

/** Slots of the shared log: who wrote, in order. */
const LOG = { next: 0, entries: 1, holding: 8, trying: 9 } as const;

/**
 * Runs `body` on a delivery-like thread with a WriteTurns on the shared `turns`, and `log` (an Int32Array
 * on `logBuffer`) for recording. The body is the text of an async function (turns, log, sleep).
 */
function onOtherThread(turns: SharedArrayBuffer, logBuffer: SharedArrayBuffer, body: string): Promise<void> {
  const module = new URL('../../src/sync/write-turns.ts', import.meta.url).href;
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
       .then(({ register }) => { register(); return import(${JSON.stringify(module)}); })
       .then(async ({ WriteTurns }) => {
         const turns = new WriteTurns(workerData.turns);
         const log = new Int32Array(workerData.log);
         const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
         await (${body})(turns, log, sleep);
         parentPort.postMessage('done');
       });`,
    { eval: true, workerData: { turns, log: logBuffer } },
  );
  workers.push(worker);
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
}

const record = (log: Int32Array, who: number) => {
  const at = Atomics.add(log, LOG.next, 1);
  Atomics.store(log, LOG.entries + at, who);
};

/** Blocks this thread until `slot` of `log` is non-zero (bounded). */
function waitForFlag(log: Int32Array, slot: number) {
  for (let i = 0; i < 500 && Atomics.load(log, slot) === 0; i++) Atomics.wait(log, slot, 0, 10);
  if (Atomics.load(log, slot) === 0) throw new Error(`flag ${slot} never set`);
}

describe('write turns', () => {
  it('gives the turn to a waiting capture before an acknowledgement that asked earlier', async () => {
    const turns = WriteTurns.shared();
    const logBuffer = new SharedArrayBuffer(16 * 4);
    const log = new Int32Array(logBuffer);
    // 1 = an acknowledgement holding the turn, 3 = a second one asking for it, 2 = a capture asking after that.
    const first = onOtherThread(
      turns,
      logBuffer,
      `async (turns, log, sleep) => turns.run('delivery', () => {
         Atomics.store(log, ${LOG.holding}, 1);
         // Hold the turn until the capture waits too (the second slot of the turns' state counts waiting captures).
         const state = new Int32Array(workerData.turns);
         for (let i = 0; i < 500 && Atomics.load(state, 1) === 0; i++) sleep(2);
         sleep(20);
         const at = Atomics.add(log, 0, 1); Atomics.store(log, 1 + at, 1);
       })`,
    );
    waitForFlag(log, LOG.holding);
    const second = onOtherThread(
      turns,
      logBuffer,
      `async (turns, log) => {
         Atomics.store(log, ${LOG.trying}, 1);
         turns.run('delivery', () => { const at = Atomics.add(log, 0, 1); Atomics.store(log, 1 + at, 3); });
       }`,
    );
    waitForFlag(log, LOG.trying);
    // Let the second acknowledgement settle into its wait before the capture asks.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    new WriteTurns(turns).run('capture', () => record(log, 2));
    await Promise.all([first, second]);
    expect(Array.from(log.slice(LOG.entries, LOG.entries + Atomics.load(log, LOG.next)))).toEqual([1, 2, 3]);
  });

  it('does not keep a capture waiting on a turn that is never given back', async () => {
    const turns = WriteTurns.shared();
    // A delivery thread that dies holding its turn: the turn is never released.
    await onOtherThread(
      turns,
      new SharedArrayBuffer(16 * 4),
      `async () => Atomics.store(new Int32Array(workerData.turns), 0, 1)`,
    );
    expect(new WriteTurns(turns).run('capture', () => 'stored')).toBe('stored');
  });
});
