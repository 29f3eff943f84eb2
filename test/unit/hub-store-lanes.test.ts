import { describe, expect, it } from 'vitest';
import { StoreLanes } from '../../src/hub/store-lanes.js';

/** A piece of work that records its start and ends when the test says so. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { work: () => (log.push(`start ${name}`), done.then(() => void log.push(`end ${name}`))), open };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('StoreLanes', () => {
  it("runs one store's work in arrival order while other stores' work goes past a stuck one", async () => {
    const log: string[] = [];
    const lanes = new StoreLanes({ concurrency: 4, perLaneLimit: 8, onError: () => {} });
    const a1 = gate(log, 'A1');
    const a2 = gate(log, 'A2');
    const b1 = gate(log, 'B1');
    lanes.push('A', a1.work);
    lanes.push('A', a2.work);
    lanes.push('B', b1.work);
    await tick();
    expect(log).toEqual(['start A1', 'start B1']);
    b1.open();
    await tick();
    expect(log).toEqual(['start A1', 'start B1', 'end B1']);
    a1.open();
    await tick();
    expect(log).toEqual(['start A1', 'start B1', 'end B1', 'end A1', 'start A2']);
    a2.open();
    await lanes.drain();
    expect(lanes.size).toBe(0);
  });

  it('runs at most `concurrency` lanes at once and caps what one lane may hold', async () => {
    const log: string[] = [];
    const lanes = new StoreLanes({ concurrency: 2, perLaneLimit: 2, onError: () => {} });
    const gates = ['A', 'B', 'C'].map((k) => gate(log, k));
    gates.forEach((g, i) => lanes.push(['A', 'B', 'C'][i]!, g.work));
    await tick();
    expect(log).toEqual(['start A', 'start B']);
    expect(lanes.hasRoom('A')).toBe(true);
    lanes.push('A', gate(log, 'A2').work);
    expect(lanes.hasRoom('A')).toBe(false);
    expect(lanes.hasRoom('D')).toBe(true);
    gates[1]!.open();
    await tick();
    expect(log).toContain('start C');
    expect(lanes.size).toBe(3);
  });

  it('keeps going after a piece of work throws, and reports it', async () => {
    const errors: unknown[] = [];
    const lanes = new StoreLanes({ concurrency: 1, perLaneLimit: 4, onError: (e) => errors.push(e) });
    let ran = false;
    lanes.push('A', () => Promise.reject(new Error('boom')));
    lanes.push('A', async () => {
      ran = true;
    });
    await lanes.drain();
    expect(ran).toBe(true);
    expect(errors).toHaveLength(1);
  });
});
