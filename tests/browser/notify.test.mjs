// Leave and come back (issue 22): a waiting visitor presses "Notify me", gives an e-mail address,
// sees the confirmation and closes the page. The line moves; the server mails "almost your turn"
// and then "it's your turn" through a real SMTP exchange (a local aiosmtpd that writes each mail it
// gets to a folder). The mail's link, opened in a fresh browser (no cookie of the first), restores
// the place: the eligible view, Continue, the target. Once the place is claimed the address is
// erased (the ticket shows no notice), and no event nor log line ever carried it. Without
// JavaScript the same form works as a plain post, and a refused address comes back as the page's
// notice. The service worker push notices need is served at the site's root, and the page
// registers it, and asks for permission, only when the visitor presses "Notify me on this device".
//
// The room is manual (the operator advances it) and notify_ahead = 1, so "almost your turn" is
// due as soon as the visitor, first in line, asks for it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, freePort, launchBrowser, openPage, assertAccessible, assertAccessibleWithoutScript,
  screenshot, until } from './lib.mjs';

const ROOM = 'drop';
const ADDRESS = 'visitor.22@example.test';
const BINARY = process.env.WAITROOM_BIN || path.join(REPO, 'build', 'asan', 'waitroom');
// Debian's python, where python3-aiosmtpd is installed (scripts/bootstrap).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const ADMIN_KEY = 'browser-test-admin-key-0123456789';

// A mail server on loopback that takes every mail and writes it to `folder` as JSON: the envelope,
// the headers that matter, and the plain-text and HTML bodies decoded (quoted-printable undone).
const SMTP_SERVER = String.raw`
import asyncio, email, email.policy, json, os, sys, time
from aiosmtpd.controller import Controller

folder, port = sys.argv[1], int(sys.argv[2])

class Keep:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        def part(kind):
            p = msg.get_body(preferencelist=(kind,))
            return p.get_content() if p is not None else ''
        record = {
            'mail_from': envelope.mail_from,
            'rcpt_tos': envelope.rcpt_tos,
            'from': str(msg['From'] or ''),
            'to': str(msg['To'] or ''),
            'subject': str(msg['Subject'] or ''),
            'auto_submitted': str(msg['Auto-Submitted'] or ''),
            'text': part('plain'),
            'html': part('html'),
        }
        name = os.path.join(folder, '%d.json' % time.time_ns())
        with open(name + '.tmp', 'w', encoding='utf-8') as f:
            json.dump(record, f)
        os.rename(name + '.tmp', name)
        return '250 OK'

controller = Controller(Keep(), hostname='127.0.0.1', port=port)
controller.start()
print('ready', flush=True)
try:
    asyncio.get_event_loop().run_until_complete(asyncio.sleep(10**9))
except KeyboardInterrupt:
    pass
`;

let dir;
let smtp;
let mails;
let wr;
let browser;

async function startSmtp() {
  const port = await freePort();
  const script = path.join(dir, 'smtp_server.py');
  writeFileSync(script, SMTP_SERVER);
  const proc = spawn(PYTHON, [script, mails, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  proc.stderr.on('data', (d) => out.push(d.toString()));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`aiosmtpd did not start:\n${out.join('')}`)), 15000);
    proc.stdout.on('data', (d) => {
      if (d.toString().includes('ready')) { clearTimeout(t); resolve(); }
    });
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`aiosmtpd exited ${code} (is python3-aiosmtpd installed? scripts/bootstrap):\n${out.join('')}`));
    });
  });
  return { port, proc };
}

// Like lib.mjs's startWaitroom, but the port is chosen first: the config's public_url names it,
// so the mails' links point back at this very server.
async function startWaitroomWithPublicUrl(configFor) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = path.join(dir, 'waitroom.toml');
  writeFileSync(config, configFor(base));
  const log = [];
  const proc = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'),
                              '--config', config, '--durability', 'relaxed'], {
    env: { ...process.env, WAITROOM_ADMIN_KEY: ADMIN_KEY, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => log.push(d.toString()));
  proc.stderr.on('data', (d) => log.push(d.toString()));
  await until(async () => {
    if (proc.exitCode !== null) throw new Error(`waitroom exited ${proc.exitCode}:\n${log.join('')}`);
    return (await fetch(`${base}/readyz`)).ok;
  }, `waitroom ready:\n${log.join('')}`);
  const admin = async (method, urlPath, body) => {
    const r = await fetch(base + urlPath, {
      method,
      headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${urlPath}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    base, admin, log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((resolve) => {
          const t = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, 5000);
          proc.once('exit', () => { clearTimeout(t); resolve(); });
        });
      }
      const sanitizer = log.join('').match(/ERROR: AddressSanitizer|runtime error:/);
      if (sanitizer) throw new Error(`sanitizer report in waitroom's log:\n${log.join('')}`);
    },
  };
}

