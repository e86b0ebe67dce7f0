// The server-rendered room page in a real browser: a visitor joins, waits, is let in by the
// operator and lands on the target with a pass the gate accepts — with JavaScript off, as the
// page must work without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, assertAccessibleWithoutScript, screenshot } from './lib.mjs';

let wr;
let browser;

before(async () => {
  wr = await startWaitroom();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await wr?.stop();
});

test('with JavaScript off a visitor can wait and get in', async () => {
  await wr.admin('PUT', '/admin/v1/rooms/nojs', { target_url: `${wr.base}/gate/v1/check?room=nojs` });
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  await page.goto(`${wr.base}/r/nojs`);
  await page.getByRole('button', { name: /join/i }).click();
  await assert.doesNotReject(page.getByRole('heading', { name: /you are in line/i }).waitFor());
  await screenshot(page, 'room-page-nojs-waiting');
  await assertAccessibleWithoutScript(browser, page, 'the no-JS waiting view');

  await wr.admin('POST', '/admin/v1/rooms/nojs/advance', { by: 1 });
  await page.getByRole('link', { name: /check again/i }).click();  // a link: a plain reload of this view
  await assert.doesNotReject(page.getByRole('heading', { name: /your turn/i }).waitFor());
  await screenshot(page, 'room-page-nojs-eligible');
  await assertAccessibleWithoutScript(browser, page, 'the no-JS eligible view');

  // "Continue" claims the pass and sends the visitor to the target: here the gate itself, which
  // answers 204 only for a live pass carried by the cookie the page set.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/gate/v1/check')),
    page.getByRole('button', { name: /continue/i }).click(),
  ]);
  assert.equal(response.status(), 204);
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === 'waitroom_pass_nojs' && c.httpOnly), JSON.stringify(cookies));
  await context.close();
});
