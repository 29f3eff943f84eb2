import { describe, expect, it } from 'vitest';
import { ACTION_HEADER, CONSOLE_ROUTES, type ConsoleSnapshot } from '../../src/contracts/console-api.js';
import { createConsoleClient, SignedOutError } from '../../src/console/api/console-client.js';
import { openEventStream, type EventSourceLike } from '../../src/ui/event-stream.js';

const HUB = 'http://hub.example:8788';

const SNAPSHOT: ConsoleSnapshot = {
  hubId: 'hub-1',
  now: '2026-11-23T10:00:00.000Z',
  dayWindow: { from: '2026-11-16', to: '2026-11-22' },
  stores: [],
  counts: { stores: 0, online: 0, needAttention: 0 },
};

const COMMAND = {
  requestId: 'r1',
  storeId: 'S1',
  kind: 'retry-dead-letter',
  state: 'pending',
  eventId: 'EV-0000000001',
  epoch: 'aaaaaaaaaaaaaaaa',
  fromSeq: null,
  note: null,
  requestedBy: 'operator via hub-1',
  requestedAt: '2026-11-23T10:00:00.000Z',
  lastSentAt: null,
  sends: 0,
  answeredAt: null,
  answer: null,
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function recordingFetch(answer: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {} };
    calls.push(call);
    return answer(call.url, call.init);
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

const headersOf = (init: RequestInit) => init.headers as Record<string, string>;

describe("the console's client of the hub", () => {
  it('signs in with the token in a header, never in the URL, and keeps nothing of it', async () => {
    const { fetch, calls } = recordingFetch(() => json(200, { expiresAt: '2026-11-23T22:00:00.000Z' }));
    const client = createConsoleClient({ baseUrl: HUB, fetch });
    expect(await client.signIn('  operator-token-0123456789 ')).toEqual({
      ok: true,
      expiresAt: '2026-11-23T22:00:00.000Z',
    });
    const [call] = calls;
    expect(call!.url).toBe(`${HUB}${CONSOLE_ROUTES.session}`);
    expect(call!.url).not.toContain('operator-token');
    expect(call!.init.method).toBe('POST');
    expect(call!.init.credentials).toBe('same-origin');
    expect(headersOf(call!.init)).toMatchObject({
      Authorization: 'Bearer operator-token-0123456789',
      [ACTION_HEADER.name]: ACTION_HEADER.value,
    });
  });

  it('says a wrong token is wrong, and refuses a token no header can carry without sending it', async () => {
    const { fetch, calls } = recordingFetch(() => json(401, { error: 'the operator token is not right' }));
    const client = createConsoleClient({ baseUrl: HUB, fetch });
    expect(await client.signIn('wrong-token-0123456789')).toEqual({
      ok: false,
      refusal: 'token-refused',
      message: 'the operator token is not right',
    });
    expect(await client.signIn('two words')).toMatchObject({ ok: false, refusal: 'token-refused' });
    expect(calls).toHaveLength(1);
  });

  it('reads with the session cookie only, and turns a 401 into "signed out"', async () => {
    let status = 200;
    const { fetch, calls } = recordingFetch(() =>
      status === 200 ? json(200, SNAPSHOT) : json(status, { error: 'no' }),
    );
    const client = createConsoleClient({ baseUrl: HUB, fetch });
    expect(await client.snapshot()).toEqual(SNAPSHOT);
    expect(calls[0]!.init.credentials).toBe('same-origin');
    expect(headersOf(calls[0]!.init).Authorization).toBeUndefined();
    status = 401;
    await expect(client.snapshot()).rejects.toBeInstanceOf(SignedOutError);
    status = 503;
    await expect(client.snapshot()).rejects.toThrow('no');
  });

  it('sends actions with the anti-forgery header, and says why one was refused', async () => {
    const answers = [
      json(202, { command: COMMAND }),
      json(403, { error: 'refused: Origin http://evil' }),
      json(409, { error: 'already pending' }),
      json(401, { error: 'missing' }),
    ];
    const { fetch, calls } = recordingFetch(() => answers.shift()!);
    const client = createConsoleClient({ baseUrl: HUB, fetch });
    expect(await client.retry('S1', 'EV-0000000001', 'limit raised')).toEqual({ ok: true, command: COMMAND });
    expect(calls[0]!.url).toBe(`${HUB}/v1/console/stores/S1/dead-letters/EV-0000000001/retry`);
    expect(headersOf(calls[0]!.init)[ACTION_HEADER.name]).toBe(ACTION_HEADER.value);
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ note: 'limit raised' });
    expect(await client.discard('S1', 'EV-0000000001', 'duplicate')).toMatchObject({
      ok: false,
      refusal: 'forbidden',
    });
    expect(await client.resync('S1', { fromSeq: 3, note: 'gap' })).toMatchObject({
      ok: false,
      refusal: 'conflict',
    });
    expect(await client.retry('S1', 'EV-0000000001')).toMatchObject({ ok: false, refusal: 'signed-out' });
    expect(JSON.parse(String(calls[3]!.init.body))).toEqual({});
  });

  it('answers "unreachable" when the hub cannot be reached', async () => {
    const client = createConsoleClient({
      baseUrl: HUB,
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    expect(await client.discard('S1', 'EV-0000000001', 'gone')).toEqual({
      ok: false,
      refusal: 'unreachable',
      message: 'Failed to fetch',
    });
  });
});

type FakeSource = EventSourceLike & { url: string; closed: boolean; readyState: number };

function fakeSources() {
  const sources: FakeSource[] = [];
  const timers: { run: () => void; ms: number }[] = [];
  return {
    sources,
    timers,
    createEventSource: (url: string) => {
      const source: FakeSource = {
        url,
        closed: false,
        readyState: 0,
        onopen: null,
        onmessage: null,
        onerror: null,
        close: () => (source.closed = true),
      };
      sources.push(source);
      return source;
    },
    setTimer: (run: () => void, ms: number) => timers.push({ run, ms }),
    clearTimer: () => undefined,
  };
}

describe('the shared live stream', () => {
  it('passes valid messages on, ignores the rest, and reports the link', () => {
    const fake = fakeSources();
    const messages: unknown[] = [];
    const links: string[] = [];
    const close = openEventStream({
      url: `${HUB}/v1/console/events`,
      parse: (data) => ((data as { type?: unknown }).type === 'snapshot' ? data : undefined),
      onMessage: (m) => messages.push(m),
      onLink: (s) => links.push(s),
      ...fake,
    });
    const [source] = fake.sources;
    source!.onopen?.(new Event('open'));
    source!.onmessage?.(new MessageEvent('message', { data: '{"type":"snapshot","n":1}' }));
    source!.onmessage?.(new MessageEvent('message', { data: 'not json' }));
    source!.onmessage?.(new MessageEvent('message', { data: '{"type":"other"}' }));
    source!.readyState = 0; // the browser reconnects this one by itself
    source!.onerror?.(new Event('error'));
    expect(messages).toEqual([{ type: 'snapshot', n: 1 }]);
    expect(links).toEqual(['open', 'lost']);
    expect(fake.timers).toEqual([]);
    close();
    expect(source!.closed).toBe(true);
  });

  it('opens a new stream after the server refused one (which the browser gives up on), waiting longer each time', () => {
    const fake = fakeSources();
    const close = openEventStream({ url: `${HUB}/e`, parse: (d) => d, onMessage: () => undefined, ...fake });
    for (let i = 0; i < 7; i++) {
      const source = fake.sources.at(-1)!;
      source.readyState = 2; // CLOSED: a 401 or 503 answer
      source.onerror?.(new Event('error'));
      expect(source.closed).toBe(true);
      fake.timers.shift()!.run();
    }
    expect(fake.sources).toHaveLength(8);
    // 1 s, doubling, at most 30 s; an open stream starts again from 1 s.
    const pauses: number[] = [];
    const again = fakeSources();
    openEventStream({ url: `${HUB}/e`, parse: (d) => d, onMessage: () => undefined, ...again });
    for (let i = 0; i < 7; i++) {
      const source = again.sources.at(-1)!;
      if (i === 3) source.onopen?.(new Event('open'));
      source.readyState = 2;
      source.onerror?.(new Event('error'));
      const timer = again.timers.shift()!;
      pauses.push(timer.ms);
      timer.run();
    }
    expect(pauses).toEqual([1000, 2000, 4000, 1000, 2000, 4000, 8000]);
    close();
  });

  it('never reconnects once closed', () => {
    const fake = fakeSources();
    const close = openEventStream({ url: `${HUB}/e`, parse: (d) => d, onMessage: () => undefined, ...fake });
    const source = fake.sources[0]!;
    source.readyState = 2;
    source.onerror?.(new Event('error'));
    close();
    fake.timers.shift()!.run();
    expect(fake.sources).toHaveLength(1);
  });
});
