// Invitations on the room page (docs/admission.md, "Invitations"): an invite_only room shows a
// visitor without an invitation why there is no join button; the site's link (?invite=) joins
// them in the invitation's lane, with JavaScript on and off; a used link opened elsewhere is
// refused and the page says so; one person's links in two browsers hold one place. Axe-clean
// throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startWaitroom, launchBrowser, assertAccessible, assertAccessibleWithoutScript, screenshot,
  openPage } from './lib.mjs';

const SECRET = 'the shop and the room share this HS256 secret';
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

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

// What the shop's server does: an HS256 invitation for `room`, good for an hour.
function invitation(room, claims) {
  const head = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'shop', typ: 'JWT' }))}.${b64url(
    JSON.stringify({ aud: room, jti: crypto.randomUUID(), exp: Math.floor(Date.now() / 1000) + 3600,
      ...claims }))}`;
  return `${head}.${crypto.createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

async function inviteOnlyRoom(name) {
  await wr.admin('PUT', `/admin/v1/rooms/${name}`, {
    invite_only: true,
    invitations: { keys: [{ kid: 'shop', alg: 'HS256', secret: SECRET }] },
    lanes: [{ name: 'members', share: 0.3 }],
  });
}

test('an invite_only room tells a visitor without an invitation how to get in', async () => {
  await inviteOnlyRoom('members');
  const { context, page } = await openPage(browser, {});
  try {
    await page.goto(`${wr.base}/r/members`);
    await page.getByText('This room admits by invitation only').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Join the line' }).count(), 0);
    await assertAccessible(page, 'the invite-only join view');
    await screenshot(page, 'page-invite-only');
  } finally {
    await context.close();
  }
});

for (const javaScriptEnabled of [true, false]) {
  const how = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';

  test(`the site's invitation link joins the visitor in its lane, ${how}`, async () => {
    const name = `invite${javaScriptEnabled ? 'js' : 'nojs'}`;
    await inviteOnlyRoom(name);
    const link = `${wr.base}/r/${name}?invite=${invitation(name, { sub: 'acct-1', lane: 'members' })}`;
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    try {
      await page.goto(link);
      await page.getByRole('button', { name: 'Join the line' }).click();
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      await page.getByText('You are in the “members” line').waitFor();
      if (javaScriptEnabled) await assertAccessible(page, 'the waiting view of an invited visitor');
      else await assertAccessibleWithoutScript(browser, page, 'the no-JS waiting view, invited');
    } finally {
      await context.close();
    }
    // The same link in another browser: used already, and the page says so.
    const other = await openPage(browser, { javaScriptEnabled });
    try {
      await other.page.goto(link);
      await other.page.getByRole('button', { name: 'Join the line' }).click();
      await other.page.getByText('This invitation link does not work').waitFor();
      if (javaScriptEnabled) await assertAccessible(other.page, 'a refused invitation');
      const stats = await wr.admin('GET', `/admin/v1/rooms/${name}/stats`);
      assert.equal(stats.queue_counter, 1, `one place for one invitation: ${JSON.stringify(stats)}`);
    } finally {
      await other.context.close();
    }
  });
}

test('one person on two devices holds one place', async () => {
  await inviteOnlyRoom('oneplace');
  // Someone else first, so the place has a number worth comparing.
  const other = await fetch(`${wr.base}/v1/rooms/oneplace/tickets`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ invite: invitation('oneplace', { sub: 'acct-other' }) }),
  });
  assert.equal(other.status, 201);
  const places = [];
  for (const device of ['laptop', 'phone']) {
    const { context, page } = await openPage(browser, {});
    try {
      // The shop signs a fresh link for each page it shows; both are for account acct-9.
      await page.goto(`${wr.base}/r/oneplace?invite=${invitation('oneplace', { sub: 'acct-9' })}`);
      await page.getByRole('button', { name: 'Join the line' }).click();
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      places.push((await context.cookies()).find((c) => c.name === 'waitroom_oneplace').value);
      if (device === 'phone') await assertAccessible(page, 'the second device\'s waiting view');
    } finally {
      await context.close();
    }
  }
  assert.equal(places[0], places[1], 'both devices hold the same ticket');
  const stats = await wr.admin('GET', '/admin/v1/rooms/oneplace/stats');
  assert.equal(stats.queue_counter, 2, `two people, two places: ${JSON.stringify(stats)}`);
});
