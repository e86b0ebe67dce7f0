// The live waiting-room page in a real browser: it follows the line without reloading (Server-
// Sent Events, or polling when the stream is not there), keeps one place per browser across tabs
// and devices, renders every room state, is accessible (axe) in two languages, and lands the
// visitor on the target with a pass the gate accepts. Screenshots of each state go to
// build/test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, assertAccessible, screenshot, openPage } from './lib.mjs';

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

// A room whose target is the gate itself: it answers 204 only for a live pass of the room.
async function room(name, settings = {}) {
  await wr.admin('PUT', `/admin/v1/rooms/${name}`, { target_url: `${wr.base}/gate/v1/check?room=${name}`, ...settings });
}

// `n` other visitors (API clients without cookies) take places first.
async function othersJoin(name, n) {
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${wr.base}/v1/rooms/${name}/tickets`, { method: 'POST' });
    assert.equal(r.status, 201);
  }
}

async function ticketsHandedOut(name) {
  return (await wr.admin('GET', `/admin/v1/rooms/${name}/stats`)).queue_counter;
}

async function join(page, url) {
  await page.goto(url);
  await page.locator('form[action$="/join"] button').click();
  await page.locator('[data-wr-sig^="waiting|"]').waitFor();
}

const ahead = (page) => page.locator('[data-wr="ahead"]').textContent();

test('the page shows "your turn" within 2 s of the admission without reloading, and Continue lands on the target with a pass', async () => {
  await room('live');
  await othersJoin('live', 2);
  const { context, page } = await openPage(browser);
  await page.goto(`${wr.base}/r/live`);
  await page.getByRole('button', { name: 'Join the line' }).waitFor();
  await screenshot(page, 'page-join');
  await join(page, `${wr.base}/r/live`);
  await page.getByRole('heading', { name: 'You are in line' }).waitFor();
  assert.equal(await ahead(page), '2');
  assert.match(await page.getByText(/Your number is 3\./).textContent(), /3/);
  await screenshot(page, 'page-waiting');

  // Anything that reloads the page would lose this and be seen as a navigation.
  await page.evaluate(() => { window.sameDocument = true; });
  const navigations = [];
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });

  const admittedAt = Date.now();
  await wr.admin('POST', '/admin/v1/rooms/live/advance', { by: 3 });
  await page.getByRole('heading', { name: "It's your turn" }).waitFor({ timeout: 2000 });
  const elapsed = Date.now() - admittedAt;
  assert.ok(elapsed <= 2000, `"your turn" showed after ${elapsed} ms`);
  assert.equal(await page.evaluate(() => window.sameDocument), true);
  assert.deepEqual(navigations, []);
  // Said at once in the live region, and the keyboard is on Continue.
  await page.waitForFunction(() => document.getElementById('wr-live').textContent.includes("It's your turn"));
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Continue');
  await screenshot(page, 'page-eligible');

  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/gate/v1/check')),
    page.keyboard.press('Enter'),  // the focused Continue button
  ]);
  // The enter form's answer sent the browser to the target, which accepted the pass (a 204 is
  // not a page, so the browser stays where it was).
  assert.equal(response.status(), 204);
  assert.equal(response.url(), `${wr.base}/gate/v1/check?room=live`);
  assert.equal(response.request().redirectedFrom()?.url(), `${wr.base}/r/live/enter`);
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === 'waitroom_pass_live' && c.httpOnly), JSON.stringify(cookies));
  await context.close();
});

test('position changes are announced politely, at most once every 30 s', async () => {
  await room('announce');
  await othersJoin('announce', 3);
  const { context, page } = await openPage(browser);
  await join(page, `${wr.base}/r/announce`);
  const region = page.locator('#wr-live');
  assert.equal(await region.getAttribute('aria-live'), 'polite');
  await wr.admin('POST', '/admin/v1/rooms/announce/advance', { by: 1 });
  await page.waitForFunction(() => document.getElementById('wr-live').textContent === '2 people ahead of you.');
  assert.equal(await ahead(page), '2');
  await wr.admin('POST', '/admin/v1/rooms/announce/advance', { by: 1 });
  await page.waitForFunction(() => document.querySelector('[data-wr="ahead"]').textContent === '1');
  assert.equal(await page.locator('[data-wr="ahead-label"]').textContent(), 'person ahead of you');
  await page.waitForTimeout(500);
  assert.equal(await region.textContent(), '2 people ahead of you.');  // the next one waits its 30 s
  const percent = await page.locator('progress[data-wr="progress"]').evaluate((p) => p.value);
  assert.equal(percent, 50);  // 2 of the 3 who were ahead (plus this visitor's own step) have gone
  await context.close();
});

test('two tabs of one browser show one place, and a second join makes no second ticket', async () => {
  await room('tabs');
  await othersJoin('tabs', 1);
  const { context, page: first } = await openPage(browser);
  const second = await context.newPage();
  second.setDefaultTimeout(10000);
  await second.goto(`${wr.base}/r/tabs`);
  await second.getByRole('heading', { name: 'Waiting room' }).waitFor();

  await join(first, `${wr.base}/r/tabs`);
  // The tab that still showed "Join" follows without a reload.
  await second.getByRole('heading', { name: 'You are in line' }).waitFor();
  assert.equal(await ahead(second), await ahead(first));
  assert.equal(await second.locator('[data-wr-ticket]').getAttribute('data-wr-ticket'),
               await first.locator('[data-wr-ticket]').getAttribute('data-wr-ticket'));

  const third = await context.newPage();
  await third.goto(`${wr.base}/r/tabs`);
  assert.equal(await ahead(third), '1');
  // A join from a stale form (or a double click) keeps the browser's place.
  const again = await third.request.post(`${wr.base}/r/tabs/join`, { maxRedirects: 0 });
  assert.equal(again.status(), 303);
  assert.equal(await ticketsHandedOut('tabs'), 2);
  await context.close();
});

test('the resume link opened in another browser shows the same place and makes no new ticket', async () => {
  await room('resume');
  await othersJoin('resume', 3);
  const phone = await openPage(browser);
  await join(phone.page, `${wr.base}/r/resume`);
  const ticket = (await phone.context.cookies()).find((c) => c.name === 'waitroom_resume').value;
  await phone.page.getByText('Continue on another device').click();
  const link = phone.page.locator('.wr-resume a');
  await link.waitFor();
  const href = await link.getAttribute('href');
  assert.match(href, new RegExp(`^${wr.base}/r/resume/resume/[A-Za-z0-9_-]{22}$`));
  assert.ok(!href.includes(ticket), 'the link must not carry the ticket id');
  assert.ok(await phone.page.getByRole('img', { name: 'QR code of the link to your place' }).isVisible());
  await screenshot(phone.page, 'page-resume-link');
  const handedOut = await ticketsHandedOut('resume');

  const laptop = await openPage(browser);
  await laptop.page.goto(href);
  await laptop.page.getByRole('heading', { name: 'You are in line' }).waitFor();
  assert.equal(laptop.page.url(), `${wr.base}/r/resume`);
  assert.equal(await ahead(laptop.page), '3');
  assert.equal(await laptop.page.getByText(/Your number is/).textContent(), 'Your number is 4.');
  assert.equal((await laptop.context.cookies()).find((c) => c.name === 'waitroom_resume').value, ticket);
  assert.equal(await ticketsHandedOut('resume'), handedOut);

  // A made-up link is refused and says so.
  const bogus = await openPage(browser);
  const r = await bogus.page.goto(`${wr.base}/r/resume/resume/AAAAAAAAAAAAAAAAAAAAAA`);
  assert.equal(r.status(), 404);
  await bogus.page.getByText('This link to a place in line is not valid').waitFor();
  for (const p of [phone, laptop, bogus]) await p.context.close();
});

test('the pre-queue counts down to the start and says places are drawn at random', async () => {
  const now = Date.now();
  await room('pre', {
    events: [{ prequeue_start: new Date(now - 1000).toISOString(), start: new Date(now + 1800_000).toISOString() }],
  });
  for (let i = 0; (await (await fetch(`${wr.base}/v1/rooms/pre`)).json()).status !== 'prequeue'; i++) {
    assert.ok(i < 50, 'the pre-queue did not open');
    await new Promise((r) => setTimeout(r, 100));
  }
  const { context, page } = await openPage(browser);
  await page.goto(`${wr.base}/r/pre`);
  await page.getByText('The line opens in').waitFor();
  const countdown = page.locator('[data-wr="countdown"]');
  assert.match(await countdown.textContent(), /^(29 min \d\d s|30 min 00 s)$/);
  await screenshot(page, 'page-prequeue-join');
  await join(page, `${wr.base}/r/pre`);
  await page.getByText('drawn in random order').waitFor();
  const before = await countdown.textContent();
  await page.waitForFunction((t) => document.querySelector('[data-wr="countdown"]').textContent !== t, before);
  assert.match(await countdown.textContent(), /^29 min \d\d s$/);
  await assertAccessible(page, 'the pre-queue view');
  await screenshot(page, 'page-prequeue-waiting');
  await context.close();
});

test('the language comes from ?lang= or Accept-Language and is kept through the join', async () => {
  await room('lang');
  const fr = await openPage(browser);
  await fr.page.goto(`${wr.base}/r/lang?lang=fr`);
  assert.equal(await fr.page.locator('html').getAttribute('lang'), 'fr');
  await fr.page.getByRole('button', { name: 'Rejoindre la file' }).click();
  await fr.page.getByRole('heading', { name: 'Vous êtes dans la file' }).waitFor();
  assert.equal(fr.page.url(), `${wr.base}/r/lang?lang=fr`);
  const de = await openPage(browser, { locale: 'de-DE' });
  await de.page.goto(`${wr.base}/r/lang`);
  await de.page.getByRole('button', { name: 'Anstellen' }).waitFor();
  await de.page.getByRole('link', { name: '日本語' }).click();
  await de.page.getByRole('button', { name: '列に並ぶ' }).waitFor();
  for (const p of [fr, de]) await p.context.close();
});

test('reduced motion turns the page\'s animations off', async () => {
  await room('motion');
  const still = await openPage(browser, { reducedMotion: 'reduce' });
  const moving = await openPage(browser, { reducedMotion: 'no-preference' });
  const animation = (page) => page.locator('[data-wr="live-note"]').evaluate(
    (el) => getComputedStyle(el, '::before').animationName);
  for (const { page } of [still, moving]) await join(page, `${wr.base}/r/motion`);
  await still.page.locator('[data-wr="live-note"]').waitFor();
  await moving.page.locator('[data-wr="live-note"]').waitFor();
  assert.equal(await animation(still.page), 'none');
  assert.equal(await animation(moving.page), 'wr-pulse');
  for (const p of [still, moving]) await p.context.close();
});

// axe on the four views the issue names, in English and in Japanese (chosen by the browser's
// Accept-Language); screenshots of each.
for (const [lang, locale, texts] of [
  ['en', 'en-US', { waiting: 'You are in line', paused: 'The line is paused', eligible: "It's your turn", closed: 'Closed' }],
  ['ja', 'ja-JP', { waiting: '順番待ちの列に並んでいます', paused: '列は一時停止中です', eligible: 'あなたの番です', closed: '受付終了' }],
]) {
  test(`axe finds no violations on the waiting, paused, eligible and closed views (${lang})`, async () => {
    const name = `axe-${lang}`;
    await room(name);
    await othersJoin(name, 2);
    const { context, page } = await openPage(browser, { locale });
    await join(page, `${wr.base}/r/${name}`);
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
    await page.getByRole('heading', { name: texts.waiting }).waitFor();
    await assertAccessible(page, `the waiting view (${lang})`);
    await screenshot(page, `page-waiting-${lang}`);

    await wr.admin('POST', `/admin/v1/rooms/${name}/pause`);
    await page.reload();
    await page.getByText(texts.paused).waitFor();
    await assertAccessible(page, `the paused view (${lang})`);
    await screenshot(page, `page-paused-${lang}`);

    await wr.admin('POST', `/admin/v1/rooms/${name}/resume`);
    await wr.admin('POST', `/admin/v1/rooms/${name}/advance`, { by: 3 });
    await page.reload();
    await page.getByRole('heading', { name: texts.eligible }).waitFor();
    await assertAccessible(page, `the eligible view (${lang})`);
    await screenshot(page, `page-eligible-${lang}`);

    await room(`${name}-closed`, { queueing: 'reject' });
    await page.goto(`${wr.base}/r/${name}-closed`);
    await page.getByRole('heading', { name: texts.closed }).waitFor();
    assert.equal(await page.locator('form[action$="/join"]').count(), 0);
    await assertAccessible(page, `the closed view (${lang})`);
    await screenshot(page, `page-closed-${lang}`);
    await context.close();
  });
}

// The transports on their own: the stream is replaced by one the test serves (so this holds
// whether or not the server has the SSE endpoint), or refused, or the polls fail.
test('the ticket\'s event stream alone brings the turn', async () => {
  await room('sse');
  await othersJoin('sse', 1);
  const { context, page } = await openPage(browser);
  const polls = [];
  await page.route(/\/v1\/rooms\/sse\/tickets\/[^/]+$/, (route) => { polls.push(Date.now()); route.abort(); });
  // Each connection gets the ticket's current JSON as one `status` message, then ends; the
  // browser reconnects after `retry`.
  await page.route(/\/v1\/rooms\/sse\/tickets\/[^/]+\/events$/, async (route) => {
    const ticketUrl = route.request().url().replace(/\/events$/, '');
    const ticket = await (await fetch(ticketUrl)).text();
    await route.fulfill({
      status: 200,
      headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' },
      body: `retry: 300\nid: ${Date.now()}\nevent: status\ndata: ${ticket}\n\n: heartbeat\n\n`,
    });
  });
  await join(page, `${wr.base}/r/sse`);
  await page.waitForTimeout(1500);  // several streams come and go; none is taken for a failure
  await wr.admin('POST', '/admin/v1/rooms/sse/advance', { by: 2 });
  await page.getByRole('heading', { name: "It's your turn" }).waitFor({ timeout: 2000 });
  assert.deepEqual(polls, [], 'the page polled although the stream worked');
  await context.close();
});

test('when the stream is refused the page polls: first after 1 s, then backing off', async () => {
  await room('poll');
  await othersJoin('poll', 1);
  const { context, page } = await openPage(browser);
  const polls = [];
  await page.route(/\/v1\/rooms\/poll\/tickets\/[^/]+\/events$/, (route) =>
    route.fulfill({ status: 404, contentType: 'application/problem+json', body: '{"status":404}' }));
  page.on('request', (r) => { if (/\/v1\/rooms\/poll\/tickets\/[^/]+$/.test(r.url())) polls.push(Date.now()); });
  await join(page, `${wr.base}/r/poll`);
  const shown = Date.now();  // the script's timer started before this
  while (polls.length < 2) await page.waitForTimeout(100);
  // Upper bounds leave room for a loaded machine (CI shares 2 cores); the schedule is 1 s, then 2 s.
  assert.ok(polls[0] - shown <= 1600, `first poll ${polls[0] - shown} ms after the page showed`);
  const gap = polls[1] - polls[0];
  assert.ok(gap >= 1800 && gap <= 3500, `second poll ${gap} ms after the first (nothing changed: 2 s)`);
  await wr.admin('POST', '/admin/v1/rooms/poll/advance', { by: 2 });
  await page.getByRole('heading', { name: "It's your turn" }).waitFor({ timeout: 6000 });
  await context.close();
});

test('failing polls honour Retry-After, say the connection was lost and offer "Check again"', async () => {
  await room('flaky');
  const { context, page } = await openPage(browser);
  const polls = [];
  await page.route(/\/v1\/rooms\/flaky\/tickets\/[^/]+\/events$/, (route) =>
    route.fulfill({ status: 404, contentType: 'application/problem+json', body: '{"status":404}' }));
  await page.route(/\/v1\/rooms\/flaky\/tickets\/[^/]+$/, (route) => {
    polls.push(Date.now());
    route.fulfill({ status: 503, headers: { 'Retry-After': '3' }, contentType: 'application/problem+json', body: '{}' });
  });
  await join(page, `${wr.base}/r/flaky`);
  // Live updates make "Check again" unnecessary: the deferred script hides it once it runs (the
  // page is drawn before that, so this waits rather than samples).
  await page.locator('[data-wr="check-again"]').waitFor({ state: 'hidden', timeout: 3000 });
  await page.getByText('The connection was lost. Trying again…').waitFor();
  assert.ok(polls.length >= 2 && polls[1] - polls[0] >= 2900, `polls at ${polls.map((t) => t - polls[0])}`);
  assert.ok(await page.getByRole('link', { name: 'Check again' }).isVisible());
  await context.close();
});

// Issue 17 item 12: a live switch to the paused view brings the server's rendering, which offers
// "Check again"; while updates still flow it must stay hidden.
test('after a live switch to the paused view "Check again" stays hidden while updates flow', async () => {
  // A paced room: its estimate goes away when it pauses, which is what the live update shows.
  await room('pause-live', { admission: { mode: 'rate', rate_per_minute: 1 } });
  await othersJoin('pause-live', 20);
  const { context, page } = await openPage(browser);
  await join(page, `${wr.base}/r/pause-live`);
  await page.locator('[data-wr="check-again"]').waitFor({ state: 'hidden', timeout: 3000 });
  await wr.admin('POST', '/admin/v1/rooms/pause-live/pause');
  await page.getByText('The line is paused for the moment').waitFor({ timeout: 5000 });
  assert.equal(await page.locator('[data-wr="check-again"]').isVisible(), false);
  // Updates still flow: resuming and admitting shows the turn without a reload.
  await wr.admin('POST', '/admin/v1/rooms/pause-live/resume');
  await wr.admin('POST', '/admin/v1/rooms/pause-live/advance', { by: 21 });
  await page.getByRole('heading', { name: "It's your turn" }).waitFor({ timeout: 5000 });
  await context.close();
});

// Issue 17 item 12: the script writes the estimate sentence itself on every update; German
// durations end in "Min.", and the sentence must not end in "Min..".
test('the German estimate sentence written live has no double period', async () => {
  await room('eta-de', { admission: { mode: 'rate', rate_per_minute: 60 } });
  await othersJoin('eta-de', 40);
  const { context, page } = await openPage(browser, { locale: 'de-DE' });
  await join(page, `${wr.base}/r/eta-de`);
  const first = await ahead(page);
  await page.waitForFunction((before) =>
    document.querySelector('[data-wr="ahead"]').textContent !== before, first, { timeout: 10000 });
  await page.waitForTimeout(1500);  // the update that moved the line also wrote the estimate
  const sentence = await page.locator('[data-wr="eta-detail"]').textContent();
  assert.ok(sentence.length > 0);
  assert.ok(!sentence.includes('..'), `double period: ${sentence}`);
  await context.close();
});
