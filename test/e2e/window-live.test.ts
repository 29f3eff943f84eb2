import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentStatus, DeadLetter } from '../../src/contracts/status.js';
import {
  ACTION_HEADER,
  WINDOW_CSP_HEADER,
  WINDOW_ROUTES,
  windowSnapshotSchema,
  type WindowMessage,
  type WindowSnapshot,
} from '../../src/contracts/window-api.js';
import { buildWindowPage, launchChromium, openWatchedPage } from '../support/browser.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The status window in Chromium, against a fake agent: the built page served over HTTP with the strict
 * policy header, a snapshot route and a server-sent-event stream the test pushes into. Screenshots of each
 * state land in the test's temp dir.
 */

const NOW = '2026-11-23T09:50:00.000Z'; // 10:50 in Paris, the browser's time zone here
const MANAGER_CREDENTIAL = 'manager-credential-0123456789';

/**
 * Two hours of minutes ending at `now`: a short outage an hour ago that drained by itself, and, when
 * `offlineMinutes` is set, sales piling up again over the last minutes.
 */
function activity(offlineMinutes: number, end = NOW) {
  return {
    bucketSeconds: 60,
    points: Array.from({ length: 120 }, (_, i) => {
      const sales = 3 + ((i * 7) % 5);
      const earlier = i >= 40 && i < 70 ? Math.min(i - 40, 70 - i) * 12 : 0;
      const piling = i >= 120 - offlineMinutes ? (i - (120 - offlineMinutes) + 1) * 24 : 0;
      return {
        at: new Date(Date.parse(end) - (120 - i) * 60_000).toISOString(),
        backlog: earlier + piling,
        sales,
      };
    }),
  };
}

function snapshot(status: Partial<AgentStatus> = {}, extra: Partial<WindowSnapshot> = {}): WindowSnapshot {
  const base: AgentStatus = {
    storeId: 'S042',
    version: '0.1.0',
    now: NOW,
    epoch: 'ep-1',
    capture: { state: 'ok' },
    connection: { state: 'online', since: '2026-11-23T07:00:00.000Z', lastError: null, everConnected: true },
    logging: { state: 'ok', dir: '/var/lib/outpost/logs', since: null, error: null, droppedLines: 0 },
    backlog: { count: 0, oldestCapturedAt: null, oldestAgeSeconds: null, atRisk: [] },
    lastSeq: 1200,
    lastAck: { seq: 1200, at: '2026-11-23T09:49:58.000Z' },
    deadLetters: { count: 0, items: [] },
    promotions: { active: 0 },
    problems: [],
  };
  return windowSnapshotSchema.parse({
    status: { ...base, ...status },
    history: activity(0),
    terminals: [
      { terminalId: 'T1', lastSaleAt: '2026-11-23T09:49:00.000Z', salesToday: 212 },
      { terminalId: 'T2', lastSaleAt: '2026-11-23T09:02:00.000Z', salesToday: 75 },
      { terminalId: 'T3', lastSaleAt: '2026-11-23T09:48:30.000Z', salesToday: 190 },
    ],
    notices: [],
    promotions: { inForce: [], next: null },
    app: { version: '0.1.0', update: { state: 'not-applicable' } },
    ...extra,
  });
}

const deadLetter: DeadLetter = {
  epoch: 'ep-1',
  seq: 1187,
  eventId: '01JDEADLETTER0000000000001',
  terminalId: 'T2',
  transactionId: 'T2-000417',
  reason: 'unknown SKU 40012345 at head office',
  state: 'dead',
  capturedAt: '2026-11-23T09:31:00.000Z',
};

interface RecordedAction {
  path: string;
  origin: string | undefined;
  actionHeader: string | undefined;
  authorization: string | undefined;
  body: string;
}

/** A stand-in for the agent's window routes: static files, one snapshot, an SSE stream, the two actions. */
class FakeAgent {
  current: WindowSnapshot;
  readonly actions: RecordedAction[] = [];
  readonly pageLoads: string[] = [];
  private readonly streams = new Set<http.ServerResponse>();
  private readonly server: http.Server;
  url = '';

