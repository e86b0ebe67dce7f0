// The dashboard signed in with operator tokens (issue 19): a viewer sees its rooms and no
// controls, an operator no reset, an admin manages tokens (a new one's secret shows once); the
// audit view lists a pause done in the page under the token's name; a revoked token's page says
// its session ended. axe checks each view, and each fits a 400 px phone. One server; each role
// signs in once, in its own browser context.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, openPage, assertAccessible, screenshot, until } from './lib.mjs';

let wr;
let browser;
let viewerToken;
let operator; // { id, token }
const pages = {};

// Signs in with `key` in a browser context of its own; returns its page.
async function signIn(key, options = {}) {
  const { page } = await openPage(browser, { viewport: { width: 1280, height: 900 }, ...options });
  await page.goto(`${wr.base}/admin`);
  await page.getByLabel('Admin key or operator token').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
  return page;
}

const card = (page, room) => page.locator(`section[data-room="${room}"]`);
const views = (page) => page.getByRole('navigation', { name: 'Dashboard sections' });

async function openView(page, name, heading) {
  await views(page).getByRole('link', { name }).click();
  const h = page.getByRole('heading', { name: heading, exact: true, level: 2 });
  await h.waitFor();
  await until(async () => h.evaluate((e) => e === document.activeElement), `focus on the ${heading} heading`);
}

// Nothing runs off a 400 px screen's right edge (a wide table scrolls inside its own box).
async function assertFits400(page, what) {
  await page.setViewportSize({ width: 400, height: 800 });
  try {
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 400, `${what} is ${width} px wide at 400 px`);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
}

