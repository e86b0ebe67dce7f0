// A room's abuse protection as a visitor's browser meets it (docs/security.md): the page solves
// the proof of work by itself before it joins, a pass bound by cookie reaches the protected site
// with its binding cookie, and a full room shows an accessible "full" view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, openPage, assertAccessible, screenshot } from './lib.mjs';

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

test('the page solves a 16-bit proof of work, joins, and its cookie-bound pass opens the gate', async () => {
  await wr.admin('PUT', '/admin/v1/rooms/pow', {
    target_url: `${wr.base}/gate/v1/check?room=pow`,
    abuse: { pow_difficulty_bits: 16, bind_pass: 'cookie' },
  });
  const { context, page } = await openPage(browser);
  await page.goto(`${wr.base}/r/pow`);
  const started = Date.now();
  await page.getByRole('button', { name: /join/i }).click();
  await page.getByRole('heading', { name: /you are in line/i }).waitFor({ timeout: 60000 });
  const solvedMs = Date.now() - started;
  console.log(`# proof of work, 16 bits, solved and joined in ${solvedMs} ms`);
  const stats = await wr.admin('GET', '/admin/v1/rooms/pow/stats');
  assert.equal(stats.queue_counter, 1);
  const metrics = await (await fetch(`${wr.base}/metrics`)).text();
  assert.match(metrics, /waitroom_pow_challenges_total\{room="pow"\} 1\n/);
  assert.match(metrics, /waitroom_abuse_refused_total\{room="pow",reason="proof_of_work"\} 0\n/);

  await wr.admin('POST', '/admin/v1/rooms/pow/advance', { by: 1 });
  await page.getByRole('button', { name: /continue/i }).waitFor();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/gate/v1/check')),
    page.getByRole('button', { name: /continue/i }).click(),
  ]);
  assert.equal(response.status(), 204);
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === 'waitroom-bind-pow' && c.httpOnly), JSON.stringify(cookies));

  // The pass alone, copied into another browser, does not open the gate.
  const pass = cookies.find((c) => c.name === 'waitroom_pass_pow');
  const other = await openPage(browser);
  await other.context.addCookies([pass]);
  const copied = await other.page.request.get(`${wr.base}/gate/v1/check?room=pow`, { maxRedirects: 0,
    headers: { Accept: 'application/json' } });
  assert.equal(copied.status(), 401);
  await other.context.close();
  await context.close();
});

test('a full room shows its "full" view, accessible, without a join button', async () => {
  await wr.admin('PUT', '/admin/v1/rooms/full', { abuse: { max_waiting: 1 } });
  await fetch(`${wr.base}/v1/rooms/full/tickets`, { method: 'POST' });
  const { context, page } = await openPage(browser);
  const response = await page.goto(`${wr.base}/r/full`);
  assert.equal(response.status(), 200);
  await page.getByRole('heading', { name: /the line is full/i }).waitFor();
  assert.equal(await page.getByRole('button', { name: /join/i }).count(), 0);
  await screenshot(page, 'room-page-full');
  await assertAccessible(page, 'the full view');
  await context.close();
});