function received() {
  return readdirSync(mails).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(path.join(mails, f), 'utf8')));
}

async function mailWithSubject(subject) {
  return until(() => received().find((m) => m.subject === subject), `a mail "${subject}"`, 20000);
}

const ticketJson = async (id, room = ROOM) => (await fetch(`${wr.base}/v1/rooms/${room}/tickets/${id}`)).json();

async function allEvents(room) {
  const events = [];
  let after = 0;
  for (;;) {
    const page = await wr.admin('GET', `/admin/v1/events?room=${room}&after=${after}&limit=1000`);
    events.push(...page.events);
    if (!page.events.length || page.next_after === undefined || page.next_after === after) return events;
    after = page.next_after;
  }
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'waitroom-notify-'));
  mails = path.join(dir, 'mails');
  mkdirSync(mails);
  smtp = await startSmtp();
  wr = await startWaitroomWithPublicUrl((base) => [
    `public_url = "${base}"`,
    'keep_events = true',
    '',
    '[smtp]',
    'host = "127.0.0.1"',
    `port = ${smtp.port}`,
    'starttls = "off"',
    'from = "Waitroom <queue@example.test>"',
    '',
    '[push]',
    'subject = "mailto:ops@example.test"',
    '',
  ].join('\n'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  try {
    await wr?.stop();
  } finally {
    smtp?.proc.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

test('notified by e-mail, a visitor who closed the page comes back by the link and goes in', async () => {
  await wr.admin('PUT', `/admin/v1/rooms/${ROOM}`, {
    target_url: `${wr.base}/gate/v1/check?room=${ROOM}`,
    admission: { mode: 'manual' },
    away_max_s: 3600,
    notify_ahead: 1,
  });
  const setup = await (await fetch(`${wr.base}/v1/notify`)).json();
  assert.deepEqual(setup.channels, ['push', 'email'], 'no [[webhooks]]: no webhook channel');
  // The applicationServerKey: an uncompressed P-256 point (65 bytes), base64url.
  assert.match(setup.push.public_key, /^B[A-Za-z0-9_-]{86}$/);

  // The visitor joins and asks to be told by e-mail.
  const first = await openPage(browser);
  const { page } = first;
  await page.goto(`${wr.base}/r/${ROOM}`);
  await page.getByRole('button', { name: 'Join the line' }).click();
  await page.getByRole('heading', { name: 'You are in line' }).waitFor();
  const ticket = (await first.context.cookies()).find((c) => c.name === `waitroom_${ROOM}`).value;
  await page.getByText('Notify me when my turn is near').click();
  await page.getByLabel('Your e-mail address').fill(ADDRESS);
  await assertAccessible(page, 'the "Notify me" form');
  await page.getByRole('button', { name: 'E-mail me' }).click();

  // The confirmation: the section now says how the visitor is told and until when the place is
  // kept, focus is on its heading, and the live region says it.
  const confirmation = 'We will e-mail you when your turn is near and when it comes.';
  await page.getByText(confirmation).waitFor();
  await page.getByText('You can close this page: your place is kept until').waitFor();
  await page.getByRole('button', { name: 'Stop notifying me' }).waitFor();
  await until(async () => (await page.locator('#wr-live').textContent()) === confirmation, 'the announcement');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'wr-notify-title');
  assert.equal(await page.getByText('Keep this page open: leaving it').count(), 0);
  await assertAccessible(page, 'the waiting view with a notice chosen');
  await screenshot(page, 'notify-email-chosen');
  const chosen = await ticketJson(ticket);
  assert.equal(chosen.notify.channel, 'email');
  assert.ok(chosen.notify.away_until, JSON.stringify(chosen));
  assert.ok(!JSON.stringify(chosen).includes(ADDRESS), 'the ticket never shows the address');

  // The page is closed.
  await first.context.close();

  // "Almost your turn": first in line, with notify_ahead = 1, it is due at once.
  const near = await mailWithSubject(`Almost your turn – ${ROOM}`);
  assert.deepEqual(near.rcpt_tos, [ADDRESS]);
  assert.equal(near.mail_from, 'queue@example.test');
  assert.match(near.from, /^Waitroom <queue@example\.test>$/);
  assert.match(near.text, /Come back now to keep your place\./);
  const resumeLink = new RegExp(`${wr.base.replace(/[.]/g, '\\.')}/r/${ROOM}/resume/[A-Za-z0-9_-]{22}`);
  assert.match(near.text, resumeLink);
  assert.ok(!near.text.includes(ticket), 'the mail carries the resume token, not the ticket id');
  await until(async () => (await ticketJson(ticket)).notify?.turn_near === 'sent', 'the near message reported sent');

  // The operator lets one in: "It's your turn".
  await wr.admin('POST', `/admin/v1/rooms/${ROOM}/advance`, { by: 1 });
  const turn = await mailWithSubject(`It's your turn – ${ROOM}`);
  assert.deepEqual(turn.rcpt_tos, [ADDRESS]);
  assert.match(turn.text, /Your turn has come\. Open the link within \d+ min to go in\./);
  assert.match(turn.text, /You asked to be told when it is your turn in drop\./);
  const link = turn.text.match(resumeLink)[0];

  // The link, in a browser that has never seen the place: the eligible view, then in.
  const fresh = await openPage(browser);
  await fresh.page.goto(link);
  await fresh.page.getByRole('heading', { name: "It's your turn" }).waitFor();
  await screenshot(fresh.page, 'notify-back-by-link');
  const [response] = await Promise.all([
    fresh.page.waitForResponse((r) => r.url().includes('/gate/v1/check')),
    fresh.page.getByRole('button', { name: 'Continue' }).click(),
  ]);
  assert.equal(response.status(), 204);
  await fresh.context.close();

  // Claimed: the notice and its address are gone; no event and no log line ever carried it.
  await until(async () => (await ticketJson(ticket)).notify === undefined, 'the notice erased after the claim');
  const events = await allEvents(ROOM);
  const types = events.map((e) => e.type);
  assert.ok(types.includes('ticket.notice_set'), types.join(', '));
  assert.ok(types.includes('ticket.turn_near'), types.join(', '));
  assert.ok(!JSON.stringify(events).includes(ADDRESS), 'an event carries the address');
  assert.ok(!wr.log.join('').includes(ADDRESS), 'the log carries the address');
  assert.equal(received().filter((m) => m.rcpt_tos.includes(ADDRESS)).length, 2, 'two mails, no more');
});

test('without JavaScript the same form is a plain post, and a refused address is explained', async () => {
  const room = 'nojs';
  await wr.admin('PUT', `/admin/v1/rooms/${room}`, { admission: { mode: 'manual' }, away_max_s: 600 });
  const { context, page } = await openPage(browser, { javaScriptEnabled: false });
  await page.goto(`${wr.base}/r/${room}?lang=de`);
  await page.getByRole('button', { name: 'Anstellen' }).click();
  await page.getByRole('heading', { name: 'Sie sind in der Warteschlange' }).waitFor();
  await page.getByText('Mich benachrichtigen, wenn ich bald an der Reihe bin').click();
  // Passes the browser's own check (type="email") but not the server's: no dot in the domain.
  await page.getByLabel('Ihre E-Mail-Adresse').fill('someone@localhost');
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/r/${room}/notify`)),
    page.getByRole('button', { name: 'Per E-Mail benachrichtigen' }).click(),
  ]);
  assert.equal(refused.status(), 400);
  await page.getByText('Diese E-Mail-Adresse scheint nicht zu stimmen.').waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');
  assert.ok(!(await page.content()).includes('someone@localhost'), 'the page does not echo the address');

  await page.getByText('Mich benachrichtigen, wenn ich bald an der Reihe bin').click();
  await page.getByLabel('Ihre E-Mail-Adresse').fill('someone@example.test');
  await page.getByRole('button', { name: 'Per E-Mail benachrichtigen' }).click();
  await page.getByText('Wir schreiben Ihnen eine E-Mail, wenn Sie bald an der Reihe sind').waitFor();
  assert.match(page.url(), /\/r\/nojs\?lang=de$/);
  await assertAccessibleWithoutScript(browser, page, 'the no-JS waiting view with a notice chosen');
  const ticket = (await context.cookies()).find((c) => c.name === `waitroom_${room}`).value;
  assert.equal((await ticketJson(ticket, room)).notify.channel, 'email');

  await page.getByRole('button', { name: 'Nicht mehr benachrichtigen' }).click();
  await page.getByText('Mich benachrichtigen, wenn ich bald an der Reihe bin').waitFor();
  assert.equal((await ticketJson(ticket, room)).notify, undefined);
  await context.close();
  assert.ok(!wr.log.join('').includes('someone@'), 'the log carries no address');
});

test('the push service worker is served at the root for the whole site', async () => {
  const r = await fetch(`${wr.base}/waitroom-sw.js`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/javascript/);
  assert.equal(r.headers.get('cache-control'), 'no-cache');
  assert.equal(r.headers.get('service-worker-allowed'), '/');
  const text = await r.text();
  assert.match(text, /addEventListener\('push'/);
  assert.match(text, /addEventListener\('notificationclick'/);
  const again = await fetch(`${wr.base}/waitroom-sw.js`, { headers: { 'If-None-Match': r.headers.get('etag') } });
  assert.equal(again.status, 304);

});

test('the push button asks for permission and registers the worker only when pressed', async () => {
  const room = 'pushy';
  await wr.admin('PUT', `/admin/v1/rooms/${room}`, { admission: { mode: 'manual' }, away_max_s: 600 });
  const registrations = (page) => page.evaluate(async () =>
    (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope));
  async function waiting(options) {
    const opened = await openPage(browser, options);
    await opened.page.goto(`${wr.base}/r/${room}`);
    await opened.page.getByRole('button', { name: 'Join the line' }).click();
    await opened.page.getByRole('heading', { name: 'You are in line' }).waitFor();
    await opened.page.getByText('Notify me when my turn is near').click();
    return opened;
  }

  // Notifications not allowed: the page says so; no worker, no subscription.
  const refused = await waiting();
  const button = refused.page.getByRole('button', { name: 'Notify me on this device' });
  await button.waitFor();
  assert.deepEqual(await registrations(refused.page), [], 'no worker before the press');
  await button.click();
  const refusal = refused.page.locator('[data-wr="notify-error"]');
  await refusal.getByText('Notifications are blocked for this site in your browser.').waitFor();
  // Said in the live region too.
  await until(async () => (await refused.page.locator('#wr-live').textContent()).startsWith('Notifications are blocked'),
    'the refusal announced');
  assert.deepEqual(await registrations(refused.page), []);
  assert.equal(await button.isEnabled(), true);
  await refused.context.close();

  // Allowed: the worker is registered for the whole site ("/"), and the subscription either
  // reaches the server (a browser with a push service) or the page says this browser cannot
  // (headless Chromium has none): never a silent failure.
  const allowed = await waiting({ permissions: ['notifications'] });
  await allowed.page.getByRole('button', { name: 'Notify me on this device' }).click();
  await until(async () => (await registrations(allowed.page)).includes(`${wr.base}/`), 'the worker registered at /');
  await allowed.page.locator('[data-wr="notify-error"], [data-wr="notify-state"]').getByText(
    /This browser could not set up notifications\.|We will send a notification to this device/).waitFor();
  await screenshot(allowed.page, 'notify-push-pressed');
  await allowed.context.close();
});

test('with JavaScript the form answers in place: a refusal, the near message sent, and stopping', async () => {
  const room = 'live';
  const address = 'live.visitor@example.test';
  await wr.admin('PUT', `/admin/v1/rooms/${room}`, { admission: { mode: 'manual' }, away_max_s: 900, notify_ahead: 1 });
  const { context, page } = await openPage(browser);
  await page.goto(`${wr.base}/r/${room}`);
  await page.getByRole('button', { name: 'Join the line' }).click();
  await page.getByRole('heading', { name: 'You are in line' }).waitFor();
  const ticket = (await context.cookies()).find((c) => c.name === `waitroom_${room}`).value;
  await page.getByText('Notify me when my turn is near').click();

  // Refused by the server (the browser's own check lets it through): said in place, announced,
  // nothing reloaded, and the address is still there to correct.
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.getByLabel('Your e-mail address').fill('someone@localhost');
  await page.getByRole('button', { name: 'E-mail me' }).click();
  const error = page.locator('[data-wr="notify-error"]');
  await error.getByText('That e-mail address does not look right.').waitFor();
  await until(async () => (await page.locator('#wr-live').textContent()).startsWith('That e-mail address'), 'the refusal announced');
  assert.equal(await page.getByLabel('Your e-mail address').inputValue(), 'someone@localhost');
  assert.equal(await page.getByRole('button', { name: 'E-mail me' }).isEnabled(), true);

  // Accepted: first in line with notify_ahead = 1, "almost your turn" goes out at once, and the
  // open page learns it from the ticket's stream and says so by itself.
  await page.getByLabel('Your e-mail address').fill(address);
  await page.getByRole('button', { name: 'E-mail me' }).click();
  await page.getByText('We will e-mail you when your turn is near and when it comes.').waitFor();
  await until(() => received().find((m) => m.rcpt_tos.includes(address)), 'the near mail');
  await page.getByText('Your turn is near: we have let you know.').waitFor();
  assert.equal(loads, 0, 'the page was never reloaded');

  // Stopped: the offer is back, focus on it, and the live region says what it means.
  await page.getByRole('button', { name: 'Stop notifying me' }).click();
  await page.getByText('Notify me when my turn is near').waitFor();
  await until(async () => (await page.locator('#wr-live').textContent()) ===
    'You will not be notified. Keep this page open to keep your place.', 'the cancellation announced');
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'wr-notify-title');
  assert.equal((await ticketJson(ticket, room)).notify, undefined);
  await page.getByText('Keep this page open: leaving it').waitFor();
  await assertAccessible(page, 'the waiting view after the notices were stopped');
  await context.close();
});
