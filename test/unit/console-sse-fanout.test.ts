import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import winston from 'winston';
import { describe, expect, it } from 'vitest';
import { LIVE_UPDATE_FAILED, SseFanout } from '../../src/lib/sse-fanout.js';

/** A response that records what was written; `slow` makes it report a full socket buffer. */
class FakeResponse extends EventEmitter {
  readonly chunks: string[] = [];
  slow = false;
  ended = false;
  get writableNeedDrain() {
    return this.slow;
  }
  writeHead() {
    return this;
  }
  write(chunk: string) {
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.ended = true;
    this.emit('close');
  }
  /** The data of each SSE event written. */
  data(): string[] {
    return this.chunks.filter((c) => c.startsWith('data: ')).map((c) => c.slice(6, -2));
  }
}

const request = { socket: { setTimeout: () => undefined } } as unknown as IncomingMessage;
const logger = winston.createLogger({ silent: true });
const settle = (ms = 120) => new Promise((r) => setTimeout(r, ms));

function source() {
  const state = { version: 1, stamp: 0, builds: 0 };
  const fanout = new SseFanout({
    name: 'test',
    logger,
    minIntervalMs: 50,
    heartbeatMs: 60_000,
    async build() {
      state.builds++;
      state.stamp++;
      return {
        data: JSON.stringify({ version: state.version, stamp: state.stamp }),
        fingerprint: String(state.version),
      };
    },
  });
  return { state, fanout };
}

describe('server-sent events to many pages from one source', () => {
  it('starts every stream with the whole picture and sends one build to all', async () => {
    const { state, fanout } = source();
    const a = new FakeResponse();
    const b = new FakeResponse();
    await fanout.open(request, a as unknown as ServerResponse);
    await fanout.open(request, b as unknown as ServerResponse);
    expect(a.chunks[0]).toBe('retry: 2000\n\n');
    expect(a.data()).toEqual(['{"version":1,"stamp":1}']);
    // The second stream, opened within the interval, gets the same picture without a new build.
    expect(b.data()).toEqual(['{"version":1,"stamp":1}']);
    expect(state.builds).toBe(1);
    state.version = 2;
    fanout.changed();
    await settle();
    expect(a.data().at(-1)).toBe(b.data().at(-1));
    expect(JSON.parse(a.data().at(-1)!)).toMatchObject({ version: 2 });
    fanout.closeAll();
    expect(a.ended && b.ended).toBe(true);
  });

  it('folds a burst of changes into few builds and never resends an unchanged picture', async () => {
    const { state, fanout } = source();
    const a = new FakeResponse();
    await fanout.open(request, a as unknown as ServerResponse);
    const before = state.builds;
    for (let i = 0; i < 200; i++) fanout.changed();
    await settle();
    expect(state.builds - before).toBe(1);
    // Rebuilt, but the fingerprint did not change: nothing new is written.
    expect(a.data()).toHaveLength(1);
    state.version = 3;
    for (let i = 0; i < 200; i++) fanout.changed();
    await settle();
    expect(a.data()).toHaveLength(2);
    fanout.closeAll();
  });

  it('skips a stream that reads slowly and gives it the latest picture when it drains', async () => {
    const { state, fanout } = source();
    const slow = new FakeResponse();
    await fanout.open(request, slow as unknown as ServerResponse);
    slow.slow = true;
    for (const version of [2, 3, 4]) {
      state.version = version;
      fanout.changed();
      await settle();
    }
    expect(slow.data()).toHaveLength(1);
    slow.slow = false;
    slow.emit('drain');
    expect(slow.data()).toHaveLength(2);
    expect(JSON.parse(slow.data()[1]!)).toMatchObject({ version: 4 });
    fanout.closeAll();
  });

  it('hears its source only while a page listens, and a change from it reaches every page', async () => {
    let version = 1;
    let notify: (() => void) | undefined;
    const subscriptions = { opened: 0, closed: 0 };
    const fanout = new SseFanout({
      name: 'test',
      logger,
      minIntervalMs: 10,
      heartbeatMs: 60_000,
      subscribe(changed) {
        subscriptions.opened++;
        notify = changed;
        return () => {
          subscriptions.closed++;
          notify = undefined;
        };
      },
      async build() {
        const data = JSON.stringify({ version });
        return { data, fingerprint: data };
      },
    });
    expect(subscriptions.opened).toBe(0);
    const a = new FakeResponse();
    const b = new FakeResponse();
    await fanout.open(request, a as unknown as ServerResponse);
    await fanout.open(request, b as unknown as ServerResponse);
    expect(subscriptions).toEqual({ opened: 1, closed: 0 });
    version = 2;
    notify!();
    await settle();
    expect(a.data().at(-1)).toBe('{"version":2}');
    expect(b.data().at(-1)).toBe('{"version":2}');
    a.emit('close');
    expect(subscriptions.closed).toBe(0);
    b.emit('close');
    expect(subscriptions).toEqual({ opened: 1, closed: 1 });
    // A page that comes back subscribes again.
    const c = new FakeResponse();
    await fanout.open(request, c as unknown as ServerResponse);
    expect(subscriptions.opened).toBe(2);
    fanout.closeAll();
    expect(subscriptions.closed).toBe(2);
  });

  it('logs a failed build under one event name, and the next change builds again', async () => {
    const lines: { message: unknown; stream?: unknown }[] = [];
    const recording = winston.createLogger({
      transports: [
        new (class extends winston.transports.Console {
          override log(info: { message: unknown; stream?: unknown }, next: () => void) {
            lines.push(info);
            next();
          }
        })(),
      ],
    });
    let fail = true;
    const fanout = new SseFanout({
      name: 'status window',
      logger: recording,
      minIntervalMs: 10,
      heartbeatMs: 60_000,
      async build() {
        if (fail) throw new Error('the outbox is locked');
        return { data: '{"ok":true}', fingerprint: 'ok' };
      },
    });
    const a = new FakeResponse();
    await fanout.open(request, a as unknown as ServerResponse);
    expect(a.data()).toEqual([]);
    expect(lines).toMatchObject([{ message: LIVE_UPDATE_FAILED, stream: 'status window' }]);
    fail = false;
    fanout.changed();
    await settle();
    expect(a.data()).toEqual(['{"ok":true}']);
    fanout.closeAll();
  });

  it('builds nothing while no page listens', async () => {
    const { state, fanout } = source();
    const a = new FakeResponse();
    await fanout.open(request, a as unknown as ServerResponse);
    a.emit('close');
    const before = state.builds;
    fanout.changed();
    await settle();
    expect(state.builds).toBe(before);
    expect(fanout.size).toBe(0);
  });
});
