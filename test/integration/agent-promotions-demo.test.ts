import { afterEach, describe, expect, it } from 'vitest';
import { activePromotionsAnswerSchema } from '../../src/contracts/promotion-api.js';
import { transactionSchema } from '../../src/contracts/transaction.js';
import { eventually } from '../support/agent-promotions.js';
import { killLeftovers, runOutpost, spawnOutpost } from '../support/spawn-agent.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * `outpost demo` with promotions: it pushes a sample promotion through the hub before the tills open,
 * the simulated sales carry its id (priced by the agent), and the command it prints to push another one
 * works as printed.
 */

afterEach(killLeftovers);

interface DemoLines {
  tillToken: string;
  agentUrl: string;
  hubUrl: string;
  hubToken: string;
  promotions: string;
  pushAnother: string[];
}

describe('outpost demo', () => {
  it('pushes a sample promotion the sales carry, and prints how to push another, which works', async () => {
    const dir = makeTempDir('demo-promotions');
    const printed: string[] = [];
    const demo = await spawnOutpost<DemoLines>(['demo', '--rate', '20', '--dir', dir], {
      ready: (line) => {
        if (typeof line === 'string') printed.push(line);
        const find = (label: string) => printed.find((l) => l.trimStart().startsWith(label));
        const push = find('Push another:');
        const stores = find('Hub stores:');
        if (!push || !stores) return undefined;
        const hub = /Bearer ([0-9a-f]+)' (http:\/\/\S+)\/v1\/stores$/.exec(stores)!;
        return {
          tillToken: find('Till token (T1):')!.split(/\s+/).at(-1)!,
          agentUrl: find('Store status:')!.split(/\s+/).at(-1)!.replace('/v1/status', ''),
          hubUrl: hub[2]!,
          hubToken: hub[1]!,
          promotions: find('Promotions:')!,
          pushAnother: push.replace(/^\s*Push another:\s*/, '').split(/\s+/),
        };
      },
      timeoutMs: 30_000,
    });
    const { tillToken, agentUrl, hubUrl, hubToken, promotions, pushAnother } = demo.ready;
    expect(promotions).toContain('DEMO-DAIRY-10 in force at the store');
    expect(pushAnother.slice(0, 3)).toEqual(['outpost', 'promo', 'push']);
    expect(pushAnother).toEqual(expect.arrayContaining(['--hub', hubUrl, '--token', hubToken]));

    // The printed command, as printed (the `outpost` executable is bin/outpost.js here).
    const pushed = await runOutpost(pushAnother.slice(1));
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    const active = async () =>
      activePromotionsAnswerSchema.parse(
        await (
          await fetch(`${agentUrl}/v1/promotions/active`, {
            headers: { authorization: `Bearer ${tillToken}` },
          })
        ).json(),
      );
    await eventually(
      'both promotions in force at the store',
      async () =>
        (await active()).promotions.map((p) => p.promotionId).join() === 'DEMO-DAIRY-10,DEMO-PASTA-3FOR2',
    );

    // The sales head office receives carry the sample's id in their line discounts.
    const headers = { authorization: `Bearer ${hubToken}` };
    await eventually(
      'a sale with the sample promotion at head office',
      async () => {
        const { events } = (await (
          await fetch(`${hubUrl}/v1/stores/STORE-001/transactions?limit=1000`, { headers })
        ).json()) as { events: { type: string; body: unknown }[] };
        return events
          .filter((e) => e.type === 'sale')
          .map((e) => transactionSchema.parse(typeof e.body === 'string' ? JSON.parse(e.body) : e.body))
          .some((tx) => tx.lines.some((l) => l.discounts.some((d) => d.promotionId === 'DEMO-DAIRY-10')));
      },
      { timeoutMs: 20_000 },
    );
    const status = await runOutpost([
      'promo',
      'status',
      'DEMO-DAIRY-10',
      '--hub',
      hubUrl,
      '--token',
      hubToken,
      '--json',
    ]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('STORE-001');

    const exit = await demo.kill('SIGINT');
    expect(exit.code).toBe(0);
  }, 90_000);
});
