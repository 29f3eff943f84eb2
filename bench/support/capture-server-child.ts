/**
 * The server under test for durable capture: a real agent (startAgent) on 127.0.0.1, a free port and the
 * data dir given by the bench. Run as `node --import tsx bench/support/capture-server-child.ts --data-dir
 * DIR --terminals N`; it prints its URL on stdout (see child-protocol.ts).
 *
 * The only addition is a measuring wrapper around this instance's outbox.appendBatch, which the group
 * commit calls once per durable transaction: it counts rows per commit and times each commit. It adds
 * two clock reads per commit and changes nothing else.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { serveUnderControl, type CommitSample } from './child-protocol.js';
import { benchTerminals } from './terminals.js';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string' }, terminals: { type: 'string' } },
});
const dataDir = values['data-dir'];
if (!dataDir) throw new Error('--data-dir is required');

await serveUnderControl(async () => {
  const config = agentConfigSchema.parse({
    storeId: 'BENCH-STORE',
    dataDir,
    api: { host: '127.0.0.1', port: 0, terminals: benchTerminals(Number(values.terminals ?? '64')) },
    log: { level: 'info', console: false },
  });
  const agent = await startAgent(config, { logger: silentLogger() });

  let commits: CommitSample = { batchSizes: [], durationsMs: [] };
  const outbox = agent.outbox;
  const appendBatch = outbox.appendBatch.bind(outbox);
  outbox.appendBatch = (items) => {
    const startedAt = performance.now();
    try {
      return appendBatch(items);
    } finally {
      commits.durationsMs.push(performance.now() - startedAt);
      commits.batchSizes.push(items.length);
    }
  };

  return {
    url: agent.url,
    takeCommits() {
      const taken = commits;
      commits = { batchSizes: [], durationsMs: [] };
      return taken;
    },
    async stop() {
      const stats = outbox.stats();
      const quickCheck = outbox.quickCheck();
      await agent.stop();
      return { lastSeq: stats.lastSeq, unsent: stats.unsent.count, quickCheck };
    },
  };
});
