import { describe, expect, it } from 'vitest';
import { numberedSale } from '../support/pos-payloads.js';
import { SyncHarness, waitFor } from '../support/sync-harness.js';

/**
 * A sale larger than any message the broker (or head office) accepts never stalls the store's queue: it
 * becomes a dead letter at the agent, with a reason a technician can act on, every sale behind it keeps
 * flowing, and head office still accounts for its seq (refused, with that reason), so the epoch has no
 * gap and can be proven complete.
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
  it('becomes a dead letter at the agent, its seq is accounted for at head office, and the sales after it arrive', async () => {
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

    const lastSeq = Math.max(...h.sent.map((s) => s.seq));
    await waitFor(
      'every seq at the hub and the big sale dead-lettered',
      async () => {
        const status = await h.agentStatus();
        const epoch = (await h.hubStoreSummary())?.epochs.find((e) => e.epoch === h.agent.outbox.epoch);
        return (
          status.deadLetters.count === 1 && status.backlog.count === 0 && epoch?.contiguousThrough === lastSeq
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
          /^withheld by the store: too large.*broker accepts at most \d+ bytes \(its maximum packet size\)/,
        ),
      }),
    ]);
    // Everything else arrived exactly as sold; the big sale's seq holds a refused row with the agent's
    // reason, filed under its till and transaction: no gap, nothing stored in its name.
    const served = await h.hubTransactions();
    expect(served.map((e) => [e.seq, e.eventId, e.status])).toEqual(
      [...h.sent]
        .sort((a, b) => a.seq - b.seq)
        .map((s) => [s.seq, s.eventId, s === big ? 'rejected' : 'stored']),
    );
    const refused = served.find((e) => e.seq === big!.seq)!;
    expect(refused).toMatchObject({
      status: 'rejected',
      terminalId: big!.terminalId,
      transactionId: big!.transactionId,
      reason: expect.stringMatching(/^withheld by the store: too large/) as string,
    });
    expect(
      await h.deliveryProblems([
        ...h.expectedFromSent().filter((e) => e.seq !== big!.seq),
        { seq: big!.seq, eventId: big!.eventId, text: 'null', status: 'rejected' },
      ]),
    ).toEqual([]);
    const epoch = (await h.hubStoreSummary())!.epochs.find((e) => e.epoch === h.agent.outbox.epoch)!;
    expect(epoch).toMatchObject({ gaps: [], contiguousThrough: lastSeq, lastSeq, rejected: 1 });
  }, 60_000);
});