before(async () => {
  // The page refreshes every second ([testing] history_interval_ms), so a revoked token's session
  // shows as ended within one.
  wr = await startWaitroom('[testing]\nhistory_interval_ms = 1000\n');
  await wr.admin('PUT', '/admin/v1/rooms/sale', {});
  await wr.admin('PUT', '/admin/v1/rooms/sale', { pass_lifetime_s: 600 });
  await wr.admin('PUT', '/admin/v1/rooms/backstage', {});
  viewerToken = (await wr.admin('POST', '/admin/v1/tokens', { name: 'vera', role: 'viewer', rooms: ['sale'] })).token;
  operator = await wr.admin('POST', '/admin/v1/tokens', { name: 'olga', role: 'operator' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await wr?.stop();
});

test('a viewer token of one room sees that room and no controls at all', async () => {
  const page = await signIn(viewerToken);
  pages.viewer = page;
  await page.getByText('Signed in as vera (viewer; rooms: sale)').waitFor();
  await card(page, 'sale').getByRole('heading', { name: 'Room sale' }).waitFor();
  assert.equal(await card(page, 'backstage').count(), 0, 'a room the token may not use');
  // Reading the history as CSV is all a viewer's room offers.
  assert.equal(await page.locator('#room-list').locator('button:not(.csv-download), input, select, form, textarea').count(), 0);
  assert.equal(await card(page, 'sale').locator('button.csv-download').count(), 1);
  assert.equal(await views(page).getByRole('link', { name: 'Operator tokens' }).count(), 0);
  assert.equal(await page.locator('#tokens').count(), 0);
  await assertAccessible(page, 'the rooms view of a viewer');

  // The audit view: its room filter offers the token's rooms only.
  await openView(page, 'Audit trail', 'Audit trail');
  assert.equal(await views(page).getByRole('link', { name: 'Audit trail' }).getAttribute('aria-current'), 'page');
  assert.equal(await page.getByLabel('Room', { exact: true }).evaluate((e) => e.tagName), 'SELECT');
  // The settings' change, before -> after, by the admin key.
  const change = page.locator('#audit-list > li', { hasText: 'pass_lifetime_s' });
  await change.waitFor();
  assert.match(await change.textContent(), /pass_lifetime_s: \d+ → 600/);
  assert.match(await change.textContent(), /Whoadmin keyFrom/);
  await page.getByText('2 entries shown.').waitFor();
  await assertAccessible(page, 'the audit view of a viewer');
});

test('an operator pauses from the page but has no reset; the audit view names it', async () => {
  const page = await signIn(operator.token);
  pages.operator = page;
  await page.getByText('Signed in as olga (operator)').waitFor();
  const sale = card(page, 'sale');
  await sale.getByRole('button', { name: 'Pause admissions' }).waitFor();
  assert.equal(await sale.getByRole('button', { name: /reset/i }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /reset/i }).count(), 0);
  await sale.getByRole('button', { name: 'Pause admissions' }).click();
  await sale.getByRole('button', { name: 'Resume admissions' }).waitFor();
  assert.equal((await wr.admin('GET', '/admin/v1/rooms/sale')).status, 'paused');

  await openView(page, 'Audit trail', 'Audit trail');
  const newest = page.locator('#audit-list > li').first();
  await newest.waitFor();
  assert.equal(await newest.getAttribute('data-actor'), 'olga');
  assert.equal(await newest.getAttribute('data-action'), 'POST /admin/v1/rooms/{room}/pause');
  const text = await newest.textContent();
  assert.match(text, new RegExp(`olga in the dashboard, token ${operator.id}`));
  assert.match(text, /in room sale/);
  assert.match(text, /127\.0\.0\.1/);
  // The filter by actor keeps it; another name shows nothing.
  await page.getByLabel('Who (a name or token id)').fill('nobody');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.getByText('No entries.').waitFor();
  await page.getByLabel('Who (a name or token id)').fill('olga');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await page.getByText('1 entry shown.').waitFor();
  await assertAccessible(page, 'the audit view of an operator');
  await assertFits400(page, 'the audit view');
  await screenshot(page, 'dashboard-audit');
});

test('an admin creates a token, sees its secret once, and revokes it after a confirmation', async () => {
  const page = await signIn(wr.adminKey, { permissions: ['clipboard-read', 'clipboard-write'] });
  await page.getByText('Signed in with the admin key (admin)').waitFor();
  await card(page, 'sale').getByRole('button', { name: /reset/i }).waitFor();
  await openView(page, 'Operator tokens', 'Operator tokens');
  await assertAccessible(page, 'the tokens view');

  await page.getByLabel('Name (who holds it)').fill('newbie');
  await page.getByLabel('Role').selectOption('operator');
  await page.getByLabel(/^Rooms, separated by commas/).fill('sale');
  await page.getByLabel(/^Expires after days/).fill('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByLabel('The new token');
  await secret.waitFor();
  const value = await secret.inputValue();
  assert.match(value, /^wrt_[0-9a-f]{16}_/);
  await page.getByText('it is shown this once').waitFor();
  await until(async () => page.getByRole('heading', { name: 'Token “newbie” created.' })
    .evaluate((e) => e === document.activeElement), 'focus on the new token');
  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await page.getByText('Copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value);
  await assertAccessible(page, 'the tokens view with a new secret');
  await assertFits400(page, 'the tokens view');
  await screenshot(page, 'dashboard-tokens');

  const row = page.locator('#token-list tr', { has: page.getByRole('rowheader', { name: 'newbie' }) });
  assert.match(await row.textContent(), /operator.*sale.*active/);
  // Its last use: none yet; olga's token was used by the test before.
  assert.equal(await row.locator('.token-last-used').textContent(), 'never used');
  const olga = page.locator('#token-list tr', { has: page.getByRole('rowheader', { name: 'olga' }) });
  assert.notEqual(await olga.locator('.token-last-used').textContent(), 'never used');
  await page.getByRole('button', { name: 'I have copied it' }).click();
  assert.equal(await secret.isVisible(), false);
  assert.ok(!(await page.content()).includes(value), 'the secret left the page');

  // Revoking asks first; cancelling keeps it, confirming revokes it.
  await row.getByRole('button', { name: 'Revoke the token newbie' }).click();
  const dialog = page.getByRole('dialog', { name: 'Revoke the token “newbie”?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByText('Nothing revoked.').waitFor();
  await row.getByRole('button', { name: 'Revoke the token newbie' }).click();
  await dialog.getByRole('button', { name: 'Revoke', exact: true }).click();
  await page.getByText('The token “newbie” is revoked.').waitFor();
  await until(async () => /revoked/.test(await row.textContent()), 'the row to say revoked');
  const { tokens } = await wr.admin('GET', '/admin/v1/tokens');
  assert.ok(tokens.find((t) => t.name === 'newbie').revoked_at, 'revoked on the server');

  await openView(page, 'Rooms', 'Rooms');
  await assertFits400(page, 'the rooms view');
});

test('the audit view reads the trail a page at a time, newest first', async () => {
  for (let i = 1; i <= 55; i++)
    await wr.admin('PUT', '/admin/v1/rooms/sale/message', { text: `Note ${i}` });
  const page = await signIn(wr.adminKey);
  await openView(page, 'Audit trail', 'Audit trail');
  await page.getByText('50 entries shown.').waitFor();
  const entries = page.locator('#audit-list > li');
  assert.match(await entries.first().textContent(), /Note 55/);
  await page.getByRole('button', { name: 'Older entries' }).click();
  await until(async () => (await entries.count()) > 50, 'the next page');
  const ids = await entries.evaluateAll((items) => items.map((li) => Number(li.dataset.auditId)));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first, no entry twice');
  assert.equal(new Set(ids).size, ids.length);
  assert.match(await entries.nth(50).textContent(), /Note 5\b/);
  await page.close();
});

test("revoking the operator's token ends its page's session", async () => {
  const page = pages.operator;
  await wr.admin('DELETE', `/admin/v1/tokens/${operator.id}`);
  await page.getByText('Your session has ended.').waitFor();
  await page.getByRole('link', { name: 'Sign in again' }).click();
  await page.getByLabel('Admin key or operator token').waitFor();
});
