// The dashboard with several rooms (issue 17, item 13): each room's controls are landmarks with
// names of their own, the rooms table fits a 400 px phone, a chart's latest point is the figure
// printed beside it, and a room with no estimate says why.
//
// The history is sampled once a minute here ([testing] history_interval_ms), so a chart that
// waited for the next sample would lag the room's figures for the whole test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import AxeBuilder from '@axe-core/playwright';
import { startWaitroom, launchBrowser, screenshot, until, enqueue as enqueueIn } from './lib.mjs';

const WAIT_MS = 15000;

let wr;
let browser;
let context;
let page;

const enqueue = (room) => enqueueIn(wr.base, room);

const card = (room) => page.locator(`section[data-room="${room}"]`);
const fact = (room, name) => card(room).locator(`dd[data-fact="${name}"]`);

before(async () => {
  wr = await startWaitroom('[testing]\nhistory_interval_ms = 60000\n');
  await wr.admin('PUT', '/admin/v1/rooms/alpha', {});
  for (let i = 0; i < 3; i += 1) await enqueue('alpha');
  await wr.admin('PUT', '/admin/v1/rooms/beta', { admission: { mode: 'rate', rate_per_minute: 30 } });
  // "held": its one place is taken by a session, and three visitors wait behind it.
  await wr.admin('PUT', '/admin/v1/rooms/held', { admission: { mode: 'max_active', max_active: 1 } });
  const first = await enqueue('held');
  await until(async () => {
    const r = await fetch(`${wr.base}/v1/rooms/held/tickets/${first}/pass`, { method: 'POST' });
    await r.arrayBuffer();
    return r.status === 200;
  }, 'the first visitor of "held" to get a pass');
  for (let i = 0; i < 3; i += 1) await enqueue('held');

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(`${wr.base}/admin`);
  await page.getByLabel('Admin key').fill(wr.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  for (const room of ['alpha', 'beta', 'held']) await card(room).locator('svg[data-chart="eta"][data-points]').waitFor();
});

after(async () => {
  await browser?.close();
  await wr?.stop();
});

test('with several rooms every landmark has a name of its own (axe landmark-unique)', async () => {
  const result = await new AxeBuilder({ page }).withRules(['landmark-unique']).analyze();
  const detail = result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(detail, []);
});

test('at 400 px the rooms table fits: "Active sessions" is not cut', async () => {
  await page.setViewportSize({ width: 400, height: 800 });
  try {
    await page.waitForTimeout(300);
    const fit = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap');
      const th = [...document.querySelectorAll('#overview th')].find((h) => h.textContent === 'Active sessions');
      const box = th.getBoundingClientRect();
      return { scroll: wrap.scrollWidth, client: wrap.clientWidth, right: box.right, width: window.innerWidth };
    });
    await screenshot(page, 'dashboard-400px');
    assert.ok(fit.scroll <= fit.client, `the table is ${fit.scroll} px wide in ${fit.client} px`);
    assert.ok(fit.right <= fit.width, `"Active sessions" ends at ${fit.right} px of ${fit.width}`);
  } finally {
    await page.setViewportSize({ width: 1280, height: 900 });
  }
});

test("a chart's latest point is the figure beside it", async () => {
  for (let i = 0; i < 4; i += 1) await enqueue('alpha');
  await until(async () => (await fact('alpha', 'waiting').textContent()) === '7', 'alpha to show 7 waiting');
  // The same refresh draws the charts right after the figures.
  await until(async () => (await card('alpha').locator('svg[data-chart="waiting"]').getAttribute('data-latest')) === '7',
    'the waiting chart to end at 7', 3000);
  assert.match(await card('alpha').locator('svg[data-chart="waiting"]').getAttribute('aria-label'), /now 7;/);
});

test('a room held by max_active says why it has no estimate', async () => {
  assert.equal(await fact('held', 'active-sessions').textContent(), '1');
  const why = card('held').locator('[data-why="eta"]');
  await until(async () => /all 1 places are taken/.test(await why.textContent()), 'the reason under the estimate chart');
  assert.ok(await why.isVisible());
  assert.match(await card('held').locator('svg[data-chart="eta"]').getAttribute('aria-label'), /No estimate: all 1 places are taken/);
  // A room that has an estimate gives no reason.
  assert.equal(await card('beta').locator('[data-why="eta"]').isVisible(), false);
});
