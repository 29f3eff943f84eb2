import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_HEADER, WINDOW_ROUTES } from '../../src/contracts/window-api.js';
import { buildWindowPage, launchChromium, openWatchedPage, type WatchedPage } from '../support/browser.js';
import { plainBrokerConfig } from '../support/mosquitto-binary.js';
import { startMosquitto, type TestMosquitto } from '../support/mosquitto.js';
import { numberedSale } from '../support/pos-payloads.js';
import { makeTerminals, spawnAgent, type AgentProcess } from '../support/spawn-agent.js';
import { FAST_SYNC, spawnHub, waitFor, type HubProcess } from '../support/spawn-hub.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The status window as a store manager sees it: the page served by a real headless agent (`outpost
 * agent`, a child process), connected to a private Mosquitto and a real hub, in Chromium. Nothing is
 * faked: the broker is stopped and started, sales are sold over the POS API, and head office's side is
 * the hub's own API. Screenshots of each state go to the test's temp dir (and, with
 * OUTPOST_SCREENSHOT_DIR set, there too: that is how docs/images/ is refreshed).
 */

const MANAGER = 'manager-credential-0123456789';
const SALE_TOTAL = 609; // numberedSale: €6.09
const artifacts = makeTempDir('window-store-shots');

let browser: Browser;
let pageDir: string;

beforeAll(async () => {
  pageDir = await buildWindowPage(path.join(makeTempDir('window-store-build'), 'renderer'));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

interface Store {
  broker: TestMosquitto;
  brokerDir: string;
  hub: HubProcess;
  agent: AgentProcess;
  tills: ReturnType<typeof makeTerminals>;
}

/** Broker, hub and one store agent serving the window; `brokerLines` are added to Mosquitto's config. */
async function startStore(storeId: string, brokerLines: string[] = [], protocolVersion: 4 | 5 = 4) {
  let brokerDir = '';
  const broker = await startMosquitto({
    config: (dir, port) => {
      brokerDir = dir;
      return plainBrokerConfig(port) + brokerLines.map((l) => `${l}\n`).join('');
    },
  });
  const hub = await spawnHub({
    dbUrl: `sqlite:${path.join(makeTempDir('window-store-hub'), 'hub.sqlite')}`,
    mqttUrl: broker.url,
  });
  const tills = makeTerminals(['T1', 'T2', 'T3']);
  const agent = await spawnAgent({
    storeId,
    terminals: tills,
    config: {
      mqtt: { url: broker.url, keepaliveSeconds: 2, protocolVersion },
      sync: FAST_SYNC,
      window: { managerToken: MANAGER, filesDir: pageDir },
    },
  });
  return { broker, brokerDir, hub, agent, tills } satisfies Store;
}

async function sell(store: Store, till: number, n: number, body?: Record<string, unknown>): Promise<number> {
  const { id, token } = store.tills[till]!;
  const response = await fetch(`${store.agent.url}/v1/transactions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? numberedSale(id, n)),
  });
  return response.status;
}

const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

/** A marker on the page's window object: still there later means the page was never reloaded. */
async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
}
const stillSamePage = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce === true);

