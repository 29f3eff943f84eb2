/**
 * The hub under test: startHub exactly as `outpost hub` runs it (ingest over the private Mosquitto with a
 * shared subscription, operator API on a free port, SQLite or PostgreSQL store), in its own process.
 *
 * The only addition is a measuring wrapper around this instance's store.insertEventsOnce, which ingest
 * calls once per batch after parsing it: it times each durable batch (lookups, classification, inserts,
 * commit) and reports the mark `reached` the moment a commit makes the stream contiguous through
 * --target, i.e. when every backlog event is durably stored and the acknowledgement is about to go out.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { hubConfigSchema } from '../../src/contracts/hub-config.js';
import { startHub } from '../../src/hub/index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { runStagedChild } from './staged-child.js';
import { summarize } from './stats.js';

const { values } = parseArgs({
  options: {
    'db-url': { type: 'string' },
    'mqtt-url': { type: 'string' },
    'share-group': { type: 'string' },
    'pool-size': { type: 'string' },
    'hub-id': { type: 'string' },
    token: { type: 'string' },
    target: { type: 'string' },
  },
});
const dbUrl = values['db-url'];
const mqttUrl = values['mqtt-url'];
const token = values.token;
if (!dbUrl || !mqttUrl || !token) throw new Error('--db-url, --mqtt-url and --token are required');
const target = Number(values.target ?? '0');

runStagedChild(async (context) => {
  const config = hubConfigSchema.parse({
    hubId: values['hub-id'] ?? 'bench-hub',
    db: { url: dbUrl, ...(values['pool-size'] ? { poolSize: values['pool-size'] } : {}) },
    mqtt: { url: mqttUrl, shareGroup: values['share-group'] ?? 'bench-hubs' },
    api: { host: '127.0.0.1', port: 0, token },
    log: { level: 'info', console: false },
  });
  const hub = await startHub(config, { logger: silentLogger() });

  let storeMs: number[] = [];
  let events = 0;
  let stored = 0;
  let ackedThrough = 0;
  let reached = false;
  const store = hub.store;
  const insertEventsOnce = store.insertEventsOnce.bind(store);
  store.insertEventsOnce = async (storeId, epoch, batch, receivedAt, watch) => {
    const startedAt = performance.now();
    const outcome = await insertEventsOnce(storeId, epoch, batch, receivedAt, watch);
    storeMs.push(performance.now() - startedAt);
    events += batch.length;
    stored += outcome.stored;
    ackedThrough = Math.max(ackedThrough, outcome.ackedThrough);
    if (!reached && target > 0 && outcome.ackedThrough >= target) {
      reached = true;
      context.mark('reached', { ackedThrough: outcome.ackedThrough });
    }
    return outcome;
  };

  return {
    url: hub.url,
    takeFigures() {
      const d = summarize(storeMs);
      const figures = {
        batches: d.count,
        events,
        stored,
        ackedThrough,
        storeMsTotal: d.count ? d.mean * d.count : 0,
        storeMsP50: d.p50,
        storeMsP99: d.p99,
        storeMsMax: d.max,
      };
      storeMs = [];
      events = 0;
      stored = 0;
      return figures;
    },
    async stop() {
      const counts = await store.counts();
      await hub.stop();
      return { ...counts, ackedThrough };
    },
  };
});
