import { describe, expect, it, vi } from 'vitest';
import {
  ACTION_HEADER,
  WINDOW_ROUTES,
  WindowReadRefusedError,
  type WindowBridge,
  type WindowLinkState,
  type WindowMessage,
  type WindowSnapshot,
} from '../../src/contracts/window-api.js';
import { createBridgeWindowApi } from '../../src/renderer/api/bridge-window-api.js';
import { createHttpWindowApi, type EventSourceLike } from '../../src/renderer/api/http-window-api.js';

const SNAPSHOT: WindowSnapshot = {
  status: {
    storeId: 'S1',
    version: '0.1.0',
    now: '2026-11-23T10:00:00.000Z',
    epoch: 'e',
    capture: { state: 'ok' },
    connection: { state: 'online', since: null, lastError: null, everConnected: true },
    logging: { state: 'ok', dir: null, since: null, error: null, droppedLines: 0 },
    backlog: { count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] },
    lastSeq: 1,
    lastAck: null,
    deadLetters: { count: 0, items: [] },
    promotions: { active: 0 },
    problems: [],
  },
  history: { bucketSeconds: 60, points: [] },
  terminals: [],
  notices: [],
  promotions: { inForce: [], next: null },
  app: { version: '0.1.0', update: { state: 'not-applicable' } },
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function http(answer: (url: string, init: RequestInit | undefined) => Response | Promise<Response>) {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const sources: (EventSourceLike & { url: string; closed: boolean })[] = [];
  const api = createHttpWindowApi({
    baseUrl: 'http://127.0.0.1:8787',
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(input), init });
      return answer(String(input), init);
    }) as typeof fetch,
    createEventSource: (url) => {
      const source = {
        url,
        closed: false,
        onopen: null,
        onmessage: null,
        onerror: null,
        close: () => (source.closed = true),
      };
      sources.push(source);
      return source;
    },
  });
  return { api, calls, sources };
}

