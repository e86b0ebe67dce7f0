// Access codes on the room page (docs/admission.md, "Lanes and access codes"): a visitor types
// the code when joining, or while already waiting, with JavaScript on and off, lands in the code's
// lane and the page says so; a refused code is named in the page's notice. Axe-clean throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, assertAccessible, assertAccessibleWithoutScript, screenshot,
  openPage } from './lib.mjs';

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

// A room with a VIP lane, two visitors in the default line already, and a code for the lane.
async function laneRoom(name) {
  await wr.admin('PUT', `/admin/v1/rooms/${name}`, { lanes: [{ name: 'vip', share: 0.3 }] });
  for (let i = 0; i < 2; i++) {
    const r = await fetch(`${wr.base}/v1/rooms/${name}/tickets`, { method: 'POST' });
    assert.equal(r.status, 201);
  }
  return (await wr.admin('POST', `/admin/v1/rooms/${name}/codes`, { lane: 'vip', uses: 5 })).code;
}

for (const javaScriptEnabled of [true, false]) {
  const how = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';

  test(`a code typed when joining puts the visitor in its lane, ${how}`, async () => {
    const name = `code${javaScriptEnabled ? 'js' : 'nojs'}`;
    const code = await laneRoom(name);
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    try {
      await page.goto(`${wr.base}/r/${name}`);
      // A wrong code first: the page says so and gives no place.
      await page.getByText('Have an access code?').click();
      await page.getByLabel('Access code').fill('NOT-A-REAL-CODE');
      await page.getByRole('button', { name: 'Join the line' }).click();
      await page.getByText('This access code is not valid here').waitFor();
      assert.equal((await wr.admin('GET', `/admin/v1/rooms/${name}/stats`)).queue_counter, 2);

      await page.getByText('Have an access code?').click();
      await page.getByLabel('Access code').fill(code.toLowerCase());
      await page.getByRole('button', { name: 'Join the line' }).click();
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      await page.getByText('You are in the “vip” line').waitFor();
      // Two wait in the default line, nobody in the VIP lane: nobody is ahead of this visitor.
      assert.equal(await page.locator('[data-wr="ahead"]').textContent(), '0');
      if (javaScriptEnabled) await assertAccessible(page, 'the waiting view in a lane');
      else await assertAccessibleWithoutScript(browser, page, 'the no-JS waiting view in a lane');
      await screenshot(page, `page-lane-${javaScriptEnabled ? 'js' : 'nojs'}`);
    } finally {
      await context.close();
    }
  });

  test(`a visitor already waiting moves to the code's lane, ${how}`, async () => {
    const name = `move${javaScriptEnabled ? 'js' : 'nojs'}`;
    const code = await laneRoom(name);
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    try {
      await page.goto(`${wr.base}/r/${name}`);
      await page.getByRole('button', { name: 'Join the line' }).click();
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      assert.equal(await page.locator('[data-wr="ahead"]').textContent(), '2');
      if (javaScriptEnabled) await assertAccessible(page, 'the waiting view with the code form');
      await page.getByText('Have an access code?').click();
      await page.getByLabel('Access code').fill(code);
      await page.getByRole('button', { name: 'Use the code' }).click();
      await page.getByText('You are in the “vip” line').waitFor();
      assert.equal(await page.locator('[data-wr="ahead"]').textContent(), '0');
      const stats = await wr.admin('GET', `/admin/v1/rooms/${name}/stats`);
      assert.equal(stats.waiting, 3, `the old place is given up: ${JSON.stringify(stats)}`);
    } finally {
      await context.close();
    }
  });
}
