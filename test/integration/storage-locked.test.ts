import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { sale } from '../support/pos-payloads.js';
import { makeTempDir } from '../support/temp-dir.js';

const TOKEN = 'locked-test-token-0001';
let agent: RunningAgent;
let dataDir: string;

beforeAll(async () => {
  dataDir = makeTempDir('locked');
  agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'S1',
      dataDir,
      api: { host: '127.0.0.1', port: 0, terminals: [{ id: 'T1', token: TOKEN }] },
    }),
    { logger: silentLogger() },
  );
});
afterAll(() => agent.stop());

const post = (transactionId: string) =>
  fetch(`${agent.url}/v1/transactions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(sale({ transactionId })),
  });

describe('a database locked by another program', () => {
  it('answers 503 naming the lock, stores nothing, and takes sales again once the lock is gone', async () => {
    expect((await post('before-lock')).status).toBe(201);
    // A backup tool or a careless sqlite3 session holding the write lock longer than the busy timeout.
    const other = new Database(path.join(dataDir, 'outbox.sqlite'));
    other.exec('BEGIN EXCLUSIVE');
    try {
      const refused = await post('during-lock');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { error: string }).error).toMatch(/locked/);
      expect((await fetch(`${agent.url}/healthz`)).status).toBe(503);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    const again = await post('during-lock');
    expect(again.status).toBe(201);
    expect(((await again.json()) as { seq: number }).seq).toBe(2);
    expect((await fetch(`${agent.url}/healthz`)).status).toBe(200);
    expect(agent.outbox.stats().lastSeq).toBe(2);
  }, 30_000);
});
