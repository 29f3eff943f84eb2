import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTrustedKeyring, generateSigningKeyPair } from '../../src/promotions/index.js';
import type { WatchedPage } from '../support/browser.js';
import {
  consoleSuite,
  markPage,
  signIn,
  startConsoleHub,
  stillSamePage,
  type ConsoleHub,
} from '../support/console-harness.js';
import { promotionDraft } from '../support/promotion-documents.js';
import { PromotionStoreSim } from '../support/promotion-store-sim.js';
import { makeTempDir } from '../support/temp-dir.js';

/**
 * Promotion rollout in the operator's console, on a real hub (SQLite, private Mosquitto, a signing key)
 * in Chromium: a promotion pushed to two stores; one applies it (a simulated store deciding with the
 * agent's own rules and reporting it through the events path), the other never connected. The console
 * shows it pending, then applied by one store of two without a reload, and store by store who did what.
 */

const suite = consoleSuite('console-promotions');

describe("the operator's console promotion rollout", () => {
  it('follows a promotion from pending to applied store by store, live', async () => {
    const key = generateSigningKeyPair();
    const keyFile = path.join(makeTempDir('console-promotion-key'), 'signing-key.pem');
    writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
    const hub: ConsoleHub = await startConsoleHub({
      db: 'sqlite',
      consoleDir: suite.consoleDir,
      extraEnv: { OUTPOST_PROMOTIONS__SIGNING_KEY_FILE: keyFile },
    });
    let sim: PromotionStoreSim | undefined;
    let watched: WatchedPage | undefined;
    try {
      const push = await fetch(`${hub.url}/v1/promotions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hub.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          promotionDraft({
            promotionId: 'COFFEE-10',
            name: 'Ten percent off coffee',
            target: { storeIds: ['S-PROMO-A', 'S-PROMO-B'] },
          }),
        ),
      });
      expect(push.status).toBe(201);

      watched = await suite.open(`${hub.url}/#/promotions`, 'promotions');
      const { page } = watched;
      await signIn(page, hub.token);
      const row = page.getByTestId('promotion-row').filter({ hasText: 'Ten percent off coffee' });
      await row.getByText('0 of 2 applied, 2 pending').waitFor();
      await markPage(page);

      // The store connects and applies it: the rollout arrives as its events, and the console follows.
      sim = await PromotionStoreSim.connect({
        url: hub.broker.url,
        storeId: 'S-PROMO-A',
        auto: { keyring: createTrustedKeyring([key.publicKeyBase64]) },
      });
      await row.getByText('1 of 2 applied, 1 pending').waitFor({ timeout: 15_000 });
      expect(await stillSamePage(page)).toBe(true);
      expect(await row.textContent()).toContain('stores S-PROMO-A, S-PROMO-B');

      await row.getByRole('link', { name: 'Ten percent off coffee' }).click();
      const store = (id: string) => page.locator('[data-testid=rollout-store]').filter({ hasText: id });
      await store('S-PROMO-A').and(page.locator('[data-status=applied]')).waitFor();
      expect(await store('S-PROMO-B').getAttribute('data-status')).toBe('pending');
      expect(await store('S-PROMO-B').textContent()).toContain('never seen');
      await watched.screenshot('console-promotion');

      suite.expectCleanPage(watched);
    } finally {
      await watched?.close();
      await sim?.close().catch(() => undefined);
      await hub.stop();
    }
  });
});
