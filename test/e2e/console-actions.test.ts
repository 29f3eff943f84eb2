import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ACTION_HEADER, CONSOLE_ROUTES, type StoreDetail } from '../../src/contracts/console-api.js';
import type { WatchedPage } from '../support/browser.js';
import { consoleSuite, signIn, startConsoleHub, type ConsoleHub } from '../support/console-harness.js';
import { sale } from '../support/pos-payloads.js';
import { waitFor } from '../support/spawn-hub.js';

/**
 * The operator's actions without code: resync a store from a seq, retry or discard its dead letters. In
 * Chromium against a real hub process (PostgreSQL, private Mosquitto), with a simulated store answering
 * the commands as docs/protocol.md says: each is recorded, shown pending until the store answers, sent
 * again when an offline store comes back. And the guard: without the operator credential, or from
 * another origin, an action is refused and nothing is sent.
 */

const suite = consoleSuite('console-actions');

const STORE = 'S-ACT';
const today = () => new Date().toISOString().slice(0, 10);
const saleOf = (n: number) =>
  sale({ terminalId: 'T1', transactionId: `T1-${String(n).padStart(4, '0')}`, businessDay: today() }, n);

/** The hub's view of the store, read with the operator token (as a script would). */
const detailOf = (hub: ConsoleHub) => hub.hub.api.get<StoreDetail>(`/v1/console/stores/${STORE}`);

/** A session cookie, as the console's sign-in gets it. */
async function sessionCookie(hub: ConsoleHub): Promise<string> {
  const response = await fetch(`${hub.url}${CONSOLE_ROUTES.session}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${hub.token}`,
      origin: hub.url,
      [ACTION_HEADER.name]: ACTION_HEADER.value,
    },
  });
  expect(response.status).toBe(200);
  return response.headers.get('set-cookie')!.split(';')[0]!;
}

