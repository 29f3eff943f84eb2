import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema, type AgentConfigInput } from '../../src/contracts/agent-config.js';
import {
  ACTION_HEADER,
  WINDOW_CSP_HEADER,
  WINDOW_ROUTES,
  windowMessageSchema,
  windowSnapshotSchema,
  type WindowSnapshot,
} from '../../src/contracts/window-api.js';
import { ConfigError } from '../../src/lib/errors.js';
import { silentLogger } from '../../src/lib/logger.js';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTempDir } from '../support/temp-dir.js';
import { seedDeadLetters } from '../support/window-fixtures.js';

/**
 * The status window's routes on a real agent (in this process, outbox on disk, no broker): the page and
 * its policy headers, who may read, the live stream, and every guard on the two actions. The browser
 * tests (window-live, window-real-agent) show the same from Chromium; here each refusal is checked
 * one by one, with the request a browser would never send.
 */

const TILL = { id: 'T1', token: 'till-one-token-0123456789' };
const MANAGER = 'manager-credential-0123456789';

const running: RunningAgent[] = [];
afterEach(async () => {
  for (const agent of running.splice(0)) await agent.stop();
});

async function agentWith(window: AgentConfigInput['window'], dataDir = makeTempDir('window-http')) {
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'S042',
      dataDir,
      api: { host: '127.0.0.1', port: 0, terminals: [TILL] },
      window,
    }),
    { logger: silentLogger() },
  );
  running.push(agent);
  return agent;
}

/** A built window stand-in: an index page and one asset (the real build is tested in Chromium). */
function windowFiles(): string {
  const dir = makeTempDir('window-files');
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Outpost</title>');
  writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'secret.txt'), 'not served');
  return dir;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request, so a test can send what browsers would not (a foreign Host or Origin). */
function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const sell = (agent: RunningAgent, n: number) =>
  fetch(`${agent.url}/v1/transactions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TILL.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(numberedSale('T1', n)),
  }).then((r) => r.status);

/** What the agent's own page sends with an action. */
const fromOwnPage = (agent: RunningAgent, credential = MANAGER) => ({
  'content-type': 'application/json',
  origin: agent.url,
  'sec-fetch-site': 'same-origin',
  [ACTION_HEADER.name]: ACTION_HEADER.value,
  authorization: `Bearer ${credential}`,
});

describe('the page at /', () => {
  it('serves the built window with the strict policy, and nothing outside its folder', async () => {
    const agent = await agentWith({ filesDir: windowFiles() });
    const page = await request(`${agent.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(WINDOW_CSP_HEADER);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('<title>Outpost</title>');
    const script = await request(`${agent.url}/assets/index-abc123.js`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['content-security-policy']).toBe(WINDOW_CSP_HEADER);
    for (const probe of [
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/etc/passwd',
      '/assets/../secret.txt',
      '/secret.txt',
    ])
      expect((await request(`${agent.url}${probe}`)).status, probe).toBe(404);
  });

  it('answers 503 saying how to build the window when it is not built, never a blank page', async () => {
    const agent = await agentWith({ filesDir: path.join(makeTempDir('not-built'), 'renderer') });
    const page = await request(`${agent.url}/`);
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('The status window is not built');
    expect(page.body).toContain('npm run build');
    expect(page.body).not.toContain('<script');
    // The tills are not affected.
    expect(await sell(agent, 1)).toBe(201);
  });
});

describe('the manager credential (window.managerToken)', () => {
  it('must differ from every till token: a till could otherwise retry and discard what head office refused', async () => {
    await expect(agentWith({ managerToken: TILL.token })).rejects.toThrow(
      'window.managerToken: must differ from every terminal token (api.terminals)',
    );
  });
});

