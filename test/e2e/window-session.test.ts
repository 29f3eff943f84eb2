import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { agentConfigSchema } from '../../src/contracts/agent-config.js';
import { silentLogger } from '../../src/lib/logger.js';
import { buildWindowPage, CHROMIUM, openWatchedPage, type WatchedPage } from '../support/browser.js';
import { numberedSale } from '../support/pos-payloads.js';
import { submitSales } from '../support/spawn-hub.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * The status window opened on another computer of the store's network, in Chromium: the browser reaches
 * the agent under a LAN host name (mapped to 127.0.0.1, so the agent sees a host that is not its own PC's),
 * asks for the manager credential, exchanges it once for a session cookie, and reads and streams with the
 * cookie alone. The credential is in no URL the page requests, and the page cannot read the session.
 */

const HOST = 'store-server.lan';
const TILL = { id: 'T1', token: 'till-one-token-0123456789' };
const MANAGER = 'manager-credential-0123456789';
const artifacts = makeTempDir('window-session-shots');

let browser: Browser;
let pageDir: string;
const running: RunningAgent[] = [];

beforeAll(async () => {
  pageDir = await buildWindowPage(path.join(makeTempDir('window-session-build'), 'renderer'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
    ],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const agent of running.splice(0)) await agent.stop();
});

async function agentWith(managerToken: string, dataDir: string, port = 0) {
  const agent = await startAgent(
    agentConfigSchema.parse({
      storeId: 'S042',
      dataDir,
      api: { host: '127.0.0.1', port, terminals: [TILL] },
      window: { managerToken, filesDir: pageDir },
    }),
    { logger: silentLogger() },
  );
  running.push(agent);
  return agent;
}

/** One sale from till T1, answered 201 (submitSales fails loudly otherwise). */
const sell = (agent: RunningAgent, n: number) => submitSales(agent.url, [TILL], [numberedSale('T1', n)]);

describe('the status window on another computer', () => {
  it('asks for the manager credential once, then reads and updates live on a session the page cannot see', async () => {
    const dataDir = makeTempDir('window-session');
    let agent = await agentWith(MANAGER, dataDir);
    const port = new URL(agent.url).port;
    const remoteUrl = `http://${HOST}:${port}/`;
    let watched: WatchedPage | undefined;
    try {
      watched = await openWatchedPage(browser, remoteUrl, { artifactsDir: artifacts });
      const { page } = watched;
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));

      const form = page.getByRole('heading', {
        level: 1,
        name: 'Enter the manager credential to see the store status',
      });
      await form.waitFor({ timeout: 10_000 });
      await watched.screenshot('asks-for-credential');
      await page.getByRole('textbox', { name: 'Manager credential' }).fill('not-the-manager-credential');
      await page.getByRole('button', { name: 'Show the status' }).click();
      await page
        .getByRole('alert')
        .filter({ hasText: 'The credential is not right.' })
        .waitFor({ timeout: 5_000 });
      // The field is cleared whatever the answer: the credential is not kept on the page.
      expect(await page.getByRole('textbox', { name: 'Manager credential' }).inputValue()).toBe('');

      await page.getByRole('textbox', { name: 'Manager credential' }).fill(MANAGER);
      await page.getByRole('button', { name: 'Show the status' }).click();
      await page
        .getByRole('heading', { level: 1, name: 'Not set up to send sales to head office' })
        .waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('backlog-count').textContent()).toBe('Nothing is waiting');

      // Live, over the stream the session opened: a sale shows without a reload.
      await sell(agent, 1);
      await page
        .getByTestId('backlog-count')
        .getByText('1 sale', { exact: true })
        .waitFor({ timeout: 10_000 });
      await watched.screenshot('reading-with-session');

      // What the page's script can see: no cookie (HttpOnly), nothing kept in the tab's storage.
      const seen = await page.evaluate(() => {
        const scope = globalThis as unknown as {
          document: { cookie: string };
          sessionStorage: Record<string, string>;
          localStorage: Record<string, string>;
        };
        return {
          cookie: scope.document.cookie,
          storage: JSON.stringify([{ ...scope.sessionStorage }, { ...scope.localStorage }]),
        };
      });
      expect(seen.cookie).toBe('');
      expect(seen.storage).not.toContain(MANAGER);
      expect(requested.some((url) => url.includes(`/v1/window/events`))).toBe(true);
      for (const url of requested) {
        expect(url).not.toContain(MANAGER);
        expect(new URL(url).search, url).toBe('');
      }

      // A new manager credential ends the session: the window asks again rather than show lost contact.
      await agent.stop();
      running.splice(running.indexOf(agent), 1);
      agent = await agentWith(`${MANAGER}-rotated`, dataDir, Number(port));
      await form.waitFor({ timeout: 15_000 });
      await page.getByText('The session on this computer has ended.').waitFor({ timeout: 5_000 });
      await page.getByRole('textbox', { name: 'Manager credential' }).fill(`${MANAGER}-rotated`);
      await page.getByRole('button', { name: 'Show the status' }).click();
      await page
        .getByTestId('backlog-count')
        .getByText('1 sale', { exact: true })
        .waitFor({ timeout: 10_000 });

      expect(watched.cspViolations).toEqual([]);
      // The browser's own lines: the refused reads (401), and a note that Cross-Origin-Opener-Policy
      // applies to HTTPS or localhost only (a LAN host name over plain HTTP). Nothing else may error.
      const expected =
        /status of 401|401 \(Unauthorized\)|net::ERR|Cross-Origin-Opener-Policy header has been ignored/;
      expect(watched.errors.filter((e) => !expected.test(e))).toEqual([]);
    } finally {
      await watched?.close();
    }
  }, 90_000);
});