async function postResync(
  hub: ConsoleHub,
  headers: Record<string, string>,
): Promise<{ status: number; error: string }> {
  const response = await fetch(`${hub.url}${CONSOLE_ROUTES.resync(STORE)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ fromSeq: 1, note: 'should never be sent' }),
  });
  return { status: response.status, error: ((await response.json()) as { error: string }).error };
}

describe("the operator's console actions", () => {
  it('refuses an action without the operator credential or from another origin, and sends nothing', async () => {
    const hub = await startConsoleHub({ db: 'postgres', consoleDir: suite.consoleDir });
    let evil: http.Server | undefined;
    let watched: WatchedPage | undefined;
    try {
      const sim = await hub.connectStore(STORE);
      sim.capture('sale', saleOf(1));
      await sim.deliver();
      await sim.publishStatus();
      await waitFor('the store at the hub', async () =>
        (await detailOf(hub)).store.lastSeq === 1 ? true : undefined,
      );
      const own = { origin: hub.url, [ACTION_HEADER.name]: ACTION_HEADER.value };
      const cookie = await sessionCookie(hub);

      // No credential at all, or a wrong one.
      expect(await postResync(hub, own)).toMatchObject({ status: 401 });
      expect(await postResync(hub, { ...own, authorization: 'Bearer not-the-operator-token' })).toMatchObject(
        {
          status: 401,
        },
      );
      expect(
        await postResync(hub, {
          ...own,
          cookie: 'outpost_console=v1.zzzzzz.000000000000000000000000.forged',
        }),
      ).toMatchObject({ status: 401 });
      // A session, but not from the hub's own page.
      expect(await postResync(hub, { ...own, cookie, origin: 'http://127.0.0.1:1' })).toEqual({
        status: 403,
        error: 'refused: actions are taken only from the console this hub serves (Origin http://127.0.0.1:1)',
      });
      expect(await postResync(hub, { cookie, [ACTION_HEADER.name]: ACTION_HEADER.value })).toMatchObject({
        status: 403,
        error: expect.stringContaining('no Origin header'),
      });
      expect(await postResync(hub, { cookie, origin: hub.url })).toMatchObject({
        status: 403,
        error: expect.stringContaining('no X-Outpost-Action header'),
      });
      expect(await postResync(hub, { ...own, cookie, 'sec-fetch-site': 'same-site' })).toMatchObject({
        status: 403,
        error: expect.stringContaining('Sec-Fetch-Site: same-site'),
      });
      // A session reads, but a session's write elsewhere in the operator API needs the same checks.
      expect((await fetch(`${hub.url}/v1/stores`, { headers: { cookie } })).status).toBe(200);
      const push = await fetch(`${hub.url}/v1/promotions`, {
        method: 'POST',
        headers: { cookie, origin: 'http://127.0.0.1:1', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(push.status).toBe(403);

      // In the browser: the operator is signed in, and another site's page (same host, other port: the
      // SameSite cookie goes along) posts to the hub, as a form and as a fetch without a preflight.
      const target = `${hub.url}${CONSOLE_ROUTES.resync(STORE)}`;
      evil = http.createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end(
          `<!doctype html><title>elsewhere</title>
           <form method="POST" action="${target}" enctype="text/plain">
             <input type="hidden" name='{"fromSeq":1,"note":"from a form elsewhere","x":"' value='"}'>
             <button>Win a prize</button>
           </form>`,
        );
      });
      await new Promise<void>((resolve) => evil!.listen(0, '127.0.0.1', resolve));
      const evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
      watched = await suite.open(`${hub.url}/`, 'refused');
      await signIn(watched.page, hub.token);
      const other = await watched.context.newPage();
      await other.goto(evilUrl);
      // A fetch without a preflight (no custom header can go along), then the form.
      await other.evaluate(
        `fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
           headers: { 'content-type': 'text/plain' }, body: '{"fromSeq":1,"note":"from a script elsewhere"}' })
         .catch(() => undefined)`,
      );
      await Promise.all([
        other.waitForEvent('load'),
        other.getByRole('button', { name: 'Win a prize' }).click(),
      ]);
      expect(await other.textContent('body')).toContain(
        'refused: actions are taken only from the console this hub serves',
      );
      await other.close();

      // Nothing was recorded, nothing reached the store.
      expect((await detailOf(hub)).commands).toEqual([]);
      await new Promise((r) => setTimeout(r, 500));
      expect(sim.commands).toEqual([]);
    } finally {
      await watched?.close();
      await new Promise((r) => (evil ? evil.close(r) : r(undefined)));
      await hub.stop();
    }
  });

  it('retries, discards and resyncs from the console: each pending until the store answers, sent again when it comes back', async () => {
    const hub = await startConsoleHub({ db: 'postgres', consoleDir: suite.consoleDir });
    let watched: WatchedPage | undefined;
    try {
      const sim = await hub.connectStore(STORE);
      for (let n = 1; n <= 3; n++) sim.capture('sale', saleOf(n));
      // Withheld as too large for the broker: refused, and accepted once sent whole.
      const big = sim.capture('sale', saleOf(4), 'larger than any message the broker accepts');
      // Refused for good: its total does not add up.
      const wrong = sim.capture('sale', {
        ...saleOf(5),
        totals: { gross: 729, discount: 120, tax: 62, total: 1 },
      });
      sim.capture('sale', saleOf(6));
      await sim.deliver();
      await sim.publishStatus();
      expect(sim.deadLetters().map((e) => e.eventId)).toEqual([big.eventId, wrong.eventId]);
      await waitFor('two dead letters at the hub', async () =>
        (await detailOf(hub)).store.deadLetters === 2 ? true : undefined,
      );

      watched = await suite.open(`${hub.url}/#/stores/${STORE}`, 'actions');
      const { page } = watched;
      await signIn(page, hub.token);
      const letter = (eventId: string) =>
        page.locator(`[data-testid=dead-letter][data-event-id="${eventId}"]`);
      await letter(big.eventId).waitFor();
      expect(await letter(big.eventId).getAttribute('data-state')).toBe('open');

      // Retry, confirmed; the store is slow to handle it: pending meanwhile.
      sim.holdCommands = true;
      await letter(big.eventId).getByRole('button', { name: 'Retry' }).click();
      const dialog = page.getByRole('dialog', { name: 'Send this sale to head office again?' });
      await dialog.getByLabel('Note (optional)').fill('the broker limit was raised');
      await watched.screenshot('console-retry-confirmation');
      await dialog.getByRole('button', { name: 'Retry' }).click();
      await page.getByRole('status').getByText('Sent to the store.').waitFor();
      await letter(big.eventId).and(page.locator('[data-state=retry-pending]')).waitFor();
      const pendingRetry = page.locator('[data-testid=command][data-kind=retry-dead-letter]');
      expect(await pendingRetry.getAttribute('data-state')).toBe('pending');
      await watched.screenshot('console-command-pending');
      await waitFor('the retry at the store', async () => (sim.commands.length === 1 ? true : undefined));
      expect(sim.commands[0]).toMatchObject({ kind: 'retry-dead-letter', eventId: big.eventId });

      // The store handles it: queued again under a new seq, sent whole, stored; its status says done.
      await sim.release();
      await letter(big.eventId).and(page.locator('[data-state=stored]')).waitFor({ timeout: 15_000 });
      await pendingRetry.and(page.locator('[data-state=done]')).waitFor({ timeout: 15_000 });
      expect(await letter(big.eventId).textContent()).toContain('Stored since (seq 7 of');

      // Discard while the store is offline: pending, and sent again when it comes back online.
      sim.dropConnection();
      await page
        .getByTestId('store-connection')
        .filter({ hasText: 'Offline since' })
        .waitFor({ timeout: 10_000 });
      await letter(wrong.eventId).getByRole('button', { name: 'Discard' }).click();
      const discard = page.getByRole('dialog', { name: 'Discard this sale?' });
      await discard.getByRole('button', { name: 'Discard' }).click();
      // A discard needs a note: the browser keeps the dialog open until one is written.
      await discard.getByLabel('Note (who and why)').fill('duplicate of T1-0006, per store manager');
      await discard.getByRole('button', { name: 'Discard' }).click();
      await letter(wrong.eventId).and(page.locator('[data-state=discard-pending]')).waitFor();
      await sim.reconnect();
      await letter(wrong.eventId).and(page.locator('[data-state=discarded]')).waitFor({ timeout: 15_000 });
      expect(sim.events.get(wrong.seq)?.state).toBe('discarded');

      // Resync the epoch from seq 2: the store publishes again what it holds, and says so.
      await page.getByLabel('From seq').fill('2');
      await page.getByRole('button', { name: 'Ask for a resync…' }).click();
      const resync = page.getByRole('dialog', { name: 'Ask the store to send again?' });
      await resync.getByLabel('Note (who and why)').fill('checking the export of today');
      await resync.getByRole('button', { name: 'Ask for the resync' }).click();
      const resyncRow = page.locator('[data-testid=command][data-kind=resend]');
      await resyncRow.and(page.locator('[data-state=done]')).waitFor({ timeout: 15_000 });
      expect(await resyncRow.textContent()).toContain('the store re-sent seqs 2–7');

      // The hub holds the whole story, and the store has nothing left for anyone to do.
      const detail = await detailOf(hub);
      expect(detail.commands.map((c) => [c.kind, c.state])).toEqual([
        ['resend', 'done'],
        ['discard-dead-letter', 'done'],
        ['retry-dead-letter', 'done'],
      ]);
      expect(detail.commands[1]!.sends).toBeGreaterThanOrEqual(2);
      expect(detail.store.deadLetters).toBe(0);
      expect(detail.store.attention.level).toBe('ok');
      expect(detail.epochs[0]).toMatchObject({ lastSeq: 7, contiguousThrough: 7, gaps: [] });
      await watched.screenshot('console-store');

      suite.expectCleanPage(watched);
    } finally {
      await watched?.close();
      await hub.stop();
    }
  });
});