describe('reading the window', () => {
  it('is allowed from this PC, or with a token of this agent; a foreign host name is refused', async () => {
    const agent = await agentWith({ managerToken: MANAGER });
    const snapshotUrl = `${agent.url}${WINDOW_ROUTES.snapshot}`;
    const local = await request(snapshotUrl);
    expect(local.status).toBe(200);
    expect(local.headers['cache-control']).toBe('no-store');
    expect(windowSnapshotSchema.parse(JSON.parse(local.body)).status.storeId).toBe('S042');
    // A page of another site reaching the agent through DNS rebinding names its own host.
    const rebound = await request(snapshotUrl, { headers: { host: 'attacker.example:8787' } });
    expect(rebound.status).toBe(401);
    for (const token of [TILL.token, MANAGER]) {
      const withToken = await request(snapshotUrl, {
        headers: { host: 'store-server.lan:8787', authorization: `Bearer ${token}` },
      });
      expect(withToken.status).toBe(200);
    }
    const wrong = await request(snapshotUrl, {
      headers: { host: 'store-server.lan:8787', authorization: 'Bearer not-a-token-of-this-agent' },
    });
    expect(wrong.status).toBe(401);
    const stream = await request(`${agent.url}${WINDOW_ROUTES.events}`, {
      headers: { host: 'attacker.example:8787' },
    });
    expect(stream.status).toBe(401);
  });

  it('streams a full snapshot at once, then a fresh one when a till sells, without being asked', async () => {
    const agent = await agentWith({});
    const messages: WindowSnapshot[] = [];
    const controller = new AbortController();
    const response = await fetch(`${agent.url}${WINDOW_ROUTES.events}`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body!) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (!data) continue;
          const message = windowMessageSchema.parse(JSON.parse(data.slice('data: '.length)));
          if (message.type === 'snapshot') messages.push(message.snapshot);
        }
      }
    })().catch(() => {});
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 5_000;
      while (!check()) {
        if (Date.now() > deadline)
          throw new Error(`not seen in time; last: ${JSON.stringify(messages.at(-1))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => messages.length === 1);
    expect(messages[0]!.status.backlog.count).toBe(0);
    expect(await sell(agent, 1)).toBe(201);
    expect(await sell(agent, 2)).toBe(201);
    await until(() => messages.at(-1)?.status.backlog.count === 2);
    const last = messages.at(-1)!;
    expect(last.terminals).toEqual([
      { terminalId: 'T1', lastSaleAt: expect.any(String) as string, salesToday: 2 },
    ]);
    expect(last.history.points.at(-1)).toMatchObject({ backlog: 2, sales: 2 });
    // Stopping the agent ends the open stream rather than wait for the window to go away.
    await agent.stop();
    await reading;
    expect(controller.signal.aborted).toBe(false);
  });
});

/** What the agent's own page sends to open a session, opened on another computer as `host`. */
const signInFromPage = (agent: RunningAgent, host: string, credential: string | undefined) =>
  request(`${agent.url}${WINDOW_ROUTES.session}`, {
    method: 'POST',
    headers: {
      host,
      origin: `http://${host}`,
      'sec-fetch-site': 'same-origin',
      [ACTION_HEADER.name]: ACTION_HEADER.value,
      ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }),
    },
  });

/** The `name=value` of a Set-Cookie answer, as the browser sends it back. */
const cookieOf = (answer: Answer): string => {
  const set = answer.headers['set-cookie'];
  const first = Array.isArray(set) ? set[0] : set;
  if (!first) throw new Error(`no Set-Cookie in the answer (HTTP ${answer.status}: ${answer.body})`);
  return first.split(';')[0]!;
};

/** The first `data:` event of a stream (its whole snapshot), or the status when the stream is refused. */
function firstStreamEvent(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; data?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        const data = buffer.split('\n').find((line) => line.startsWith('data: '));
        if (data) {
          req.destroy();
          resolve({ status: 200, data: data.slice('data: '.length) });
        }
      });
    });
    req.on('error', reject);
  });
}

