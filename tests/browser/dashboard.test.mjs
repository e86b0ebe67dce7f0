// The operator dashboard at /admin in a real browser: sign in with the admin key, see every
// room, and drive the controls — advance, pause and resume, change the admission policy, reset
// behind a confirmation — watching the room and its charts change. axe checks the signed-out and
// signed-in views; screenshots go to build/test-artifacts/ (dashboard-signin.png, dashboard.png,
// and the dashboard in German and Japanese: dashboard-de.png, dashboard-ja.png).
//
// The history is sampled every 50 ms here ([testing] history_interval_ms), so the charts cover
// the last 18 s and move within a second instead of ten.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startWaitroom,
  launchBrowser,
  assertAccessible,
  screenshot,
  until,
  enqueue as enqueueIn,
} from './lib.mjs';

const HISTORY_INTERVAL_MS = 50;
const WAIT_MS = 15000;

let wr;
let browser;
let context;
let page;
let traffic;

const enqueue = (room) => enqueueIn(wr.base, room);

// Visitors keep arriving in room `sale` and claim their pass once let in, so that every chart
// has something to show.
function startTraffic(room) {
  const unclaimed = [];
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      unclaimed.push(await enqueue(room));
      for (const t of unclaimed.slice(0, 5)) {
        const r = await fetch(`${wr.base}/v1/rooms/${room}/tickets/${t}/pass`, { method: 'POST' });
        await r.arrayBuffer();
        if (r.status === 200) unclaimed.splice(unclaimed.indexOf(t), 1);
      }
    } catch {
      // the server is stopping
    } finally {
      busy = false;
    }
  }, 150);
  return () => clearInterval(timer);
}

const card = (room) => page.locator(`section[data-room="${room}"]`);
const fact = (room, name) => card(room).locator(`dd[data-fact="${name}"]`);
const chartLabel = (room, key) => card(room).locator(`svg[data-chart="${key}"]`).getAttribute('aria-label');
const roomState = (room) => wr.admin('GET', `/admin/v1/rooms/${room}`);

before(async () => {
  wr = await startWaitroom(`[testing]\nhistory_interval_ms = ${HISTORY_INTERVAL_MS}\n`);
  await wr.admin('PUT', '/admin/v1/rooms/sale', { target_url: 'https://shop.example/' });
  await wr.admin('PUT', '/admin/v1/rooms/scratch', {});
  for (let i = 0; i < 3; i += 1) await enqueue('scratch');
  traffic = startTraffic('sale');
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
});

after(async () => {
  traffic?.();
  await browser?.close();
  await wr?.stop();
});

test('signed out, /admin is an accessible sign-in form that refuses a wrong key', async () => {
  await page.goto(`${wr.base}/admin`);
  await page.getByRole('heading', { name: 'Waitroom dashboard' }).waitFor();
  const key = page.getByLabel('Admin key');
  assert.equal(await key.getAttribute('type'), 'password');
  await assertAccessible(page, 'the sign-in form');
  await screenshot(page, 'dashboard-signin');

  await key.fill('not-the-admin-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not the admin key' }).waitFor();
  assert.equal(await page.getByLabel('Admin key').getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'the sign-in form with an error');
  assert.equal((await context.cookies()).filter((c) => c.name === 'waitroom_admin').length, 0);
});

