import { describe, expect, it } from 'vitest';
import { createTally, summariseLatency } from '../../src/simulate/tally.js';

describe('simulation tally', () => {
  it('reports nearest-rank latency percentiles', () => {
    const latencies = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summariseLatency(latencies)).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(summariseLatency([])).toEqual({ p50: 0, p99: 0, max: 0 });
  });

  it('counts created, duplicates and errors by status with the first body as sample', () => {
    const tally = createTally();
    const base = { kind: 'new', type: 'sale', duplicate: false, detail: '', attempts: 1 } as const;
    tally.outcome({ ...base, status: 201 });
    tally.outcome({ ...base, kind: 'retry', status: 200, duplicate: true });
    tally.outcome({ ...base, status: 409, detail: 'first conflict' });
    tally.outcome({ ...base, status: 409, detail: 'second conflict' });
    tally.outcome({ ...base, type: 'void', status: 503, detail: 'disk full', attempts: 4 });
    tally.outcome({ ...base, status: 0, failure: 'network', detail: 'ECONNREFUSED' });
    const figures = tally.snapshot();
    expect(figures).toMatchObject({
      submitted: 6,
      created: 1,
      duplicates: 1,
      deliberateRetries: 1,
      unavailableRetries: 3,
      transactions: { sale: 4, return: 0, void: 1 },
      errors: {
        '409': { count: 2, sample: 'first conflict' },
        '503': { count: 1, sample: 'disk full' },
        network: { count: 1, sample: 'ECONNREFUSED' },
      },
    });
  });

  it('counts a new sale found stored after its answer was lost as created, not as a duplicate', () => {
    const tally = createTally();
    const base = { kind: 'new', type: 'sale', detail: '' } as const;
    // First attempt stored, its answer lost; the second is answered from the outbox.
    tally.outcome({ ...base, status: 200, duplicate: true, attempts: 2, unanswered: 1 });
    // Refused while the agent was down, stored when it was back.
    tally.outcome({ ...base, status: 201, duplicate: false, attempts: 4, unanswered: 2 });
    // A deliberate repeat whose first answer was lost is still a repeat.
    tally.outcome({ ...base, kind: 'retry', status: 200, duplicate: true, attempts: 2, unanswered: 1 });
    expect(tally.snapshot()).toMatchObject({
      submitted: 3,
      created: 2,
      createdBeforeLostAnswer: 1,
      duplicates: 1,
      unansweredRetries: 4,
      unavailableRetries: 1,
      errors: {},
    });
  });

  it('does not count a 200 without duplicate:true as a duplicate', () => {
    const tally = createTally();
    tally.outcome({ kind: 'new', type: 'sale', status: 200, duplicate: false, detail: '{}', attempts: 1 });
    expect(tally.snapshot()).toMatchObject({ duplicates: 0, errors: { '200': { count: 1 } } });
  });
});
