import { describe, expect, it } from 'vitest';
import type { WatchedPage } from '../support/browser.js';
import {
  consoleSuite,
  markPage,
  signIn,
  startConsoleHub,
  stillSamePage,
  storeOrder,
  type ConsoleHub,
} from '../support/console-harness.js';
import { sale } from '../support/pos-payloads.js';
import { waitFor } from '../support/spawn-hub.js';

/**
 * The operator's console as head office sees it: the page served by a real hub process (PostgreSQL,
 * private Mosquitto), in Chromium, with stores simulated by MQTT clients speaking the real protocol. The
 * stores are put in the states an operator must act on (quarantined events, an open gap, offline with
 * sales waiting, a dead letter) beside calm ones; the list must put them first, most serious first, and
 * a store whose link dies must show offline within seconds, without a reload. Screenshots go to the
 * test's temp dir (and OUTPOST_SCREENSHOT_DIR, to refresh docs/images/console-*.png).
 */

const suite = consoleSuite('console-stores');

/** Today's sales: the day is not over, so no till is expected to have closed it yet (not a reason for attention). */
const today = () => new Date().toISOString().slice(0, 10);
const validSale = (storeId: string, n: number) =>
  sale(
    { terminalId: 'T1', transactionId: `${storeId}-T1-${String(n).padStart(4, '0')}`, businessDay: today() },
    n,
  );
/** A sale whose total does not add up: head office refuses it. */
const badSale = (storeId: string, n: number) => ({
  ...validSale(storeId, n),
  totals: { gross: 729, discount: 120, tax: 62, total: 1 },
});

