/**
 * Status benchmark: what the store manager's status page (GET /v1/status) and the stats call behind it
 * cost on an outbox that retains a month of a busy store (1,000,000 acknowledged events, kept for
 * re-submission checks and support) plus an unsent backlog, against raw baselines measured in the same
 * run on the same database:
 *
 *   - Outbox.stats() against a trivial SELECT (one meta row) on the same connection;
 *   - GET /v1/status of a real agent (startAgent, no MQTT) against GET /healthz of the same agent;
 *   - for reference, the queries the stats call ran before the counts were kept incrementally
 *     (count(*) over every retained event, scans of the backlog for its count and amounts).
 *
 * Run with `npm run bench:status` (`-- --events 200000` for a quicker run). Bounded by a watchdog; the
 * temp dir is removed at the end. Exit 1 if a status answer is wrong (counts that do not match the fill).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startAgent, type RunningAgent } from '../src/agent/agent.js';
import { agentConfigSchema } from '../src/contracts/agent-config.js';
import type { AgentStatus } from '../src/contracts/status.js';
import { textDigest } from '../src/lib/canonical-hash.js';
import { silentLogger } from '../src/lib/logger.js';
import { DeliveryDatabase, Outbox, type CaptureInput } from '../src/sync/index.js';
import { backlogSale } from './support/backlog.js';
import { machineContext } from './support/machine.js';
import { fmt, table } from './support/report.js';
import { summarize, type Distribution } from './support/stats.js';
import { benchTerminals } from './support/terminals.js';

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    backlog: { type: 'string', default: '20000' },
    'dead-letters': { type: 'string', default: '25' },
    samples: { type: 'string', default: '2000' },
  },
});
const numberFlag = (name: keyof typeof flags, min: number, max: number) => {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name} must be between ${min} and ${max}`);
  return value;
};
const RETAINED = numberFlag('events', 1000, 5_000_000);
const BACKLOG = numberFlag('backlog', 0, 1_000_000);
const DEAD = numberFlag('dead-letters', 0, 1000);
const SAMPLES = numberFlag('samples', 100, 100_000);
const FILL_CHUNK = 5000;
const STORE_ID = 'BENCH-STATUS';
const AIM_MS = 50;
const WATCHDOG_MS = 30 * 60 * 1000;

/** What Outbox.stats() ran before event_counts existed: each grows with the backlog or with every retained event. */
const PREVIOUS_STATS_QUERIES = [
  "SELECT count(*) AS count, min(captured_at) AS oldest FROM events WHERE state = 'pending'",
  "SELECT currency, sum(signed_total) AS amount FROM events WHERE state IN ('pending', 'dead') GROUP BY currency ORDER BY currency",
  "SELECT count(*) AS count FROM events WHERE state = 'dead'",
  'SELECT count(*) AS count FROM events',
];

const progress = (line: string) => process.stderr.write(`· ${line}\n`);
const ms = (value: number) => fmt(value, value < 10 ? 3 : 1);

const workDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-status-bench-'));
let agent: RunningAgent | undefined;
const watchdog = setTimeout(() => {
  process.stderr.write(`status bench: watchdog after ${WATCHDOG_MS / 1000} s; giving up\n`);
  rmSync(workDir, { recursive: true, force: true });
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

/**
 * Fills the outbox through Outbox.appendBatch; all but the backlog are then acknowledged on the delivery
 * connection, as the agent's delivery thread records head office's answers.
 */
function fill(file: string): { seconds: number; bodyBytes: number } {
  const outbox = new Outbox({ file, storeId: STORE_ID });
  const delivery = new DeliveryDatabase(file, STORE_ID);
  const startedAt = performance.now();
  let bodyBytes = 0;
  try {
    const total = RETAINED + BACKLOG + DEAD;
    for (let done = 0; done < total;) {
      const count = Math.min(FILL_CHUNK, total - done);
      const items: CaptureInput[] = Array.from({ length: count }, (_, i) => {
        const n = done + i + 1;
        const body = JSON.stringify(backlogSale(`T${51 + (n % 8)}`, n));
        bodyBytes += body.length;
        return {
          terminalId: `T${51 + (n % 8)}`,
          transactionId: `T${51 + (n % 8)}-${n}`,
          type: 'sale',
          currency: n % 10 === 0 ? 'CHF' : 'EUR',
          signedTotal: 609,
          body,
          bodyHash: textDigest(body),
        };
      });
      const results = outbox.appendBatch(items);
      // The first RETAINED + DEAD are acknowledged (DEAD of them refused): what a month of trading leaves.
      const ackUpTo = Math.min(count, RETAINED + DEAD - done);
      if (ackUpTo > 0) {
        const first = results[0]!;
        const last = results[ackUpTo - 1]!;
        if (first instanceof Error || last instanceof Error) throw first instanceof Error ? first : last;
        const deadFrom = RETAINED - done;
        const rejected = Array.from({ length: ackUpTo }, (_, i) => i)
          .filter((i) => i >= deadFrom)
          .map((i) => ({ seq: first.seq + i, reason: 'refused by head office (bench)' }));
        delivery.recordBatchAck(
          {
            v: 1,
            kind: 'batch',
            epoch: first.epoch,
            ackedThrough: last.seq,
            highestSeq: last.seq,
            batch: { firstSeq: first.seq, lastSeq: last.seq, lastEventId: last.eventId },
            rejected,
            conflicts: [],
          },
          Date.now(),
        );
      }
      done += count;
      if (done % 200_000 < FILL_CHUNK) progress(`filled ${fmt(done)} of ${fmt(total)}`);
    }
  } finally {
    delivery.close();
    outbox.close();
  }
  return {
    seconds: (performance.now() - startedAt) / 1000,
    bodyBytes: bodyBytes / (RETAINED + BACKLOG + DEAD),
  };
}

/** Alternates target and baseline calls, so drift on a shared machine hits both alike. */
async function measurePair(
  target: () => unknown,
  baseline: () => unknown,
): Promise<{ target: Distribution; baseline: Distribution }> {
  const t: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < Math.min(50, SAMPLES); i++) {
    await target();
    await baseline();
  }
  for (let i = 0; i < SAMPLES; i++) {
    let at = performance.now();
    await target();
    t.push(performance.now() - at);
    at = performance.now();
    await baseline();
    b.push(performance.now() - at);
  }
  return { target: summarize(t), baseline: summarize(b) };
}

async function main(): Promise<number> {
  const machine = machineContext();
  const dataDir = path.join(workDir, 'agent');
  const file = path.join(dataDir, 'outbox.sqlite');
  progress(
    `filling an outbox: ${fmt(RETAINED)} acknowledged, ${fmt(DEAD)} dead letters, ${fmt(BACKLOG)} unsent`,
  );
  const filled = fill(file);

  // The stats call and its baseline, on one connection of their own.
  const outbox = new Outbox({ file, storeId: STORE_ID });
  const trivial = outbox.database.prepare("SELECT value FROM meta WHERE key = 'epoch'").pluck();
  progress(`Outbox.stats() vs a trivial SELECT, ${fmt(SAMPLES)} samples each`);
  const stats = await measurePair(
    () => outbox.stats(),
    () => trivial.get(),
  );
  const snapshot = outbox.stats();
  progress('the previous stats queries, for reference (20 samples)');
  const previous = PREVIOUS_STATS_QUERIES.map((sql) => outbox.database.prepare(sql));
  const counted: number[] = [];
  for (let i = 0; i < 20; i++) {
    const at = performance.now();
    outbox.database.transaction(() => previous.forEach((statement) => statement.all()))();
    counted.push(performance.now() - at);
  }
  const countStar = summarize(counted);
  outbox.close();

  progress(`GET /v1/status vs GET /healthz of a real agent, ${fmt(SAMPLES)} samples each`);
  const config = agentConfigSchema.parse({
    storeId: STORE_ID,
    dataDir,
    api: { host: '127.0.0.1', port: 0, terminals: benchTerminals(1) },
    log: { level: 'error', console: false },
  });
  agent = await startAgent(config, { logger: silentLogger() });
  const url = agent.url;
  let answer: AgentStatus | undefined;
  const http = await measurePair(
    async () => {
      const response = await fetch(`${url}/v1/status`);
      answer = (await response.json()) as AgentStatus;
    },
    async () => {
      await (await fetch(`${url}/healthz`)).text();
    },
  );
  await agent.stop();
  agent = undefined;

  const problems: string[] = [];
  const expectCount = (what: string, got: number, want: number) => {
    if (got !== want) problems.push(`${what}: ${got}, expected ${want}`);
  };
  expectCount('stats().total', snapshot.total, RETAINED + BACKLOG + DEAD);
  expectCount('stats().unsent.count', snapshot.unsent.count, BACKLOG);
  expectCount('stats().deadLetters', snapshot.deadLetters, DEAD);
  expectCount('GET /v1/status backlog.count', answer?.backlog.count ?? -1, BACKLOG);
  expectCount('GET /v1/status deadLetters.count', answer?.deadLetters.count ?? -1, DEAD);

  const row = (label: string, d: Distribution) => [label, ms(d.p50), ms(d.p90), ms(d.p99), ms(d.max)];
  const lines = [
    'Outpost status benchmark',
    `machine:  ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}`,
    `data dir: ${workDir}${machine.tmpdirFilesystem ? ` on ${machine.tmpdirFilesystem.type}` : ''}`,
    `outbox:   ${fmt(RETAINED)} acknowledged events retained, ${fmt(DEAD)} dead letters, ${fmt(BACKLOG)} unsent ` +
      `(${fmt(filled.bodyBytes)} B bodies), filled in ${fmt(filled.seconds, 1)} s`,
    '',
    'Latency, ms (interleaved with the baseline, same run, same database)',
    table(
      ['call', 'p50', 'p90', 'p99', 'max'],
      [
        row('Outbox.stats()', stats.target),
        row('  baseline: SELECT of one meta row', stats.baseline),
        row('GET /v1/status (HTTP, real agent)', http.target),
        row('  baseline: GET /healthz, same agent', http.baseline),
        row('reference: the previous stats queries (count(*) and scans)', countStar),
      ],
    ),
    '',
    table(
      ['ratio', 'value', 'aim', 'verdict'],
      [
        [
          'GET /v1/status p99, ms',
          ms(http.target.p99),
          `< ${AIM_MS}`,
          http.target.p99 < AIM_MS ? 'meets' : 'MISSES',
        ],
        [
          'Outbox.stats() p99, ms',
          ms(stats.target.p99),
          `< ${AIM_MS}`,
          stats.target.p99 < AIM_MS ? 'meets' : 'MISSES',
        ],
        ['GET /v1/status p50 ÷ GET /healthz p50', fmt(http.target.p50 / http.baseline.p50, 2), 'info', ''],
        [
          'Outbox.stats() p50 ÷ trivial SELECT p50',
          fmt(stats.target.p50 / stats.baseline.p50, 1),
          'info',
          '',
        ],
        [
          'previous queries p50 ÷ Outbox.stats() p50',
          fmt(countStar.p50 / stats.target.p50, 0),
          'info',
          'what the counters save',
        ],
      ],
    ),
  ];
  if (problems.length > 0) lines.push('', 'WRONG ANSWERS:', ...problems.map((p) => `  ${p}`));
  process.stdout.write(lines.join('\n') + '\n');
  return problems.length > 0 ? 1 : 0;
}

main()
  .then(
    (code) => code,
    (error: unknown) => {
      process.stderr.write(
        `status bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      return 1;
    },
  )
  .then(async (code) => {
    await agent?.stop().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
    clearTimeout(watchdog);
    process.exitCode = code;
  });
