import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { captureAcceptedSchema } from '../../src/contracts/api.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { silentLogger } from '../../src/lib/logger.js';
import { runSimulation, type SimulationSummary, type SubmissionResult } from '../../src/simulate/index.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const terminals = [1, 2, 3, 4].map((n) => ({ id: `T${n}`, token: `till-${n}-token-0123456789abcdef` }));

let agent: RunningAgent;
let dataDir: string;

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'outpost-simulate-'));
  const config = agentConfigSchema.parse({
    storeId: 'store-sim',
    dataDir,
    api: { host: '127.0.0.1', port: 0, terminals },
  });
  agent = await startAgent(config, { logger: silentLogger() });
});

afterEach(async () => {
  await agent.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const key = (ref: { terminalId: string; transactionId: string }) => `${ref.terminalId}/${ref.transactionId}`;

/** Everything a till sent, and what the agent answered: the evidence each test checks. */
async function simulate(
  options: Partial<Parameters<typeof runSimulation>[0]> = {},
): Promise<{ summary: SimulationSummary; results: SubmissionResult[] }> {
  const results: SubmissionResult[] = [];
  const summary = await runSimulation({
    agentUrl: agent.url,
    terminals,
    tills: 4,
    ratePerSecond: 50,
    durationSeconds: 2,
    seed: 2026,
    onResult: (r) => results.push(r),
    ...options,
  });
  return { summary, results };
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/outpost.js', ...args], { cwd: repoRoot });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('outpost simulate against a real agent', () => {
  it('has every simulated transaction stored exactly once: 201s equal the outbox last seq, nothing rejected', async () => {
    const started = performance.now();
    const { summary, results } = await simulate();
    const elapsed = (performance.now() - started) / 1000;

    expect(summary.errors).toEqual({});
    expect(summary.created).toBe(agent.outbox.stats().lastSeq);
    expect(summary.duplicates).toBe(summary.deliberateRetries);
    // Bounded: never more than rate × duration (+10%), and it stops by itself (duration + grace period).
    expect(summary.submitted).toBeLessThanOrEqual(50 * 2 * 1.1);
    expect(summary.submitted).toBeGreaterThanOrEqual(80);
    expect(elapsed).toBeLessThan(2 + 5 + 3);
    expect(results).toHaveLength(summary.submitted);

    const stored = new Map<string, string>();
    const seqs = new Set<number>();
    for (const r of results) {
      if (r.kind === 'retry') {
        expect(r.status).toBe(200);
        continue;
      }
      expect(r.status).toBe(201);
      seqs.add(captureAcceptedSchema.parse(r.response).seq);
      const tx = transactionSchema.parse(JSON.parse(r.bodyText));
      expect(tx.transactionId).toBe(r.transactionId);
      // Returns and voids point at sales the agent had already stored.
      if (tx.type === 'return') expect(stored.has(key(tx.original))).toBe(true);
      if (tx.type === 'void') expect(stored.has(key(tx.voids))).toBe(true);
      stored.set(key(tx), r.bodyText);
    }
    expect(seqs.size).toBe(summary.created);
    expect(summary.latencyMs.p50).toBeGreaterThan(0);
    expect(summary.latencyMs.max).toBeGreaterThanOrEqual(summary.latencyMs.p99);
  });

  it('gets 200 duplicate for every deliberate retry, also with more tills than terminal identities', async () => {
    const shared = terminals.slice(0, 2);
    const { summary, results } = await simulate({ terminals: shared, retryProbability: 0.3 });

    expect(summary.errors).toEqual({});
    expect(summary.duplicates).toBeGreaterThan(0);
    expect(summary.duplicates).toBe(summary.deliberateRetries);
    expect(summary.created).toBe(agent.outbox.stats().lastSeq);

    const firstSent = new Map<string, string>();
    for (const r of results) {
      if (r.kind === 'new') {
        expect(firstSent.has(key(r))).toBe(false);
        firstSent.set(key(r), r.bodyText);
      } else {
        expect(r.response).toMatchObject({ duplicate: true });
        expect(r.bodyText).toBe(firstSent.get(key(r)));
      }
    }
  });

  it('stops early, and promptly, when its signal is aborted', async () => {
    const started = performance.now();
    const { summary } = await simulate({ durationSeconds: 30, signal: AbortSignal.timeout(500) });
    expect((performance.now() - started) / 1000).toBeLessThan(2);
    expect(summary.aborted).toBe(true);
    expect(summary.submitted).toBeGreaterThan(0);
    expect(summary.submitted).toBeLessThan(50);
    expect(summary.created).toBe(agent.outbox.stats().lastSeq);
  });

  it('runs from the command line and prints its summary as JSON on stdout', async () => {
    const tokens = terminals.slice(0, 2).map((t) => `${t.id}=${t.token}`);
    const { code, stdout, stderr } = await runCli([
      'simulate',
      '--agent',
      agent.url,
      '--token',
      ...tokens,
      '--terminals',
      '3',
      '--rate',
      '20',
      '--duration',
      '1',
      '--seed',
      '7',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as SimulationSummary;
    expect(summary.seed).toBe(7);
    expect(summary.target.tills).toBe(3);
    expect(summary.errors).toEqual({});
    expect(summary.submitted).toBeGreaterThan(0);
    expect(summary.created).toBe(agent.outbox.stats().lastSeq);
  });

  it('exits 2 naming --token when a value has no "="', async () => {
    const { code, stdout, stderr } = await runCli([
      'simulate',
      '--agent',
      agent.url,
      '--token',
      'T1=good-token-0123456789',
      'just-a-secret-token',
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/--token must be TERMINAL=TOKEN/);
    // The malformed value may be a bare token: it must not end up in a terminal log.
    expect(stderr).not.toContain('just-a-secret-token');
    expect(agent.outbox.stats().lastSeq).toBe(0);
  });
});
