// Inventory on the room page (docs/admission.md, "Inventory"): a visitor waits; the operator sets
// the room's items to 0 and the open page turns into "Sold out" by itself within a second (the
// ticket's stream says sold_out), keeping the place; items coming back turn it into the waiting
// page again, with the same place. A visitor who comes while the room is sold out gets the
// sold-out page and no join button; a join sent from a page loaded before (JavaScript off) is
// answered 410 with the same page. The sold-out pages are axe-clean.
//
// The server runs on the test clock ([testing] manual_clock), and nobody is admitted (the room's
// policy is manual), so the visitor keeps waiting while the test looks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, assertAccessible, assertAccessibleWithoutScript, screenshot,
  openPage, until } from './lib.mjs';

const ROOM = 'merch';
let wr;
let browser;

const inventory = (body) => wr.admin('POST', `/admin/v1/rooms/${ROOM}/inventory`, body);
const ticketJson = async (id) => (await fetch(`${wr.base}/v1/rooms/${ROOM}/tickets/${id}`)).json();

before(async () => {
  wr = await startWaitroom('[testing]\nmanual_clock = true\n');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await wr?.stop();
});

// Opens the room page in a fresh browser and joins there; returns the page and its ticket.
async function join(javaScriptEnabled) {
  const { context, page } = await openPage(browser, { javaScriptEnabled });
  await page.goto(`${wr.base}/r/${ROOM}`);
  await page.getByRole('button', { name: 'Join the line' }).click();
  await page.getByRole('heading', { name: 'You are in line' }).waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === `waitroom_${ROOM}`);
  return { context, page, ticket: cookie.value };
}

test('a sold-out room says so at once to those waiting and to newcomers, and reopens in line order', async () => {
  await wr.admin('PUT', `/admin/v1/rooms/${ROOM}`, { ticket_idle_timeout_s: 0, admission: { mode: 'manual' } });
  assert.equal((await inventory({ set: 3 })).left, 3);

  const withScript = await join(true);
  const withoutScript = await join(false);
  // A page loaded while places are still given (JavaScript off: it does not change by itself).
  const late = await openPage(browser, { javaScriptEnabled: false });
  await late.page.goto(`${wr.base}/r/${ROOM}`);
  await late.page.getByRole('button', { name: 'Join the line' }).waitFor();

  // Sold out: the open page turns by itself, keeping the place.
  const soldAt = Date.now();
  const sold = await inventory({ set: 0 });
  assert.equal(sold.sold_out, true);
  await withScript.page.getByRole('heading', { name: 'Sold out' }).waitFor({ timeout: 1000 });
  const tookMs = Date.now() - soldAt;
  assert.ok(tookMs <= 1000, `the page turned after ${tookMs} ms`);
  const t = await ticketJson(withScript.ticket);
  assert.equal(t.status, 'waiting');
  assert.equal(t.sold_out, true);
  assert.equal(t.eta, null);
  await withScript.page.getByText('You keep your place: if items are returned').waitFor();
  await withScript.page.getByText('Your number is 1.').waitFor();
  assert.equal(await withScript.page.getByText('Estimated wait').count(), 0);
  assert.equal(await withScript.page.locator('[data-wr-sig^="sold_out|"]').count(), 1);
  await assertAccessible(withScript.page, 'the sold-out view of a visitor waiting');
  await screenshot(withScript.page, 'page-sold-out-waiting');

  // Without JavaScript the page says it on the next load ("Check again").
  await withoutScript.page.getByRole('link', { name: 'Check again' }).click();
  await withoutScript.page.getByRole('heading', { name: 'Sold out' }).waitFor();
  await withoutScript.page.getByText('Your number is 2.').waitFor();
  await assertAccessibleWithoutScript(browser, withoutScript.page, 'the no-JS sold-out view of a visitor waiting');

  // The join sent from the page loaded before: 410, with the sold-out page, and no place.
  const [answer] = await Promise.all([
    late.page.waitForResponse((r) => r.url().endsWith(`/r/${ROOM}/join`)),
    late.page.getByRole('button', { name: 'Join the line' }).click(),
  ]);
  assert.equal(answer.status(), 410);
  await late.page.getByRole('heading', { name: 'Sold out' }).waitFor();
  await late.page.getByText('Every item has been sold, so no new places are being given.').waitFor();
  assert.equal(await late.page.getByText('cannot give out places').count(), 0);
  assert.equal((await late.context.cookies()).some((c) => c.name === `waitroom_${ROOM}`), false);

  // A newcomer, with and without JavaScript: the sold-out page, no join button.
  for (const javaScriptEnabled of [true, false]) {
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    const r = await page.goto(`${wr.base}/r/${ROOM}`);
    assert.equal(r.status(), 200);
    await page.getByRole('heading', { name: 'Sold out' }).waitFor();
    await page.getByText('If items are returned, the waiting room opens again').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Join the line' }).count(), 0);
    if (javaScriptEnabled) {
      await assertAccessible(page, 'the sold-out view of a newcomer');
      await screenshot(page, 'page-sold-out');
    }
    await context.close();
  }
  const api = await fetch(`${wr.base}/v1/rooms/${ROOM}/tickets`, { method: 'POST' });
  assert.equal(api.status, 410);
  assert.match((await api.json()).detail, /sold out/);

  // Items come back: the open page is the waiting page again, with the same place.
  assert.equal((await inventory({ add: 5 })).left, 5);
  await withScript.page.getByRole('heading', { name: 'You are in line' }).waitFor({ timeout: 2000 });
  assert.equal(await withScript.page.locator('[data-wr="ahead"]').textContent(), '0');
  await withScript.page.getByText('Your number is 1.').waitFor();
  assert.equal((await ticketJson(withScript.ticket)).sold_out, undefined);
  await withoutScript.page.reload();
  await withoutScript.page.getByRole('heading', { name: 'You are in line' }).waitFor();
  assert.equal(await withoutScript.page.locator('[data-wr="ahead"]').textContent(), '1');

  // The line moves on in line order: an advance lets the first in first.
  await wr.admin('POST', `/admin/v1/rooms/${ROOM}/advance`, { by: 1 });
  await until(async () => (await ticketJson(withScript.ticket)).status === 'eligible', 'the first visitor’s turn');
  assert.equal((await ticketJson(withoutScript.ticket)).status, 'waiting');
  await withScript.page.getByRole('heading', { name: "It's your turn" }).waitFor();

  for (const c of [withScript, withoutScript, late]) await c.context.close();
});
