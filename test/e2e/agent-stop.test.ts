import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTerminals, spawnAgent } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * A support engineer reading an agent's log must see when it stopped and that it stopped cleanly, as the
 * hub's log says: the "agent stopped" line is written, and reaches the file, before the process exits.
 */

const TERMINALS = makeTerminals(['T1']);

function logLines(dataDir: string): Record<string, unknown>[] {
  const dir = path.join(dataDir, 'logs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .flatMap((f) => readFileSync(path.join(dir, f), 'utf8').trim().split('\n'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('outpost agent: stopping', () => {
  it('logs "agent stopped" as its last line on SIGTERM, flushed to the file, every time', async () => {
    const dataDir = makeTempDir('agent-stop');
    for (let run = 1; run <= 3; run += 1) {
      const agent = await spawnAgent({ dataDir, terminals: TERMINALS, storeId: 'S042' });
      const response = await fetch(`${agent.url}/v1/transactions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TERMINALS[0]!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(numberedSale('T1', run)),
      });
      expect(response.status).toBe(201);
      expect(await agent.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(agent.stderr()).toContain('SIGTERM received, shutting down');

      const lines = logLines(dataDir);
      expect(lines.filter((l) => l.message === 'agent stopped')).toHaveLength(run);
      expect(lines[lines.length - 1]).toMatchObject({
        level: 'info',
        message: 'agent stopped',
        storeId: 'S042',
      });
      expect(lines.filter((l) => l.message === 'captured')).toHaveLength(run);
    }
  });
});