describe("the operator's console served by a hub", () => {
  it('lists the stores needing attention first, most serious first, and shows a store going offline within seconds without a reload', async () => {
    const hub: ConsoleHub = await startConsoleHub({ db: 'postgres', consoleDir: suite.consoleDir });
    let watched: WatchedPage | undefined;
    try {
      const store = (storeId: string) => hub.connectStore(storeId);
      // Calm stores: online, everything acknowledged.
      for (const id of ['S-CALM-1', 'S-CALM-2']) {
        const sim = await store(id);
        for (let n = 1; n <= 3; n++) sim.capture('sale', validSale(id, n));
        await sim.deliver();
        await sim.publishStatus();
      }
      // A dead letter: head office refused one sale.
      const dead = await store('S-DEAD');
      dead.capture('sale', validSale('S-DEAD', 1));
      dead.capture('sale', badSale('S-DEAD', 2));
      await dead.deliver();
      await dead.publishStatus();
      expect(dead.deadLetters()).toHaveLength(1);
      // Offline with sales waiting: it reported 7 unsent, then vanished.
      const away = await store('S-OFFLINE');
      for (let n = 1; n <= 7; n++) away.capture('sale', validSale('S-OFFLINE', n));
      await away.publishStatus();
      // An open gap: seqs 4–5 never arrived while 6–7 did.
      const gap = await store('S-GAP');
      for (let n = 1; n <= 7; n++) gap.capture('sale', validSale('S-GAP', n));
      await gap.publishEvents([...gap.events.values()].filter((e) => e.seq !== 4 && e.seq !== 5));
      await gap.publishStatus({ backlog: 0 });
      // Quarantined: another writer under the same epoch (a cloned PC) sent other sales at held seqs.
      const quarantined = await store('S-QUAR');
      for (let n = 1; n <= 3; n++) quarantined.capture('sale', validSale('S-QUAR', n));
      await quarantined.deliver();
      await quarantined.publishStatus();
      await quarantined.publishEvents(
        [1, 2].map((seq) => ({
          seq,
          eventId: `01CLONE${String(seq).padStart(12, '0')}`,
          type: 'sale' as const,
          text: JSON.stringify(validSale('S-CLONE', seq)),
          withheld: null,
        })),
      );

      const summaryOf = async (storeId: string) =>
        (
          await hub.hub.api.get<{ store: { attention: { reasons: { kind: string }[] } } }>(
            `/v1/console/stores/${storeId}`,
          )
        ).store;
      await waitFor('every store in its state at the hub', async () => {
        const kinds = await Promise.all(
          ['S-QUAR', 'S-GAP', 'S-DEAD'].map(async (id) => (await summaryOf(id)).attention.reasons[0]?.kind),
        );
        return kinds.join() === 'quarantined,gaps,dead-letters' ? true : undefined;
      });
      away.dropConnection();
      await waitFor('S-OFFLINE offline at the hub', async () => {
        const row = await summaryOf('S-OFFLINE');
        return row.attention.reasons[0]?.kind === 'offline-backlog' ? true : undefined;
      });

      watched = await suite.open(`${hub.url}/`, 'stores');
      const { page } = watched;
      // No session yet: the console asks for the operator token, and refuses a wrong one.
      await page.getByRole('heading', { name: 'Sign in to the operator’s console' }).waitFor();
      await page.getByLabel('Operator token').fill('not-the-operator-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('The operator token is not right.').waitFor();
      await watched.screenshot('console-sign-in');
      await signIn(page, hub.token);

      expect(await storeOrder(page)).toEqual([
        'S-QUAR',
        'S-GAP',
        'S-OFFLINE',
        'S-DEAD',
        'S-CALM-1',
        'S-CALM-2',
      ]);
      const row = (id: string) => page.locator(`[data-testid=store-row][data-store-id="${id}"]`);
      expect(await row('S-QUAR').textContent()).toContain('2 events quarantined (another writer)');
      expect(await row('S-GAP').textContent()).toContain('1 open gap in the seqs');
      expect(await row('S-OFFLINE').textContent()).toContain('offline with 7 events waiting');
      expect(await row('S-OFFLINE').getByTestId('connection').textContent()).toMatch(
        /Offline since \d\d:\d\d/,
      );
      expect(await row('S-DEAD').textContent()).toContain('1 dead letter');
      expect(await row('S-CALM-1').textContent()).toContain('Nothing to do');
      expect(await page.getByTestId('stores-summary').textContent()).toBe(
        '6 stores, 5 online, 4 need attention',
      );
      await watched.screenshot('console-stores');

      // A calm store's link dies. The broker's last will reaches the hub, and the page, by itself.
      await markPage(page);
      const calm = hub.sims.find((s) => s.storeId === 'S-CALM-2')!;
      const cut = Date.now();
      calm.dropConnection();
      await row('S-CALM-2')
        .getByTestId('connection')
        .filter({ hasText: /Offline since \d\d:\d\d/ })
        .waitFor({ timeout: 10_000 });
      const shownAfterMs = Date.now() - cut;
      expect(await stillSamePage(page)).toBe(true);
      // Offline with nothing waiting still comes before the stores that need nothing.
      expect(await storeOrder(page)).toEqual([
        'S-QUAR',
        'S-GAP',
        'S-OFFLINE',
        'S-DEAD',
        'S-CALM-2',
        'S-CALM-1',
      ]);
      expect(await page.getByTestId('stores-summary').textContent()).toBe(
        '6 stores, 4 online, 5 need attention',
      );
      console.log(
        `store offline shown in the console ${shownAfterMs} ms after its link died (keep-alive 1 s)`,
      );
      await watched.screenshot('console-store-offline');

      // The store page: its state, and a link to its transactions.
      await page.getByRole('link', { name: 'S-DEAD' }).click();
      await page.getByRole('heading', { level: 1, name: 'Store S-DEAD' }).waitFor();
      await page.getByTestId('dead-letter').first().waitFor();
      expect(await page.getByTestId('dead-letter').first().textContent()).toContain('S-DEAD-T1-0002');
      await page.getByRole('link', { name: 'Transactions' }).click();
      await page.getByTestId('transaction').nth(1).waitFor();
      expect(await page.getByTestId('transaction').count()).toBe(2);
      await page.getByRole('link', { name: 'Quarantine' }).click();
      await page.getByText('Nothing is quarantined.').waitFor();
      await page.goto(`${hub.url}/#/stores/S-QUAR/quarantine`);
      await page.getByTestId('quarantined').nth(1).waitFor();

      // The two 401s are the sign-in's: the first read without a session, and the wrong token.
      suite.expectCleanPage(watched);
    } finally {
      await watched?.close();
      await hub.stop();
    }
  });
});