describe('the window API over HTTP and server-sent events', () => {
  it('reads the snapshot from the agent and validates it', async () => {
    const { api, calls } = http(() => json(200, SNAPSHOT));
    await expect(api.snapshot()).resolves.toEqual(SNAPSHOT);
    expect(calls[0]!.url).toBe(`http://127.0.0.1:8787${WINDOW_ROUTES.snapshot}`);
    const broken = http(() => json(200, { status: 'fine' }));
    await expect(broken.api.snapshot()).rejects.toThrow();
    const down = http(() => json(503, { error: 'starting' }));
    await expect(down.api.snapshot()).rejects.toThrow(/503/);
  });

  it('opens a read session with the credential in a header once, then reads and streams without it in any URL', async () => {
    let session = false;
    const { api, calls, sources } = http((url, init) => {
      const headers = (init?.headers ?? {}) as Record<string, string>;
      if (url.endsWith(WINDOW_ROUTES.session)) {
        if (headers.Authorization !== 'Bearer manager-credential-0123')
          return json(401, { error: 'the manager credential is not right' });
        session = true; // the agent's Set-Cookie, which the browser keeps and the page never sees
        return json(200, { expiresAt: '2026-11-23T22:00:00.000Z' });
      }
      return session
        ? json(200, SNAPSHOT)
        : json(401, { error: 'the status window is readable from this PC, or with a session' });
    });
    await expect(api.snapshot()).rejects.toBeInstanceOf(WindowReadRefusedError);
    await expect(api.openReadSession!('wrong-credential-0123')).resolves.toMatchObject({
      ok: false,
      refusal: 'credential-refused',
    });
    await expect(api.openReadSession!('  manager-credential-0123 ')).resolves.toEqual({
      ok: true,
      expiresAt: '2026-11-23T22:00:00.000Z',
    });
    await expect(api.snapshot()).resolves.toEqual(SNAPSHOT);
    api.subscribe(() => {});
    expect(sources[0]!.url).toBe(`http://127.0.0.1:8787${WINDOW_ROUTES.events}`);

    const opening = calls.filter((c) => c.url.endsWith(WINDOW_ROUTES.session));
    expect(opening).toHaveLength(2);
    for (const { init } of opening) {
      expect(init?.method).toBe('POST');
      expect(init?.credentials).toBe('same-origin');
      expect((init?.headers as Record<string, string>)[ACTION_HEADER.name]).toBe('1');
      expect(init?.body).toBeUndefined();
    }
    // The credential is never sent again: reads carry the session, and no URL carries anything.
    for (const { url, init } of calls.filter((c) => !c.url.endsWith(WINDOW_ROUTES.session))) {
      expect((init?.headers as Record<string, string>).Authorization).toBeUndefined();
      expect(init?.credentials).toBe('same-origin');
      expect(new URL(url).search).toBe('');
    }
    for (const { url } of sources) expect(new URL(url).search).toBe('');
  });

  it('says why a session was not opened', async () => {
    const cases: [number, string][] = [
      [403, 'forbidden'],
      [401, 'credential-refused'],
      [503, 'unavailable'],
    ];
    for (const [status, refusal] of cases) {
      const { api } = http(() => json(status, { error: `agent says ${status}` }));
      await expect(api.openReadSession!('manager-credential-0123')).resolves.toEqual({
        ok: false,
        refusal,
        message: `agent says ${status}`,
      });
    }
  });

  it('sends actions with the manager credential and a header a cross-site form cannot send', async () => {
    const { api, calls } = http(() => json(200, { eventId: '01JE', state: 'retried' }));
    expect(api.actionsNeedCredential).toBe(true);
    await expect(api.retryDeadLetter('01JE', 'manager-credential-0123')).resolves.toEqual({
      ok: true,
      result: { eventId: '01JE', state: 'retried' },
    });
    await api.discardDeadLetter('01JE', 'rung twice by mistake', 'manager-credential-0123');
    expect(calls.map((c) => c.url)).toEqual([
      `http://127.0.0.1:8787${WINDOW_ROUTES.retry('01JE')}`,
      `http://127.0.0.1:8787${WINDOW_ROUTES.discard('01JE')}`,
    ]);
    for (const { init } of calls) {
      expect(init?.method).toBe('POST');
      const headers = init?.headers as Record<string, string>;
      expect(headers[ACTION_HEADER.name]).toBe('1');
      expect(headers['Content-Type']).toBe('application/json');
      expect(headers.Authorization).toBe('Bearer manager-credential-0123');
    }
    expect(JSON.parse(String(calls[1]!.init?.body))).toEqual({ note: 'rung twice by mistake' });
  });

  it('puts refusals into the window’s terms', async () => {
    const refusals: [number, string | undefined, string][] = [
      [401, undefined, 'credential-required'],
      [401, 'wrong-credential-00', 'credential-refused'],
      [403, 'c', 'forbidden'],
      [404, 'c', 'not-found'],
      [409, 'c', 'not-dead'],
      [400, 'c', 'invalid'],
      [503, 'c', 'unavailable'],
      [500, 'c', 'unavailable'],
    ];
    for (const [status, credential, refusal] of refusals) {
      const { api, calls } = http(() => json(status, { error: `agent says ${status}` }));
      await expect(api.retryDeadLetter('01JE', credential)).resolves.toEqual({
        ok: false,
        refusal,
        message: `agent says ${status}`,
      });
      expect((calls[0]!.init?.headers as Record<string, string>).Authorization).toBe(
        credential ? `Bearer ${credential}` : undefined,
      );
    }
    const unreachable = http(() => Promise.reject(new TypeError('Failed to fetch')));
    await expect(unreachable.api.retryDeadLetter('01JE', 'c')).resolves.toEqual({
      ok: false,
      refusal: 'unreachable',
      message: 'Failed to fetch',
    });
    const spaced = http(() => json(200, {}));
    await expect(spaced.api.retryDeadLetter('01JE', 'two words')).resolves.toMatchObject({
      refusal: 'credential-refused',
    });
    expect(spaced.calls).toHaveLength(0);
  });

  it('follows the live stream: valid messages through, garbage ignored, link state reported, closed on unsubscribe', () => {
    const { api, sources } = http(() => json(200, {}));
    const messages: WindowMessage[] = [];
    const links: WindowLinkState[] = [];
    const unsubscribe = api.subscribe(
      (m) => messages.push(m),
      (s) => links.push(s),
    );
    const source = sources[0]!;
    expect(source.url).toBe(`http://127.0.0.1:8787${WINDOW_ROUTES.events}`);
    source.onopen?.(new Event('open'));
    const deliver = (data: string) => source.onmessage?.(new MessageEvent('message', { data }));
    deliver(JSON.stringify({ type: 'snapshot', snapshot: SNAPSHOT }));
    deliver('not json');
    deliver(JSON.stringify({ type: 'snapshot', snapshot: { status: 'ok' } }));
    deliver(JSON.stringify({ type: 'update', update: { state: 'checking', channel: 'pilot' } }));
    source.onerror?.(new Event('error'));
    expect(messages.map((m) => m.type)).toEqual(['snapshot', 'update']);
    expect(links).toEqual(['open', 'lost']);
    unsubscribe();
    expect(source.closed).toBe(true);
  });
});

