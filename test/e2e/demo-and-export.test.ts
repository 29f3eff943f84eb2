import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killLeftovers, spawnOutpost } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

const run = promisify(execFile);
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/outpost.js');

afterEach(killLeftovers);

describe('outpost demo, then outpost hub export', () => {
  it('sells through broker, hub and agent in one command, stops on Ctrl-C, and exports a day as JSON Lines', async () => {
    const dir = makeTempDir('demo');
    const demo = await spawnOutpost(['demo', '--rate', '40', '--dir', dir], {
      ready: (line) => {
        const m =
          typeof line === 'string'
            ? /Bearer ([0-9a-f]+)' (http:\/\/127\.0\.0\.1:\d+)\/v1\/stores$/.exec(line)
            : null;
        return m ? { token: m[1]!, hubUrl: m[2]! } : undefined;
      },
      timeoutMs: 30_000,
    });
    const { token, hubUrl } = demo.ready;
    const headers = { authorization: `Bearer ${token}` };

    // Bounded wait for some sales to reach head office.
    let stored = 0;
    for (let i = 0; i < 100 && stored < 40; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const { stores } = (await (await fetch(`${hubUrl}/v1/stores`, { headers })).json()) as {
        stores: { epochs: { stored: number }[] }[];
      };
      stored = stores[0]?.epochs.reduce((n, e) => n + e.stored, 0) ?? 0;
    }
    expect(stored).toBeGreaterThanOrEqual(40);

    const exit = await demo.kill('SIGINT');
    expect(exit.code).toBe(0);

    // What reached the hub is in seq order without gaps; the export must give exactly its stored sales of that day.
    const hubConfig = path.join(dir, 'hub-export.json');
    writeFileSync(
      hubConfig,
      JSON.stringify({
        hubId: 'export',
        db: { url: `sqlite:${path.join(dir, 'hub', 'hub.sqlite')}` },
        mqtt: { url: 'mqtt://127.0.0.1:1' },
        api: { token: 'unused-token-0123456789' },
      }),
    );
    const { openHubStore } = await import('../../src/hub/index.js');
    const store = await openHubStore(`sqlite:${path.join(dir, 'hub', 'hub.sqlite')}`);
    const { events } = await store.listTransactions('STORE-001', { limit: 100_000 });
    await store.close();
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // The first events may be the store's own records (the demo's promotion rollout), which have no day.
    const day = events.find((e) => e.businessDay !== null)!.businessDay!;
    const expected = events.filter((e) => e.status === 'stored' && e.businessDay === day);

    const out = path.join(dir, 'day.jsonl');
    const result = await run(process.execPath, [
      BIN,
      'hub',
      'export',
      '--config',
      hubConfig,
      '--store',
      'STORE-001',
      '--day',
      day,
      '--out',
      out,
    ]);
    expect(result.stderr).toContain(`exported ${expected.length} transaction(s)`);
    const { readFileSync } = await import('node:fs');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual(expected.map((e) => e.seq));
    // Each line carries the stored text itself, spliced in (only line breaks, whitespace between JSON
    // tokens, become spaces so that a line stays a line).
    lines.forEach((line, i) =>
      expect(line.endsWith(`"transaction":${expected[i]!.bodyJson!.replace(/[\r\n]/g, ' ')}}`)).toBe(true),
    );
  }, 90_000);

  it('refuses a malformed business day with exit code 2', async () => {
    const error = await run(process.execPath, [
      BIN,
      'hub',
      'export',
      '--config',
      '/nonexistent.json',
      '--store',
      'S',
      '--day',
      '23/11/2026',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((error as { code: number }).code).toBe(2);
    expect((error as { stderr: string }).stderr).toContain('--day');
  });
});
