import { describe, expect, it } from 'vitest';
import type { WatchedPage } from '../support/browser.js';
import {
  consoleSuite,
  markPage,
  signIn,
  startConsoleHub,
  stillSamePage,
  type ConsoleHub,
} from '../support/console-harness.js';
import { tillClose, tillSale } from '../support/day-close-fixtures.js';
import { waitFor } from '../support/spawn-hub.js';

/**
 * The end-of-day board of the operator's console, on a real hub (SQLite, private Mosquitto) in Chromium:
 * stores close yesterday's business day with their tills' Z-reports (real `day-close` events), one of them
 * counting a sale head office never received. The board shows the day confirmed for one store, mismatched
 * for the other (naming the till and the missing transaction), not closed for a third, and follows a
 * late close by itself.
 */

const suite = consoleSuite('console-days');

/** Yesterday (UTC): inside the week the console counts, and a day every till should have closed. */
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe("the operator's console end-of-day board", () => {
  it('shows confirmed, mismatched and not-closed days per store, the missing sale by name, and a late close without a reload', async () => {
    const hub: ConsoleHub = await startConsoleHub({ db: 'sqlite', consoleDir: suite.consoleDir });
    let watched: WatchedPage | undefined;
    try {
      const store = (storeId: string) => hub.connectStore(storeId);
      // Every till's sales arrived and its Z-report agrees.
      const ok = await store('S-DAY-OK');
      for (const till of ['T1', 'T2']) {
        for (let n = 1; n <= 3; n++) ok.capture('sale', tillSale(till, n, DAY));
        ok.capture('day-close', tillClose(till, { sales: 3, businessDay: DAY }));
      }
      // The till counted three sales; head office holds two.
      const bad = await store('S-DAY-BAD');
      for (let n = 1; n <= 2; n++) bad.capture('sale', tillSale('T1', n, DAY));
      bad.capture('day-close', tillClose('T1', { sales: 3, businessDay: DAY }));
      // Sold, not closed yet.
      const open = await store('S-DAY-OPEN');
      open.capture('sale', tillSale('T1', 1, DAY));
      for (const sim of hub.sims) {
        await sim.deliver();
        await sim.publishStatus();
      }
      await waitFor('the day judged at the hub', async () => {
        const chain = await hub.hub.api.get<{
          counts: { confirmed: number; mismatch: number; notClosed: number };
        }>(`/v1/days/${DAY}`);
        return chain.counts.confirmed === 1 && chain.counts.mismatch === 1 && chain.counts.notClosed === 1
          ? true
          : undefined;
      });

      watched = await suite.open(`${hub.url}/`, 'days');
      const { page } = watched;
      await signIn(page, hub.token);
      // The stores list already says which stores have days to look at.
      const row = (id: string) => page.locator(`[data-testid=store-row][data-store-id="${id}"]`);
      expect(await row('S-DAY-BAD').textContent()).toContain('1 business day mismatched');
      expect(await row('S-DAY-OPEN').textContent()).toContain('1 business day not closed');
      expect(await row('S-DAY-OK').textContent()).toContain('Nothing to do');

      // The board: the last seven days chain-wide.
      await page.getByRole('link', { name: 'Business days' }).click();
      const dayRow = page.locator(`[data-testid=day-row][data-day="${DAY}"]`);
      await dayRow.waitFor();
      expect((await dayRow.locator('td').allTextContents()).map((t) => t.trim())).toEqual(['1', '1', '1']);
      await watched.screenshot('console-days');

      // One day, store by store.
      await dayRow.getByRole('link', { name: DAY }).click();
      await page.getByRole('heading', { name: `Business day ${DAY}` }).waitFor();
      expect(await page.getByTestId('day-mismatch').textContent()).toContain('S-DAY-BAD: tills T1 disagree');
      expect(await page.getByTestId('day-confirmed').textContent()).toContain('S-DAY-OK');
      expect(await page.getByTestId('day-not-closed').textContent()).toContain(
        'S-DAY-OPEN: tills T1 not closed',
      );
      await markPage(page);
      await watched.screenshot('console-day');

      // The late till closes: the board follows by itself.
      open.capture('day-close', tillClose('T1', { sales: 1, businessDay: DAY }));
      await open.deliver();
      await page
        .getByTestId('day-confirmed')
        .getByRole('link', { name: 'S-DAY-OPEN' })
        .waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('day-not-closed').textContent()).toContain('none');
      expect(await stillSamePage(page)).toBe(true);

      // The mismatched store's day, till by till: what is missing, and the Z-report beside head office.
      await page.getByTestId('day-mismatch').getByRole('link', { name: 'S-DAY-BAD' }).click();
      const till = page.getByTestId('till-day');
      await till.first().waitFor();
      expect(await till.getAttribute('data-state')).toBe('mismatch');
      const words = await till.textContent();
      expect(words).toContain('missing at head office: T1-0003');
      expect(words).toContain('sale EUR: till 3 for €18.27, head office 2 for €12.18');
      await watched.screenshot('console-store-day');

      suite.expectCleanPage(watched);
    } finally {
      await watched?.close();
      await hub.stop();
    }
  });
});
