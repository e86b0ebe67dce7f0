// Party tickets on the room page (docs/admission.md, "Party tickets"): a room that takes parties
// asks how many come along, with JavaScript on and off; the place is for that many, the waiting
// page says so, and the ticket counts them. Axe-clean throughout.
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

for (const javaScriptEnabled of [true, false]) {
  const how = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';

  test(`a visitor joins for their party, ${how}`, async () => {
    const name = `party${javaScriptEnabled ? 'js' : 'nojs'}`;
    await wr.admin('PUT', `/admin/v1/rooms/${name}`, { max_party_size: 4 });
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    try {
      await page.goto(`${wr.base}/r/${name}`);
      const size = page.getByLabel('How many people, you included?');
      assert.equal(await size.inputValue(), '1');
      assert.equal(await size.locator('option').count(), 4);
      if (javaScriptEnabled) await assertAccessible(page, 'the join view with a party size');
      else await assertAccessibleWithoutScript(browser, page, 'the no-JS join view, party size');
      await size.selectOption('3');
      await page.getByRole('button', { name: 'Join the line' }).click();
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      await page.getByText('Your place is for 3 people').waitFor();
      if (javaScriptEnabled) await assertAccessible(page, 'the waiting view of a party');
      await screenshot(page, `page-party-${javaScriptEnabled ? 'js' : 'nojs'}`);
      const cookie = (await context.cookies()).find((c) => c.name === `waitroom_${name}`);
      const ticket = await (await fetch(`${wr.base}/v1/rooms/${name}/tickets/${cookie.value}`)).json();
      assert.equal(ticket.party_size, 3);
    } finally {
      await context.close();
    }
  });
}

test('a room without parties does not ask', async () => {
  await wr.admin('PUT', '/admin/v1/rooms/single', {});
  const { context, page } = await openPage(browser, {});
  try {
    await page.goto(`${wr.base}/r/single`);
    await page.getByRole('button', { name: 'Join the line' }).waitFor();
    assert.equal(await page.getByLabel('How many people, you included?').count(), 0);
  } finally {
    await context.close();
  }
});