describe('a window opened on another computer', () => {
  const REMOTE_HOST = 'store-server.lan:8787';

  it('exchanges the manager credential once for a session cookie, and the snapshot and the stream work with it', async () => {
    const agent = await agentWith({ managerToken: MANAGER });
    const remote = { host: REMOTE_HOST };
    // Without a session: refused, stream included.
    expect((await request(`${agent.url}${WINDOW_ROUTES.snapshot}`, { headers: remote })).status).toBe(401);
    expect((await firstStreamEvent(`${agent.url}${WINDOW_ROUTES.events}`, remote)).status).toBe(401);

    const signedIn = await signInFromPage(agent, REMOTE_HOST, MANAGER);
    expect(signedIn.status).toBe(200);
    const expiresAt = Date.parse((JSON.parse(signedIn.body) as { expiresAt: string }).expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(11 * 3600_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(12 * 3600_000);
    const set = String(signedIn.headers['set-cookie']);
    expect(set).toMatch(
      /^outpost_window=v1\.[^;]+; Path=\/v1\/window; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    expect(set).not.toMatch(/Domain=/i);
    expect(signedIn.headers['cache-control']).toBe('no-store');
    expect(signedIn.body).not.toContain(MANAGER);

    const withSession = { ...remote, cookie: `other=1; ${cookieOf(signedIn)}` };
    const snapshot = await request(`${agent.url}${WINDOW_ROUTES.snapshot}`, { headers: withSession });
    expect(snapshot.status).toBe(200);
    expect(windowSnapshotSchema.parse(JSON.parse(snapshot.body)).status.storeId).toBe('S042');
    const streamed = await firstStreamEvent(`${agent.url}${WINDOW_ROUTES.events}`, withSession);
    expect(streamed.status).toBe(200);
    expect(windowMessageSchema.parse(JSON.parse(streamed.data!)).type).toBe('snapshot');

    // The session reads; it never acts: an action still needs the credential itself.
    const [eventId] = ['01JDEADLETTER0000000000001'];
    const action = await request(`${agent.url}${WINDOW_ROUTES.retry(eventId!)}`, {
      method: 'POST',
      headers: {
        ...withSession,
        origin: `http://${REMOTE_HOST}`,
        'content-type': 'application/json',
        [ACTION_HEADER.name]: ACTION_HEADER.value,
      },
      body: '{}',
    });
    expect(action.status).toBe(401);

    // An altered or foreign session is nothing.
    const value = cookieOf(signedIn).split('=')[1]!;
    for (const forged of [
      value.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
      value.replace(/^v1\.[0-9a-z]+/, `v1.${(Date.now() + 86_400_000 * 30).toString(36)}`),
      'v1.zzzzzzzz.000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    ])
      expect(
        (
          await request(`${agent.url}${WINDOW_ROUTES.snapshot}`, {
            headers: { ...remote, cookie: `outpost_window=${forged}` },
          })
        ).status,
        forged,
      ).toBe(401);
  });

  it('opens no session without the right credential, from another site, or with none configured', async () => {
    const agent = await agentWith({ managerToken: MANAGER });
    const url = `${agent.url}${WINDOW_ROUTES.session}`;
    const own = {
      host: REMOTE_HOST,
      origin: `http://${REMOTE_HOST}`,
      'sec-fetch-site': 'same-origin',
      [ACTION_HEADER.name]: ACTION_HEADER.value,
      authorization: `Bearer ${MANAGER}`,
    };
    const without = (name: string) => Object.fromEntries(Object.entries(own).filter(([k]) => k !== name));
    const cases: [string, Record<string, string>, number][] = [
      ['no credential', without('authorization'), 401],
      ['a wrong credential', { ...own, authorization: 'Bearer manager-credential-WRONG' }, 401],
      // A till's token reads with its header, but opens no browser session.
      ['a till token', { ...own, authorization: `Bearer ${TILL.token}` }, 401],
      ['another origin', { ...own, origin: 'https://attacker.example' }, 403],
      ['a cross-site request', { ...own, 'sec-fetch-site': 'cross-site' }, 403],
      ['no action header (a plain form)', without(ACTION_HEADER.name), 403],
    ];
    for (const [what, headers, status] of cases) {
      const answer = await request(url, { method: 'POST', headers });
      expect(answer.status, what).toBe(status);
      expect(answer.headers['set-cookie'], what).toBeUndefined();
    }
    const unset = await agentWith({});
    const refused = await signInFromPage(unset, REMOTE_HOST, MANAGER);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error).toMatch(
      /no manager credential is configured.*"window": \{"managerToken"/,
    );
  });

  it('ends every session when the manager credential changes', async () => {
    const dataDir = makeTempDir('window-http-rotate');
    const first = await agentWith({ managerToken: MANAGER }, dataDir);
    const cookie = cookieOf(await signInFromPage(first, REMOTE_HOST, MANAGER));
    const read = (agent: RunningAgent) =>
      request(`${agent.url}${WINDOW_ROUTES.snapshot}`, { headers: { host: REMOTE_HOST, cookie } });
    expect((await read(first)).status).toBe(200);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // Restarted with the same credential, the session still reads (nothing is kept server-side)...
    const same = await agentWith({ managerToken: MANAGER }, dataDir);
    expect((await read(same)).status).toBe(200);
    await same.stop();
    running.splice(running.indexOf(same), 1);
    // ...with a new one, it is over.
    const rotated = await agentWith({ managerToken: `${MANAGER}-rotated` }, dataDir);
    expect((await read(rotated)).status).toBe(401);
  });

  it('takes a credential from no URL, on any route', async () => {
    const agent = await agentWith({ managerToken: MANAGER });
    const remote = { host: REMOTE_HOST };
    const queries = [
      `access_token=${MANAGER}`,
      `access_token=${TILL.token}`,
      `token=${MANAGER}`,
      `authorization=${encodeURIComponent(`Bearer ${MANAGER}`)}`,
      `credential=${MANAGER}`,
    ];
    // (GET /v1/status answers any loopback connection whatever its Host, so it cannot be asked from here.)
    for (const route of [WINDOW_ROUTES.snapshot, WINDOW_ROUTES.events, '/v1/promotions/active'])
      for (const query of queries)
        expect(
          (await request(`${agent.url}${route}?${query}`, { headers: remote })).status,
          `${route}?${query}`,
        ).toBe(401);
    // Nor does a session open, or an action run, on a credential in the URL.
    const ownPage = {
      host: REMOTE_HOST,
      origin: `http://${REMOTE_HOST}`,
      [ACTION_HEADER.name]: ACTION_HEADER.value,
    };
    for (const query of queries) {
      const session = await request(`${agent.url}${WINDOW_ROUTES.session}?${query}`, {
        method: 'POST',
        headers: ownPage,
      });
      expect(session.status, query).toBe(401);
      expect(session.headers['set-cookie']).toBeUndefined();
      const action = await request(
        `${agent.url}${WINDOW_ROUTES.retry('01JDEADLETTER0000000000001')}?${query}`,
        {
          method: 'POST',
          headers: { ...ownPage, 'content-type': 'application/json' },
          body: '{}',
        },
      );
      expect(action.status, query).toBe(401);
    }
  });
});

describe('acting on a dead letter from the window', () => {
  const refused = (n: number) => ({
    body: numberedSale('T1', n),
    reason: 'invalid transaction: unknown SKU at head office',
  });

  it('is refused with 403 saying how to set a manager credential when none is configured', async () => {
    const dataDir = makeTempDir('window-http-unset');
    const [eventId] = await seedDeadLetters(dataDir, 'S042', [refused(1)]);
    const agent = await agentWith({}, dataDir);
    const answer = await request(`${agent.url}${WINDOW_ROUTES.retry(eventId!)}`, {
      method: 'POST',
      headers: fromOwnPage(agent, 'anything-at-all-0123'),
      body: '{}',
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body).error).toMatch(
      /no manager credential is configured.*"window": \{"managerToken"/,
    );
    expect((await agent.windowSnapshot()).status.deadLetters.items[0]!.state).toBe('dead');
  });

  it('is refused across sites, without the action header, and without the right credential', async () => {
    const dataDir = makeTempDir('window-http-guards');
    const [eventId] = await seedDeadLetters(dataDir, 'S042', [refused(1)]);
    const agent = await agentWith({ managerToken: MANAGER }, dataDir);
    const url = `${agent.url}${WINDOW_ROUTES.retry(eventId!)}`;
    const post = (headers: Record<string, string>) => request(url, { method: 'POST', headers, body: '{}' });
    const own = fromOwnPage(agent);
    const without = (name: string) => Object.fromEntries(Object.entries(own).filter(([k]) => k !== name));

    const cases: [string, Record<string, string>, number][] = [
      ['another origin', { ...own, origin: 'https://attacker.example' }, 403],
      ['a cross-site fetch', { ...own, 'sec-fetch-site': 'cross-site' }, 403],
      ['no Origin', without('origin'), 403],
      ['no action header (a plain form)', without(ACTION_HEADER.name), 403],
      ['no credential', without('authorization'), 401],
      ['a wrong credential', { ...own, authorization: 'Bearer manager-credential-WRONG' }, 401],
      ['a till token', { ...own, authorization: `Bearer ${TILL.token}` }, 401],
    ];
    for (const [what, headers, status] of cases) expect((await post(headers)).status, what).toBe(status);
    expect((await agent.windowSnapshot()).status.deadLetters.items.map((d) => d.state)).toEqual(['dead']);

    const done = await post(own);
    expect(done.status).toBe(200);
    expect(JSON.parse(done.body)).toEqual({ eventId, state: 'retried' });
    const after = await agent.windowSnapshot();
    expect(after.status.deadLetters.count).toBe(0);
    expect(after.status.backlog.count).toBe(1); // back in the queue to head office
    expect((await post(own)).status).toBe(404); // no longer a dead letter
  });

  it('discards with a note, kept on record; without a note it changes nothing', async () => {
    const dataDir = makeTempDir('window-http-discard');
    const [eventId] = await seedDeadLetters(dataDir, 'S042', [refused(1)]);
    const agent = await agentWith({ managerToken: MANAGER }, dataDir);
    const url = `${agent.url}${WINDOW_ROUTES.discard(eventId!)}`;
    const noNote = await request(url, {
      method: 'POST',
      headers: fromOwnPage(agent),
      body: JSON.stringify({ note: ' ' }),
    });
    expect(noNote.status).toBe(400);
    expect(JSON.parse(noNote.body).issues).toEqual([
      { path: ['note'], message: 'say in a few words why this sale is discarded' },
    ]);
    const done = await request(url, {
      method: 'POST',
      headers: fromOwnPage(agent),
      body: JSON.stringify({ note: 'keyed again on till 2 as T2-000418' }),
    });
    expect(done.status).toBe(200);
    const [letter] = (await agent.windowSnapshot()).status.deadLetters.items;
    expect(letter).toMatchObject({ eventId, state: 'discarded' });
    expect(letter!.reason).toContain('keyed again on till 2 as T2-000418');
  });

  it('refuses to start with a manager credential that is also a till token', async () => {
    await expect(agentWith({ managerToken: TILL.token })).rejects.toThrow(ConfigError);
  });
});
