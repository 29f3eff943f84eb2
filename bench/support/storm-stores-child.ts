/**
 * The storm's stores in a process of their own (so their CPU is counted apart from the hubs'): loads,
 * waits for `go`, runs every store (storm-stores.ts), marks `done` with a summary, writes the full
 * result (per store, every ack latency) to --results, and stops on `stop`.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runStagedChild } from './staged-child.js';
import { runStorm } from './storm-stores.js';

const { values } = parseArgs({
  options: {
    'mqtt-url': { type: 'string' },
    'run-id': { type: 'string' },
    stores: { type: 'string' },
    events: { type: 'string' },
    'batch-events': { type: 'string' },
    window: { type: 'string' },
    'ack-timeout-ms': { type: 'string' },
    'hand-offs': { type: 'string' },
    'deadline-ms': { type: 'string' },
    results: { type: 'string' },
  },
});
const need = (name: keyof typeof values) => {
  const value = values[name];
  if (!value) throw new Error(`--${name} is required`);
  return value;
};

runStagedChild(async (context) => {
  const run = {
    runId: need('run-id'),
    stores: Number(need('stores')),
    eventsPerStore: Number(need('events')),
  };
  const tuning = {
    batchEvents: Number(need('batch-events')),
    window: Number(need('window')),
    ackTimeoutMs: Number(need('ack-timeout-ms')),
    handOffs: Number(need('hand-offs')),
  };
  let running = true;
  const storm = runStorm(need('mqtt-url'), run, tuning, Number(need('deadline-ms'))).then((result) => {
    running = false;
    writeFileSync(need('results'), JSON.stringify(result));
    context.mark('done', {
      stores: result.stores.length,
      done: result.stores.filter((s) => s.doneMs !== null).length,
    });
    return result;
  });
  return {
    url: '',
    takeFigures: () => ({ running: running ? 1 : 0 }),
    async stop() {
      const result = await storm;
      return { stores: result.stores.length };
    },
  };
});
