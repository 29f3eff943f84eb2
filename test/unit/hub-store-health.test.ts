import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { StoreSummary } from '../../src/hub/hub-store.js';
import { dayWindow, registerStoreHealth, storeHealth } from '../../src/hub/store-health.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

const store = (over: Partial<StoreSummary>): StoreSummary => ({
  storeId: 'S1',
  currentEpoch: 'e1e1e1e1e1e1e1e1',
  online: true,
  lastSeen: null,
  reportedBacklog: 0,
  agentVersion: null,
  quarantined: 0,
  oldestUnsentAt: null,
  unsentByDay: null,
  acked: null,
  epochs: [],
  ...over,
});

const epoch = (over: Partial<StoreSummary['epochs'][number]>): StoreSummary['epochs'][number] => ({
  epoch: 'e1e1e1e1e1e1e1e1',
  firstSeen: '',
  lastSeen: '',
  lastSeq: 0,
  contiguousThrough: 0,
  gaps: [],
  stored: 0,
  rejected: 0,
  duplicates: 0,
  moved: 0,
  closed: null,
  complete: false,
  unrecoverable: [],
  resend: null,
  ...over,
});

describe('per-store health for /metrics', () => {
  it('counts the contiguous lag from held seqs and acknowledged ones the hub lost, lost-for-good ones aside', () => {
    const [h] = storeHealth(
      [
        store({
          reportedBacklog: 3,
          oldestUnsentAt: new Date(NOW - 90_000).toISOString(),
          quarantined: 2,
          acked: [{ epoch: 'e1e1e1e1e1e1e1e1', through: 120 }],
          epochs: [
            epoch({
              lastSeq: 100,
              contiguousThrough: 50,
              gaps: [{ from: 61, to: 70 }],
              unrecoverable: [{ from: 51, to: 60 }],
            }),
          ],
        }),
      ],
      [{ storeId: 'S1', mismatched: 1, notClosed: 2 }],
      NOW,
    );
    expect(h).toEqual({
      storeId: 'S1',
      online: true,
      backlog: 3,
      oldestUnsentAgeSeconds: 90,
      // Expected through 120 (the store's word), held through 50, 10 never coming.
      contiguousLag: 60,
      openGaps: 1,
      quarantined: 2,
      unrecoverable: 10,
      daysNotConfirmed: 3,
      daysMismatched: 1,
    });
  });

  it('reads an unknown age as absent, and no backlog as age 0', () => {
    expect(storeHealth([store({ reportedBacklog: null })], [], NOW)[0]!.oldestUnsentAgeSeconds).toBeNull();
    expect(storeHealth([store({ reportedBacklog: 0 })], [], NOW)[0]!.oldestUnsentAgeSeconds).toBe(0);
  });

  it('counts the seven business days before today', () => {
    expect(dayWindow(NOW)).toEqual({ from: '2026-11-18', to: '2026-11-24' });
  });

  it('exposes one series per store, labelled by store alone, from one read per scrape', async () => {
    const registry = new Registry();
    let reads = 0;
    registerStoreHealth(registry, async () => {
      reads++;
      return storeHealth(
        [store({ storeId: 'S1' }), store({ storeId: 'S2', online: false, reportedBacklog: null })],
        [],
        NOW,
      );
    });
    const text = await registry.metrics();
    expect(reads).toBe(1);
    expect(text).toContain('outpost_hub_store_online{store="S1"} 1');
    expect(text).toContain('outpost_hub_store_online{store="S2"} 0');
    expect(text).not.toContain('outpost_hub_store_backlog{store="S2"}');
  });
});