describe('the status window served by a headless agent, with a real broker and hub', () => {
  it('reads connected with nothing waiting, turns offline with the count and amount when the broker stops, and comes back to zero by itself', async () => {
    const store = await startStore('S-LIVE');
    let watched: WatchedPage | undefined;
    try {
      watched = await openWatchedPage(browser, `${store.agent.url}/`, {
        artifactsDir: path.join(artifacts, 'live'),
      });
      const { page } = watched;
      await heading(page, 'Connected to head office').waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('backlog-count').textContent()).toBe('Nothing is waiting');
      // A few sales reach head office while connected: the tills and the chart fill in.
      for (let n = 1; n <= 3; n++)
        for (let till = 0; till < 3; till++) expect(await sell(store, till, n)).toBe(201);
      await page
        .locator('tr', { hasText: 'T3' })
        .getByText('3', { exact: true })
        .waitFor({ timeout: 10_000 });
      await heading(page, 'Connected to head office').waitFor({ timeout: 15_000 });
      await markPage(page);
      await watched.screenshot('connected');

      // Head office's broker goes away; the tills keep selling.
      await store.broker.kill();
      const offlineSales = 5;
      for (let n = 101; n < 101 + offlineSales; n++) expect(await sell(store, n % 2, n)).toBe(201);
      const startedWaiting = Date.now();
      await heading(
        page,
        /^Offline since \d\d:\d\d: 5 sales are safe on this PC and will be sent automatically$/,
      ).waitFor({
        timeout: 5_000,
      });
      expect(Date.now() - startedWaiting).toBeLessThan(5_000);
      expect(await page.getByTestId('backlog-count').textContent()).toBe('5 sales');
      expect(await page.getByTestId('amounts-waiting').locator('li').allTextContents()).toEqual([
        `€${((offlineSales * SALE_TOTAL) / 100).toFixed(2)}`,
      ]);
      expect(await page.locator('.state').getAttribute('data-tone')).toBe('offline');
      expect(await stillSamePage(page)).toBe(true);
      // The chart, read from the agent, shows the sales waiting now.
      const status = (await (await fetch(`${store.agent.url}${WINDOW_ROUTES.snapshot}`)).json()) as {
        history: { points: { backlog: number }[] };
      };
      expect(status.history.points.at(-1)?.backlog).toBe(offlineSales);
      await watched.screenshot('offline');

      // The broker is back: the agent reconnects and delivers by itself; nobody touches the window.
      await store.broker.restart();
      await heading(page, 'Connected to head office').waitFor({ timeout: 30_000 });
      await page.getByTestId('backlog-count').getByText('Nothing is waiting').waitFor({ timeout: 30_000 });
      expect(await stillSamePage(page)).toBe(true);
      const atHub = await waitFor('every sale at the hub', async () => {
        const summary = await store.hub.api.store('S-LIVE');
        const stored = summary?.epochs.reduce((n, e) => n + e.stored, 0) ?? 0;
        return stored === 9 + offlineSales ? stored : undefined;
      });
      expect(atHub).toBe(14);
      await watched.screenshot('back-online');

      expect(watched.cspViolations).toEqual([]);
      // The page's event stream drops while the agent is fine but nothing else should error.
      expect(watched.errors).toEqual([]);
    } finally {
      await watched?.close();
    }
  }, 120_000);

  it('shows a sale that cannot be sent, refuses actions from another site or without the manager credential, retries one once fixed and discards one with a note', async () => {
    // The broker takes messages of 32 KiB at most (MQTT 5 tells the agent so): a 46 KB sale cannot go.
    const store = await startStore('S-DEAD', ['max_packet_size 32768'], 5);
    let watched: WatchedPage | undefined;
    const foreign = await foreignSite();
    try {
      watched = await openWatchedPage(browser, `${store.agent.url}/`, {
        artifactsDir: path.join(artifacts, 'dead-letters'),
      });
      const { page } = watched;
      await heading(page, 'Connected to head office').waitFor({ timeout: 15_000 });
      expect(await page.getByRole('button', { name: /^Retry sale/ }).count()).toBe(0);

      expect(await sell(store, 0, 1, bigSale('T1', 1))).toBe(201);
      expect(await sell(store, 1, 2, bigSale('T2', 2))).toBe(201);
      expect(await sell(store, 2, 3)).toBe(201);
      // Both appear, pushed: the window is not reloaded.
      const retryFirst = page.getByRole('button', { name: 'Retry sale T1-1' });
      await retryFirst.waitFor({ timeout: 15_000 }).catch(async (e) => {
        console.log(JSON.stringify(await (await fetch(`${store.agent.url}/v1/status`)).json(), null, 1));
        console.log(store.agent.stderr());
        throw e;
      });
      await page.getByRole('button', { name: 'Discard sale T2-2' }).waitFor({ timeout: 15_000 });
      await page
        .getByText(/too large to send: \d+ bytes as a message/)
        .first()
        .waitFor();
      await page.getByTestId('backlog-count').getByText('Nothing is waiting').waitFor({ timeout: 15_000 });
      await watched.screenshot('dead-letter');
      const [first, second] = (
        (await (await fetch(`${store.agent.url}${WINDOW_ROUTES.snapshot}`)).json()) as {
          status: { deadLetters: { items: { eventId: string; transactionId: string }[] } };
        }
      ).status.deadLetters.items;
      expect([first!.transactionId, second!.transactionId]).toEqual(['T1-1', 'T2-2']);

      // Another web page open in the manager's browser tries to act: a fetch with the action header is
      // stopped by the browser (no CORS preflight is ever granted), a plain cross-site POST by the agent.
      const other = await browser.newPage();
      await other.goto(foreign.url);
      const attempts = await other.evaluate(
        async ({ agentUrl, route, header, credential }) => {
          const withHeader = await fetch(`${agentUrl}${route}`, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              [header]: '1',
              Authorization: `Bearer ${credential}`,
            },
            body: '{}',
          }).then(
            (r) => `answered ${r.status}`,
            () => 'blocked by the browser',
          );
          const simple = await fetch(`${agentUrl}${route}`, {
            method: 'POST',
            mode: 'no-cors',
            body: '{}',
          }).then(
            (r) => r.type,
            () => 'failed',
          );
          return { withHeader, simple };
        },
        {
          agentUrl: store.agent.url,
          route: WINDOW_ROUTES.retry(first!.eventId),
          header: ACTION_HEADER.name,
          credential: MANAGER,
        },
      );
      await other.close();
      expect(attempts).toEqual({ withHeader: 'blocked by the browser', simple: 'opaque' });
      // The agent refused the one that reached it, and says so in the window's notices.
      await page
        .getByText(
          'Another web page or program tried to act on this agent through the status window; it was refused.',
        )
        .waitFor({ timeout: 10_000 });

      // From the window itself, but without the manager credential: refused.
      const withoutCredential = await page.evaluate(
        async ({ route, header }) =>
          (
            await fetch(route, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', [header]: '1' },
              body: '{}',
            })
          ).status,
        { route: WINDOW_ROUTES.retry(first!.eventId), header: ACTION_HEADER.name },
      );
      expect(withoutCredential).toBe(401);
      await retryFirst.click();
      const retryDialog = page.getByRole('dialog', { name: 'Send this sale to head office again?' });
      await retryDialog.waitFor();
      await retryDialog.getByLabel('Manager credential').fill('not-the-manager-credential');
      await retryDialog.getByRole('button', { name: 'Yes, retry' }).click();
      await retryDialog
        .getByRole('alert')
        .filter({ hasText: 'The manager credential is not right.' })
        .waitFor();
      await retryDialog.getByRole('button', { name: 'Cancel' }).click();
      await retryDialog.waitFor({ state: 'hidden' });
      expect(await page.getByRole('button', { name: /^Retry sale/ }).count()).toBe(2);

      // Support raises the broker's limit; the manager retries the first sale, behind the confirmation.
      writeFileSync(path.join(store.brokerDir, 'mosquitto.conf'), plainBrokerConfig(store.broker.port));
      await store.broker.restart();
      await heading(page, 'Connected to head office').waitFor({ timeout: 30_000 });
      await retryFirst.click();
      await retryDialog.waitFor();
      await retryDialog.getByLabel('Manager credential').fill(MANAGER);
      await watched.screenshot('retry-confirmation');
      await retryDialog.getByRole('button', { name: 'Yes, retry' }).click();
      await retryDialog.waitFor({ state: 'hidden' });
      await page.getByText('Sale T1-1 will be sent again.').waitFor();
      await retryFirst.waitFor({ state: 'detached', timeout: 10_000 });
      await waitFor('the retried sale at the hub', async () => {
        const summary = await store.hub.api.store('S-DEAD');
        for (const epoch of summary?.epochs ?? []) {
          const events = await store.hub.api.transactions('S-DEAD', epoch.epoch);
          if (events.some((e) => e.transactionId === 'T1-1')) return true;
        }
        return undefined;
      });
      await page.getByTestId('backlog-count').getByText('Nothing is waiting').waitFor({ timeout: 15_000 });

      // The second one the manager discards, with a note: it stays on record, with the note.
      await page.getByRole('button', { name: 'Discard sale T2-2' }).click();
      const discardDialog = page.getByRole('dialog', { name: 'Discard this sale?' });
      await discardDialog.getByLabel('Note (why it is discarded)').fill('Keyed again on till 2 as T2-3');
      await discardDialog.getByLabel('Manager credential').fill(MANAGER);
      await discardDialog.getByRole('button', { name: 'Yes, discard' }).click();
      await discardDialog.waitFor({ state: 'hidden' });
      const row = page.locator(`tr[data-event-id="${second!.eventId}"]`);
      await row.getByText('Discarded (kept on record)').waitFor({ timeout: 10_000 });
      expect(await row.textContent()).toContain('Keyed again on till 2 as T2-3');
      expect(await page.getByRole('button', { name: /^(Retry|Discard) sale/ }).count()).toBe(0);
      await watched.screenshot('discarded');

      expect(watched.cspViolations).toEqual([]);
      // The refused attempts above are answered 401 by design; the browser logs those.
      expect(watched.errors.filter((e) => !/401/.test(e))).toEqual([]);
    } finally {
      await watched?.close();
      await foreign.close();
    }
  }, 150_000);
});

/** A valid sale of about 46 KB (fifty long free-form POS fields): more than the broker takes at first. */
function bigSale(terminalId: string, n: number): Record<string, unknown> {
  const extensions = Object.fromEntries(
    Array.from({ length: 50 }, (_, i) => [`field${i}`, `${i}:`.padEnd(900, 'x')]),
  );
  return { ...numberedSale(terminalId, n), extensions };
}

/** Another site the manager's browser might have open, on another origin (another port). */
async function foreignSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>Not Outpost</title><p>Another site</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