  constructor(
    private readonly root: string,
    first: WindowSnapshot,
  ) {
    this.current = first;
    this.server = http.createServer((request, response) => void this.handle(request, response));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  push(message: WindowMessage): void {
    if (message.type === 'snapshot') this.current = message.snapshot;
    for (const stream of this.streams) stream.write(`data: ${JSON.stringify(message)}\n\n`);
  }

  async stop(): Promise<void> {
    for (const stream of this.streams) stream.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url);
    if (request.method === 'GET' && url.pathname === WINDOW_ROUTES.snapshot) {
      response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      response.end(JSON.stringify(this.current));
      return;
    }
    if (request.method === 'GET' && url.pathname === WINDOW_ROUTES.events) {
      response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
      response.write(
        `retry: 1000\ndata: ${JSON.stringify({ type: 'snapshot', snapshot: this.current })}\n\n`,
      );
      this.streams.add(response);
      request.on('close', () => this.streams.delete(response));
      return;
    }
    if (request.method === 'POST' && url.pathname.startsWith('/v1/window/dead-letters/')) {
      let body = '';
      for await (const part of request) body += String(part);
      this.actions.push({
        path: url.pathname,
        origin: request.headers.origin,
        actionHeader: request.headers[ACTION_HEADER.name.toLowerCase()] as string | undefined,
        authorization: request.headers.authorization,
        body,
      });
      const answer = (status: number, payload: object) => {
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(payload));
      };
      if (!request.headers.authorization) return answer(401, { error: 'the manager credential is required' });
      if (request.headers.authorization !== `Bearer ${MANAGER_CREDENTIAL}`)
        return answer(401, { error: 'wrong manager credential' });
      answer(200, { eventId: deadLetter.eventId, state: 'retried' });
      this.push({
        type: 'snapshot',
        snapshot: snapshot({ now: '2026-11-23T09:50:05.000Z', deadLetters: { count: 0, items: [] } }),
      });
      return;
    }
    if (request.method === 'GET') return this.serveFile(url.pathname, response);
    response.writeHead(405).end();
  }

  private serveFile(pathname: string, response: http.ServerResponse): void {
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = path.resolve(this.root, relative);
    if (!file.startsWith(this.root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    if (relative === 'index.html') this.pageLoads.push(pathname);
    const type =
      { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' }[
        path.extname(file)
      ] ?? 'application/octet-stream';
    response.writeHead(200, {
      'Content-Type': `${type}; charset=utf-8`,
      'Content-Security-Policy': WINDOW_CSP_HEADER,
      'X-Content-Type-Options': 'nosniff',
    });
    createReadStream(file).pipe(response);
  }
}

/** Bounded wait for the fake's condition (the page's own requests are async). */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

let browser: Browser;
let pageDir: string;
const artifacts = makeTempDir('window-e2e');

beforeAll(async () => {
  pageDir = await buildWindowPage(path.join(makeTempDir('window-build'), 'renderer'));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('status window in Chromium against a fake agent', () => {
  it('reads "Connected to head office", then turns offline with the count and amount, live, without a reload', async () => {
    const agent = new FakeAgent(pageDir, snapshot());
    await agent.start();
    const watched = await openWatchedPage(browser, agent.url, { artifactsDir: path.join(artifacts, 'live') });
    try {
      const { page } = watched;
      await page
        .getByRole('heading', { level: 1, name: 'Connected to head office' })
        .waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('backlog-count').textContent()).toBe('Nothing is waiting');
      // The till that stopped while the others sell stands out.
      expect(await page.locator('tr.till--silent th').allTextContents()).toEqual(['T2']);
      await until(() => agent.streamCount === 1);
      await watched.screenshot('connected');

      agent.push({
        type: 'snapshot',
        snapshot: snapshot(
          {
            now: '2026-11-23T09:55:00.000Z',
            connection: {
              state: 'offline',
              since: '2026-11-23T09:42:00.000Z',
              lastError: 'connect ECONNREFUSED',
              everConnected: true,
            },
            backlog: {
              count: 312,
              oldestCapturedAt: '2026-11-23T09:42:10.000Z',
              oldestAgeSeconds: 770,
              atRisk: [
                { currency: 'EUR', amount: 123456 },
                { currency: 'GBP', amount: 1200 },
              ],
            },
            lastAck: { seq: 1200, at: '2026-11-23T09:41:58.000Z' },
            problems: [
              {
                code: 'head-office-unreachable',
                severity: 'info',
                message:
                  'Not connected to head office. Sales are saved on this PC and will be sent automatically.',
                action:
                  'Nothing to do; keep trading. If this lasts more than a few hours, check the internet connection or call support.',
              },
            ],
          },
          {
            history: activity(13, '2026-11-23T09:55:00.000Z'),
            notices: [
              {
                at: '2026-11-23T09:42:05.000Z',
                level: 'warning',
                code: 'head-office-unreachable',
                params: {},
                // Worded by the window from its own text; the agent's English is the fallback only.
                message: 'The agent says: head office is away.',
                details: 'mqtt connect ECONNREFUSED 10.20.0.5:8883 (reconnect attempt 7, next in 30 s)',
              },
              {
                at: '2026-11-23T09:40:00.000Z',
                level: 'warning',
                code: 'a-code-this-window-does-not-know',
                params: {},
                message: 'A newer agent said something in its own words.',
                details: 'newer event',
              },
            ],
            promotions: {
              inForce: [
                {
                  id: 'P-2026-11',
                  name: 'Winter coats: 20% off',
                  startsAt: null,
                  endsAt: '2026-11-30T22:59:00.000Z',
                },
              ],
              next: {
                id: 'P-2026-12',
                name: 'Advent calendar: buy 2, get 1 free',
                startsAt: '2026-12-01T05:00:00.000Z',
                endsAt: null,
              },
            },
          },
        ),
      });
      const offline = 'Offline since 10:42: 312 sales are safe on this PC and will be sent automatically';
      await page.getByRole('heading', { level: 1, name: offline }).waitFor({ timeout: 5000 });
      expect(await page.getByTestId('backlog-count').textContent()).toBe('312 sales');
      expect(await page.getByTestId('amounts-waiting').locator('li').allTextContents()).toEqual([
        '€1,234.56',
        '£12.00',
      ]);
      expect(await page.locator('.state').getAttribute('data-tone')).toBe('offline');
      const notices = page.getByRole('region', { name: 'Recent warnings and errors' });
      await notices
        .getByText(
          'Head office cannot be reached right now. Sales are kept on this PC and will be sent automatically.',
        )
        .waitFor({ timeout: 5000 });
      expect(await notices.getByText('The agent says: head office is away.').count()).toBe(0);
      await notices.getByText('A newer agent said something in its own words.').waitFor({ timeout: 5000 });
      await watched.screenshot('offline');

      expect(agent.pageLoads).toHaveLength(1); // live, not reloaded
      expect(watched.cspViolations).toEqual([]);
      expect(watched.errors).toEqual([]);
    } finally {
      await watched.close();
      await agent.stop();
    }
  });

  it('retries a dead letter from the keyboard, behind a confirmation that asks for the manager credential', async () => {
    const agent = new FakeAgent(pageDir, snapshot({ deadLetters: { count: 1, items: [deadLetter] } }));
    await agent.start();
    const watched = await openWatchedPage(browser, agent.url, {
      artifactsDir: path.join(artifacts, 'dead-letter'),
    });
    try {
      const { page } = watched;
      const retry = page.getByRole('button', { name: 'Retry sale T2-000417' });
      await retry.waitFor({ timeout: 10_000 });
      await retry.focus();
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Send this sale to head office again?' });
      await dialog.waitFor();
      await watched.screenshot('retry-confirmation');

      // Escape backs out without acting.
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      expect(agent.actions).toEqual([]);

      await retry.focus();
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.keyboard.type('not-the-credential');
      await page.keyboard.press('Enter');
      await dialog.getByRole('alert').filter({ hasText: 'The manager credential is not right.' }).waitFor();

      await page.getByLabel('Manager credential').fill(MANAGER_CREDENTIAL);
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'hidden' });
      await page.getByText('Sale T2-000417 will be sent again.').waitFor();
      await page.getByRole('button', { name: 'Retry sale T2-000417' }).waitFor({ state: 'detached' });

      expect(agent.actions).toHaveLength(2);
      for (const action of agent.actions) {
        expect(action.path).toBe(WINDOW_ROUTES.retry(deadLetter.eventId));
        expect(action.actionHeader).toBe(ACTION_HEADER.value);
        expect(action.origin).toBe(agent.url);
      }
      expect(agent.actions.map((a) => a.authorization)).toEqual([
        'Bearer not-the-credential',
        `Bearer ${MANAGER_CREDENTIAL}`,
      ]);
      await watched.screenshot('after-retry');
      expect(watched.cspViolations).toEqual([]);
      expect(watched.errors.filter((e) => !/401/.test(e))).toEqual([]);
    } finally {
      await watched.close();
      await agent.stop();
    }
  });
});
