// Sign in to join (a room's `login`: Waitroom as an OpenID Connect relying party of the site's
// identity provider), in a real browser against tests/http/fake_idp.py: a room that requires a
// sign-in offers "Sign in to join" and no "Join the line"; the visitor signs in on the provider's
// form and lands waiting in line, with JavaScript on and off; the same person in a second browser
// gets the same place; Cancel at the provider brings them back to the room page, told so, with no
// place. Axe-clean throughout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO, startWaitroom, launchBrowser, assertAccessible, assertAccessibleWithoutScript, screenshot,
  openPage } from './lib.mjs';

const CLIENT_ID = 'waitroom';
const SECRET = 'browser-test-idp-client-secret-0123456789';
let wr;
let browser;
let idp;

// The fake provider as its own process: it prints its base URL first, then serves until killed.
async function startIdp() {
  const proc = spawn('/usr/bin/python3', [path.join(REPO, 'tests', 'http', 'fake_idp.py'),
    '--client-id', CLIENT_ID, '--client-secret', SECRET], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  proc.stderr.on('data', (d) => log.push(d.toString()));
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`fake_idp.py printed no URL:\n${log.join('')}`)), 15000);
    proc.stdout.on('data', (d) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) { clearTimeout(t); resolve(out.slice(0, nl).trim()); }
    });
    proc.once('exit', (code) => { clearTimeout(t); reject(new Error(`fake_idp.py exited ${code}:\n${log.join('')}`)); });
  });
  const post = async (urlPath, body) => {
    const r = await fetch(base + urlPath, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`fake IdP ${urlPath}: ${r.status} ${await r.text()}`);
  };
  return {
    base,
    post,
    async log() { return (await fetch(`${base}/_test/log`)).json(); },
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((resolve) => proc.once('exit', resolve));
    },
  };
}

before(async () => {
  wr = await startWaitroom();
  idp = await startIdp();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await idp?.stop();
  await wr?.stop();
});

async function loginRoom(name, required = true) {
  await idp.post('/_test/clients', { client_id: CLIENT_ID, redirect_uris: [`${wr.base}/r/${name}/login/callback`] });
  await wr.admin('PUT', `/admin/v1/rooms/${name}`, {
    login: { issuer: idp.base, client_id: CLIENT_ID, client_secret: SECRET, required },
  });
}

async function queueCounter(name) {
  return (await wr.admin('GET', `/admin/v1/rooms/${name}/stats`)).queue_counter;
}

async function ticketCookie(context, name) {
  return (await context.cookies()).find((c) => c.name === `waitroom_${name}`)?.value;
}

// From the room page through the provider's form. Returns once back on Waitroom.
async function signIn(page, name, username, button = 'Sign in') {
  await page.getByRole('button', { name: 'Sign in to join' }).click();
  await page.waitForURL((u) => u.href.startsWith(`${idp.base}/authorize`));
  if (button === 'Sign in') await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: button }).click();
  await page.waitForURL((u) => u.href.startsWith(`${wr.base}/r/${name}`));
}

test('a room that requires a sign-in offers it instead of "Join the line"', async () => {
  await loginRoom('members');
  const { context, page } = await openPage(browser, {});
  try {
    await page.goto(`${wr.base}/r/members`);
    await page.getByRole('button', { name: 'Sign in to join' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Join the line' }).count(), 0);
    await assertAccessible(page, 'the join view of a room that requires a sign-in');
    await screenshot(page, 'page-login-required');
  } finally {
    await context.close();
  }
  // A room where signing in is optional offers both.
  await loginRoom('optional', false);
  const other = await openPage(browser, {});
  try {
    await other.page.goto(`${wr.base}/r/optional`);
    await other.page.getByRole('button', { name: 'Sign in to join' }).waitFor();
    await other.page.getByRole('button', { name: 'Join the line' }).waitFor();
    await assertAccessible(other.page, 'the join view of a room with an optional sign-in');
  } finally {
    await other.context.close();
  }
});

for (const javaScriptEnabled of [true, false]) {
  const how = javaScriptEnabled ? 'with JavaScript' : 'without JavaScript';

  test(`a visitor signs in at the provider and waits in line, ${how}`, async () => {
    const name = `login${javaScriptEnabled ? 'js' : 'nojs'}`;
    await loginRoom(name);
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    try {
      await page.goto(`${wr.base}/r/${name}?lang=en`);
      await signIn(page, name, `visitor-${name}`);
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      assert.ok(await ticketCookie(context, name), 'the ticket cookie is set');
      assert.equal(await queueCounter(name), 1);
      if (javaScriptEnabled) await assertAccessible(page, 'the waiting view after signing in');
      else await assertAccessibleWithoutScript(browser, page, 'the no-JS waiting view after signing in');
      await screenshot(page, `page-login-waiting-${javaScriptEnabled ? 'js' : 'nojs'}`);
    } finally {
      await context.close();
    }
    const log = await idp.log();
    assert.deepEqual(log.errors, [], 'the provider found nothing wrong in the requests');
    assert.deepEqual(log.token.at(-1).basic, [CLIENT_ID, SECRET]);
  });
}

test('the same person in a second browser holds the same place', async () => {
  await loginRoom('twodevices', false);
  // Someone else first, so the place has a number worth comparing.
  const r = await fetch(`${wr.base}/v1/rooms/twodevices/tickets`, { method: 'POST' });
  assert.equal(r.status, 201);
  const tickets = [];
  for (const device of ['laptop', 'phone']) {
    const { context, page } = await openPage(browser, {});
    try {
      await page.goto(`${wr.base}/r/twodevices`);
      await signIn(page, 'twodevices', 'same-person');
      await page.getByRole('heading', { name: 'You are in line' }).waitFor();
      tickets.push(await ticketCookie(context, 'twodevices'));
      if (device === 'phone') await assertAccessible(page, 'the second browser\'s waiting view');
    } finally {
      await context.close();
    }
  }
  assert.ok(tickets[0], 'a ticket cookie');
  assert.equal(tickets[0], tickets[1], 'both browsers hold the same ticket');
  assert.equal(await queueCounter('twodevices'), 2, 'two people, two places');
});

test('Cancel at the provider brings the visitor back with a notice and no place', async () => {
  await loginRoom('cancelled');
  const { context, page } = await openPage(browser, {});
  try {
    await page.goto(`${wr.base}/r/cancelled`);
    await signIn(page, 'cancelled', null, 'Cancel');
    await page.getByText('Sign-in was cancelled').waitFor();
    await page.getByRole('button', { name: 'Sign in to join' }).waitFor();  // and may try again
    assert.equal(await ticketCookie(context, 'cancelled'), undefined);
    assert.equal(await queueCounter('cancelled'), 0);
    await assertAccessible(page, 'the room page after a cancelled sign-in');
    await screenshot(page, 'page-login-cancelled');
  } finally {
    await context.close();
  }
});
