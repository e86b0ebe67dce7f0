// A room with a theme (examples/theme: colours and a logo over the built-in template) stays
// accessible; screenshots show it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startWaitroom, launchBrowser, assertAccessible, screenshot, openPage, REPO } from './lib.mjs';

let wr;
let browser;

before(async () => {
  wr = await startWaitroom(`theme_dir = "${path.join(REPO, 'examples', 'theme')}"\n[rooms.brand]\n`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await wr?.stop();
});

test('the example theme keeps the page accessible', async () => {
  const { context, page } = await openPage(browser);
  await page.goto(`${wr.base}/r/brand`);
  assert.match(await page.locator('img.wr-logo').getAttribute('src'), /^\/r\/brand\/theme\/logo\.[0-9a-f]{12}\.svg$/);
  await page.getByRole('button', { name: 'Join the line' }).click();
  await page.getByRole('heading', { name: 'You are in line' }).waitFor();
  const accent = await page.locator('.wr-card').evaluate((el) => getComputedStyle(el).borderTopColor);
  assert.equal(accent, 'rgb(15, 118, 110)');
  await assertAccessible(page, 'the themed waiting view');
  await screenshot(page, 'page-theme-example');
  await context.close();
});