describe('the window API over the desktop app’s preload bridge', () => {
  function bridge(answers: Partial<Record<keyof WindowBridge, unknown>> = {}) {
    let push: (message: unknown) => void = () => {};
    let link: (state: WindowLinkState) => void = () => {};
    const raw: WindowBridge = {
      snapshot: vi.fn(async () => answers.snapshot ?? SNAPSHOT),
      subscribe: vi.fn((onMessage, onLink) => {
        push = onMessage;
        link = onLink;
        return () => {};
      }),
      retryDeadLetter: vi.fn(async () => answers.retryDeadLetter),
      discardDeadLetter: vi.fn(async () => answers.discardDeadLetter),
    };
    return {
      api: createBridgeWindowApi(raw),
      raw,
      push: (m: unknown) => push(m),
      link: (s: WindowLinkState) => link(s),
    };
  }

  it('validates everything that crosses from the main process', async () => {
    const { api, push, link } = bridge({
      retryDeadLetter: { ok: true, result: { eventId: 'E', state: 'retried' } },
      discardDeadLetter: { ok: 'yes' },
    });
    expect(api.actionsNeedCredential).toBe(false);
    await expect(api.snapshot()).resolves.toEqual(SNAPSHOT);
    await expect(api.retryDeadLetter('E')).resolves.toEqual({
      ok: true,
      result: { eventId: 'E', state: 'retried' },
    });
    await expect(api.discardDeadLetter('E', 'note')).resolves.toMatchObject({
      ok: false,
      refusal: 'unavailable',
    });
    const messages: WindowMessage[] = [];
    const links: WindowLinkState[] = [];
    api.subscribe(
      (m) => messages.push(m),
      (s) => links.push(s),
    );
    push({ type: 'snapshot', snapshot: SNAPSHOT });
    push({ type: 'snapshot' });
    link('lost');
    expect(messages).toHaveLength(1);
    expect(links).toEqual(['lost']);
    await expect(bridge({ snapshot: { not: 'a snapshot' } }).api.snapshot()).rejects.toThrow();
  });

  it('turns a failed IPC call into an unreachable outcome', async () => {
    const { api, raw } = bridge();
    vi.mocked(raw.retryDeadLetter).mockRejectedValueOnce(new Error('retry refused: unknown sender'));
    await expect(api.retryDeadLetter('E')).resolves.toEqual({
      ok: false,
      refusal: 'unreachable',
      message: 'retry refused: unknown sender',
    });
  });
});
