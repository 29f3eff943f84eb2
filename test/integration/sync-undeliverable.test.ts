import { describe, expect, it } from 'vitest';
import { numberedSale } from '../support/pos-payloads.js';
import { SyncHarness, waitFor } from '../support/sync-harness.js';

/**
 * Issue: one sale larger than any message the broker (or head office) accepts was published again
 * forever and stalled the store's queue for good. It must become a dead letter at the agent, with a
 * reason a technician can act on, and every sale behind it must keep flowing.
 */

const MAX_PACKET = 32 * 1024;

/** A valid sale of about 46 KB: fifty long free-form POS fields. */
function bigSaleText(terminalId: string, n: number): string {
  const extensions = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [`field${i}`, `${i}:`.padEnd(900, 'x')]),
  );
  return JSON.stringify({ ...numberedSale(terminalId, n), extensions });
}

describe('a sale larger than the broker accepts', () => {
  it('becomes a dead letter at the agent, and the sales after it reach head office', async () => {
    const h = await SyncHarness.start({
      broker: 'mosquitto',
      mosquittoConfig: [`max_packet_size ${MAX_PACKET}`],
      protocolVersion: 5,
    });
    await h.sell(5);
    const [big] = await h.sell(1, { text: bigSaleText });
    expect(Buffer.byteLength(big!.text)).toBeGreaterThan(MAX_PACKET);
    await h.sell(30);
    expect(h.unexpected).toEqual([]);

    const deliveredSeqs = h.sent.filter((s) => s !== big).map((s) => s.seq);
    await waitFor(
      'every other sale at the hub and the big one dead-lettered',
      async () => {
        const status = await h.agentStatus();
        const held = new Set((await h.hubTransactions()).map((e) => e.seq));
        return (
          status.deadLetters.count === 1 &&
          status.backlog.count === 0 &&
          deliveredSeqs.every((s) => held.has(s))
        );
      },
      {
        timeoutMs: 20_000,
        describe: async () => ({ agent: await h.agentStatus(), hub: await h.hubStoreSummary() }),
      },
    );

    const status = await h.agentStatus();
    expect(status.deadLetters.items).toEqual([
      expect.objectContaining({
        seq: big!.seq,
        eventId: big!.eventId,
        state: 'dead',
        reason: expect.stringMatching(
          /too large.*broker accepts at most \d+ bytes \(its maximum packet size\)/,
        ),
      }),
    ]);
    // Everything else arrived exactly as sold; the big sale's seq is the one head office still lacks.
    const served = await h.hubTransactions();
    const expected = h.sent.filter((s) => s !== big);
    expect(served.map((e) => [e.seq, e.eventId, e.bodyJson])).toEqual(
      expected.map((s) => [s.seq, s.eventId, s.text]),
    );
    const epoch = (await h.hubStoreSummary())!.epochs.find((e) => e.epoch === h.agent.outbox.epoch)!;
    expect(epoch.gaps).toEqual([{ from: big!.seq, to: big!.seq }]);
  }, 60_000);
});