test('signing in shows every room with its numbers and charts', async () => {
  await page.getByLabel('Admin key').fill(wr.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Rooms', exact: true }).waitFor();
  const [cookie] = (await context.cookies()).filter((c) => c.name === 'waitroom_admin');
  assert.ok(cookie, 'a session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/admin');

  for (const room of ['sale', 'scratch']) {
    await page.locator(`#overview tr[data-room="${room}"]`).waitFor();
    await card(room).getByRole('heading', { name: `Room ${room}` }).waitFor();
  }
  await until(async () => Number(await fact('scratch', 'queue-length').textContent()) === 3, 'scratch to show 3 in line');
  // Four charts per room, each an image whose label says what it shows now. (Nobody has been
  // let in yet, so there is no pace and no estimate.)
  for (const key of ['waiting', 'admissions', 'sessions', 'eta']) {
    const svg = card('sale').locator(`svg[data-chart="${key}"]`);
    assert.equal(await svg.getAttribute('role'), 'img');
    await until(async () => !/loading/.test(await svg.getAttribute('aria-label')), `the ${key} chart to draw`);
  }
  assert.match(await chartLabel('sale', 'eta'), /^Wait: estimated and actual over the last 18 seconds: no data yet\. No estimate: the line moves only when you let visitors in\.$/);
  assert.match(await chartLabel('sale', 'waiting'), /^Waiting in line over the last 18 seconds: now \d+; highest \d+/);
  await assertAccessible(page, 'the dashboard');
});

test('advance lets visitors in: serving moves and the admissions chart rises', async () => {
  const sale = card('sale');
  await until(async () => Number(await fact('sale', 'waiting').textContent()) >= 3, 'three visitors waiting in sale');
  const before = (await roomState('sale')).serving;
  await sale.getByLabel('Let in the next').fill('3');
  await sale.getByRole('button', { name: 'Advance', exact: true }).click();
  await sale.getByText(`serving is now ${before + 3}`).waitFor();
  assert.equal((await roomState('sale')).serving, before + 3);
  await until(async () => Number(await fact('sale', 'serving').textContent()) === before + 3, 'the serving fact to update');
  await until(async () => {
    const m = /now ([\d.,]+)/.exec(await chartLabel('sale', 'admissions'));
    return m && Number(m[1].replace(/,/g, '')) > 0;
  }, 'the admissions chart to show admissions');
  // The visitors let in claim their passes: active sessions follow.
  await until(async () => /now [1-9]/.test(await chartLabel('sale', 'sessions')), 'the active-sessions chart to rise');
});

test('the range choice shows the kept minutes over 24 hours or 7 days, and the last hour again', async () => {
  const range = page.getByRole('group', { name: 'Charts show' });
  for (const [name, step, window] of [['24 hours', 300, 'the last 24 hours'], ['7 days', 1800, 'the last 7 days']]) {
    const asked = page.waitForRequest((r) => r.url().includes(`/admin/v1/rooms/sale/history?step=${step}&from=`));
    await range.getByRole('radio', { name }).check();
    await asked;
    await until(async () => (await chartLabel('sale', 'waiting')).startsWith(`Waiting in line over ${window}: `), `the ${name} charts`);
  }
  await range.getByRole('radio', { name: '1 hour' }).check();
  await until(async () => (await chartLabel('sale', 'waiting')).startsWith('Waiting in line over the last 18 seconds: '), 'the last hour again');
});

test('an error from the API is shown next to the control', async () => {
  const sale = card('sale');
  await sale.getByLabel('Mode', { exact: true }).selectOption('max_active');
  await sale.getByLabel('Max active sessions').fill('');
  await sale.getByRole('button', { name: 'Apply policy' }).click();
  const msg = sale.locator('form', { has: page.getByRole('button', { name: 'Apply policy' }) }).locator('.msg');
  await until(async () => /^Not done: .*max_active/.test(await msg.textContent()), 'the API error');
  assert.equal(await msg.getAttribute('aria-live'), 'polite');
  assert.equal((await roomState('sale')).admission.mode, 'manual');
});

test('the policy changes to 120 visitors a minute and the room admits by itself', async () => {
  const sale = card('sale');
  await sale.getByLabel('Mode', { exact: true }).selectOption('rate');
  await sale.getByLabel('Visitors per minute', { exact: true }).fill('120');
  await sale.getByRole('button', { name: 'Apply policy' }).click();
  await sale.getByText('Policy applied: rate · 120/min').waitFor();
  const room = await roomState('sale');
  assert.equal(room.admission.mode, 'rate');
  assert.equal(room.admission.rate_per_minute, 120);
  assert.equal(room.admission.max_active ?? null, null);
  await until(async () => (await fact('sale', 'policy').textContent()) === 'rate · 120/min', 'the policy fact');
  await until(async () => (await page.locator('#overview tr[data-room="sale"] td').last().textContent()) === 'rate · 120/min', 'the overview row');
  const served = room.serving;
  await until(async () => (await roomState('sale')).serving > served, 'the rate policy to admit someone');
});

test('pause and resume, from the keyboard', async () => {
  const sale = card('sale');
  await sale.getByRole('button', { name: 'Pause admissions' }).focus();
  await page.keyboard.press('Enter');
  await sale.getByText('Paused: nobody is let in').waitFor();
  assert.equal((await roomState('sale')).status, 'paused');
  await until(async () => (await fact('sale', 'status').textContent()) === 'paused', 'the status fact');
  // The button pressed gave way to Resume, which has the focus now.
  const resume = sale.getByRole('button', { name: 'Resume admissions' });
  await resume.waitFor();
  assert.equal(await resume.evaluate((b) => b === document.activeElement), true);
  const servingPaused = (await roomState('sale')).serving;
  await new Promise((r) => setTimeout(r, 1200));  // the rate of 2/s would admit someone
  assert.equal((await roomState('sale')).serving, servingPaused, 'a paused room admits nobody');
  await page.keyboard.press('Enter');
  await sale.getByText('Resumed: admissions run again').waitFor();
  assert.equal((await roomState('sale')).status, 'open');
  await until(async () => (await roomState('sale')).serving > servingPaused, 'admissions after resuming');
});

test('reset asks for the room name; cancelling changes nothing', async () => {
  const scratch = card('scratch');
  const start = await roomState('scratch');
  assert.equal(start.queue_length, 3);

  // Cancel.
  await scratch.getByRole('button', { name: 'Reset room…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Reset room scratch?' });
  await dialog.waitFor();
  await assertAccessible(page, 'the reset dialog');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await scratch.getByText('Reset cancelled; nothing changed.').waitFor();
  // Escape closes it too.
  await scratch.getByRole('button', { name: 'Reset room…' }).click();
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  // A wrong name does not reset.
  await scratch.getByRole('button', { name: 'Reset room…' }).click();
  await dialog.getByLabel('Type scratch to confirm').fill('scratc');
  await dialog.getByRole('button', { name: 'Reset room' }).click();
  await dialog.getByText('Type scratch exactly to confirm the reset.').waitFor();
  let now = await roomState('scratch');
  assert.equal(now.epoch, start.epoch);
  assert.equal(now.queue_length, 3);

  // Confirmed.
  await dialog.getByLabel('Type scratch to confirm').fill('scratch');
  await dialog.getByRole('button', { name: 'Reset room' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await scratch.getByText(/Room reset: the line is empty/).waitFor();
  now = await roomState('scratch');
  assert.equal(now.epoch, start.epoch + 1);
  assert.equal(now.queue_length, 0);
  await until(async () => Number(await fact('scratch', 'queue-length').textContent()) === 0, 'the card to show the reset');
});

test('the dashboard with live charts: axe and a screenshot', async () => {
  // Let the charts fill most of their 18 s window.
  await new Promise((r) => setTimeout(r, 6000));
  await until(async () => /now [1-9]/.test(await chartLabel('sale', 'waiting')), 'people waiting in sale');
  await page.evaluate(() => window.scrollTo(0, 0));
  await assertAccessible(page, 'the dashboard with data');
  await screenshot(page, 'dashboard');
});

// A second operator in their own browser, in German by ?lang=de: the choice survives signing in,
// and the script's own words, numbers and chart labels are German too.
test('the dashboard in German (?lang=de), with data: translated, accessible, screenshot', async () => {
  const de = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const p = await de.newPage();
    p.setDefaultTimeout(WAIT_MS);
    await p.goto(`${wr.base}/admin?lang=de`);
    await p.getByRole('heading', { name: 'Waitroom-Dashboard' }).waitFor();
    assert.equal(await p.locator('html').getAttribute('lang'), 'de');
    await assertAccessible(p, 'the German sign-in form');
    await p.getByLabel('Admin-Schlüssel').fill('not-the-admin-key');
    await p.getByRole('button', { name: 'Anmelden' }).click();
    await p.getByRole('alert').filter({ hasText: 'Das ist nicht der Admin-Schlüssel.' }).waitFor();
    await p.getByLabel('Admin-Schlüssel').fill(wr.adminKey);
    await p.getByRole('button', { name: 'Anmelden' }).click();
    await p.getByRole('heading', { name: 'Räume', exact: true }).waitFor();
    assert.equal(new URL(p.url()).search, '?lang=de');
    assert.equal(await p.locator('html').getAttribute('lang'), 'de');

    const sale = p.locator('section[data-room="sale"]');
    await sale.getByRole('heading', { name: 'Raum sale' }).waitFor();
    for (const title of ['In der Warteschlange', 'Einlässe pro Minute', 'Aktive Sitzungen', 'Wartezeit: geschätzt und tatsächlich']) {
      await sale.locator('figcaption > span:first-child', { hasText: new RegExp(`^${title}$`) }).waitFor();
    }
    await sale.getByRole('button', { name: 'Einlass anhalten' }).waitFor();
    await sale.getByRole('button', { name: 'Regel anwenden' }).waitFor();
    await sale.getByLabel('Anzahl der Nächsten, die hinein dürfen').waitFor();
    assert.equal(await sale.locator('dd[data-fact="status"]').textContent(), 'offen');
    await until(async () => /^In der Warteschlange in den letzten 18 Sekunden: jetzt [1-9][\d.]*; Höchstwert /
      .test(await sale.locator('svg[data-chart="waiting"]').getAttribute('aria-label')), 'the German chart label');
    assert.equal(await sale.locator('svg[data-chart="waiting"] text', { hasText: 'jetzt' }).count(), 1);
    await p.locator('#updated', { hasText: /^Aktualisiert um / }).waitFor();

    // The confirmation dialog, in German.
    const scratch = p.locator('section[data-room="scratch"]');
    await scratch.getByRole('button', { name: 'Raum zurücksetzen\u00a0…' }).click();
    const dialog = p.getByRole('dialog', { name: 'Raum scratch zurücksetzen?' });
    await dialog.waitFor();
    await dialog.getByLabel('Geben Sie zur Bestätigung scratch ein').waitFor();
    await assertAccessible(p, 'the German reset dialog');
    await dialog.getByRole('button', { name: 'Abbrechen' }).click();
    await scratch.getByText('Zurücksetzen abgebrochen; nichts wurde geändert.').waitFor();

    await p.evaluate(() => window.scrollTo(0, 0));
    await assertAccessible(p, 'the German dashboard with data');
    await screenshot(p, 'dashboard-de');
  } finally {
    await de.close();
  }
});

// Japanese from the browser's language (Accept-Language), with no ?lang= at all.
test('the dashboard in Japanese from Accept-Language: accessible, screenshot', async () => {
  const ja = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ja-JP' });
  try {
    const p = await ja.newPage();
    p.setDefaultTimeout(WAIT_MS);
    await p.goto(`${wr.base}/admin`);
    assert.equal(await p.locator('html').getAttribute('lang'), 'ja');
    await p.getByLabel('管理キー').fill(wr.adminKey);
    await p.getByRole('button', { name: 'サインイン' }).click();
    await p.getByRole('heading', { name: 'ルーム', exact: true }).waitFor();
    assert.equal(new URL(p.url()).search, '');
    const sale = p.locator('section[data-room="sale"]');
    await sale.locator('figcaption', { hasText: '列で待っている人数' }).waitFor();
    await sale.getByRole('button', { name: '入場を一時停止' }).waitFor();
    await until(async () => /^列で待っている人数（過去18秒間）：現在 [1-9]/
      .test(await sale.locator('svg[data-chart="waiting"]').getAttribute('aria-label')), 'the Japanese chart label');
    await p.evaluate(() => window.scrollTo(0, 0));
    await assertAccessible(p, 'the Japanese dashboard with data');
    await screenshot(p, 'dashboard-ja');
  } finally {
    await ja.close();
  }
});

test('the session cannot change anything without its CSRF token, and sign-out ends it', async () => {
  const status = await page.evaluate(async () => {
    const r = await fetch('/admin/v1/rooms/sale/pause', { method: 'POST' });
    return r.status;
  });
  assert.equal(status, 403);
  assert.equal((await roomState('sale')).status, 'open');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin key').waitFor();
  const after = await page.evaluate(async () => (await fetch('/admin/v1/rooms')).status);
  assert.equal(after, 401);
});
