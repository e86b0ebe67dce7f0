// Drawings on the room page (docs/admission.md, "Drawings"): a visitor registers in the pre-queue
// and the page says so; at the start the page turns, by itself with JavaScript and on a reload
// without, into "You won a turn" or "You are on the waitlist" with the waitlist number, as the
// ticket's JSON says; a visitor who comes after the start finds registration closed. The three
// pages (registered, won, waitlist #n) are axe-clean.
//
// The server runs on the test clock ([testing] manual_clock): the start comes when the test moves
// the clock, and nobody is admitted (the drawing's policy is manual), so the winners keep their
// "won" page while the test looks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWaitroom, launchBrowser, assertAccessible, assertAccessibleWithoutScript, screenshot,
  openPage, until } from './lib.mjs';

const ROOM = 'lottery';
const WINNERS = 2;
let wr;
let browser;

const clockNow = async () => (await wr.admin('GET', '/admin/v1/testing/clock')).now_ms;
const advanceClock = (ms) => wr.admin('POST', '/admin/v1/testing/clock', { advance_ms: Math.round(ms) });
const ticketJson = async (id) => (await fetch(`${wr.base}/v1/rooms/${ROOM}/tickets/${id}`)).json();

before(async () => {
  wr = await startWaitroom('[testing]\nmanual_clock = true\n');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await wr?.stop();
});

// Opens the room page in a fresh browser and registers there; returns the page and its ticket.
async function register(javaScriptEnabled) {
  const { context, page } = await openPage(browser, { javaScriptEnabled });
  await page.goto(`${wr.base}/r/${ROOM}`);
  await page.getByText(`${WINNERS} winners are drawn at random from everyone registered`).waitFor();
  await page.getByRole('button', { name: 'Join the line' }).click();
  await page.getByRole('heading', { name: 'You are registered for the drawing' }).waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === `waitroom_${ROOM}`);
  return { context, page, javaScriptEnabled, ticket: cookie.value };
}

test('entrants are registered, then see whether they won or their waitlist number', async () => {
  const now = Math.floor(await clockNow() / 1000);
  await wr.admin('PUT', `/admin/v1/rooms/${ROOM}`, {
    ticket_idle_timeout_s: 0,
    events: [{
      prequeue_start: new Date((now + 5) * 1000).toISOString(),
      start: new Date((now + 65) * 1000).toISOString(),
      winners: WINNERS,
      overrides: { queueing: 'draw', admission: { mode: 'manual' } },
    }],
  });
  await advanceClock(6000);
  await until(async () => (await (await fetch(`${wr.base}/v1/rooms/${ROOM}`)).json()).status === 'prequeue',
    'the pre-queue to open');

  // Four browsers register, two with JavaScript and two without.
  const entrants = [];
  for (const js of [true, false, true, false]) entrants.push(await register(js));
  for (const e of entrants) assert.deepEqual((await ticketJson(e.ticket)).drawing, { status: 'registered' });
  await assertAccessible(entrants[0].page, 'the registered view');
  await assertAccessibleWithoutScript(browser, entrants[1].page, 'the no-JS registered view');
  await screenshot(entrants[0].page, 'page-drawing-registered');

  // The start: the drawing picks two winners; the other two are on the waitlist, numbered.
  await advanceClock(60_000);
  const standings = [];
  for (const e of entrants) standings.push((await ticketJson(e.ticket)).drawing);
  assert.equal(standings.filter((s) => s.status === 'won').length, WINNERS, JSON.stringify(standings));
  assert.deepEqual(standings.filter((s) => s.status === 'waitlist').map((s) => s.waitlist_position).sort(),
    [1, 2]);

  let checkedWon = false;
  let checkedWaitlist = false;
  for (const [i, e] of entrants.entries()) {
    if (!e.javaScriptEnabled) await e.page.reload();  // with JavaScript the page turns by itself
    const s = standings[i];
    if (s.status === 'won') {
      await e.page.getByRole('heading', { name: 'You won a turn in the drawing' }).waitFor();
      await e.page.getByText(`You were drawn as one of the ${WINNERS} winners`).waitFor();
      if (!checkedWon) {
        if (e.javaScriptEnabled) await assertAccessible(e.page, 'the won view');
        else await assertAccessibleWithoutScript(browser, e.page, 'the no-JS won view');
        await screenshot(e.page, 'page-drawing-won');
        checkedWon = true;
      }
    } else {
      await e.page.getByRole('heading', { name: 'You are on the waitlist' }).waitFor();
      assert.equal(await e.page.locator('[data-wr="waitlist"]').textContent(), String(s.waitlist_position));
      assert.equal(await e.page.getByText('Estimated wait').count(), 0);
      if (!checkedWaitlist) {
        if (e.javaScriptEnabled) await assertAccessible(e.page, 'the waitlist view');
        else await assertAccessibleWithoutScript(browser, e.page, 'the no-JS waitlist view');
        await screenshot(e.page, 'page-drawing-waitlist');
        checkedWaitlist = true;
      }
    }
  }

  // An operator's advance lets in the winners and nobody else: the waitlist stays.
  await wr.admin('POST', `/admin/v1/rooms/${ROOM}/advance`, { by: 10 });
  const after = [];
  for (const e of entrants) after.push(await ticketJson(e.ticket));
  assert.equal(after.filter((t) => t.status === 'eligible').length, WINNERS, 'only the winners go in');
  assert.equal(after.filter((t) => t.drawing?.status === 'waitlist').length, 2);

  // Someone who comes after the start finds registration closed, with and without JavaScript.
  for (const javaScriptEnabled of [true, false]) {
    const { context, page } = await openPage(browser, { javaScriptEnabled });
    const r = await page.goto(`${wr.base}/r/${ROOM}`);
    assert.equal(r.status(), 200);
    await page.getByRole('heading', { name: 'Closed' }).waitFor();
    await page.getByText('Registration for this drawing closed at its start').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Join the line' }).count(), 0);
    await context.close();
  }
  const late = await fetch(`${wr.base}/v1/rooms/${ROOM}/tickets`, { method: 'POST' });
  assert.equal(late.status, 409);
  assert.match((await late.json()).detail, /registration closed/);

  for (const e of entrants) await e.context.close();
});
