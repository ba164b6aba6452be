// Live interaction between real people in real browsers: a moderator in the console
// (/console/{id}) and attendees on their join pages, each in a browser context of their own,
// against the real server. Polls (created, voted, counted, results shown), a raised hand
// acknowledged, a private question that only the asker and the moderators see (markup in it
// shown as text), private chat messages and muting, and the panels in German on a phone-sized
// screen.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { test, stopAndCheck, waitFor, api } from '../lib/harness.mjs';
import { startWorld, openContext, apiWebinar, apiRegister } from '../lib/pages.mjs';

let server, browser, org; // startWorld
let w; // the webinar: registration, scheduled (attendees are in the room), names may show
let mod, ada, bob; // { page, problems, context }: the moderator and two attendees
before(async () => {
  ({ server, org, browser } = await startWorld());
  const starts = new Date(Date.now() + 2 * 3600e3).toISOString();
  w = await apiWebinar(server, org, { title: 'Town hall', starts_at: starts,
    hide_attendee_names: false });
  const r = await api(server, 'PATCH', `/api/admin/webinars/${w.id}`,
    { session: org, body: { chat_enabled: true } });
  assert.equal(r.status, 200, String(r.body));
  mod = await openConsole(w);
  ada = await joinAs(w, 'Ada Attendee', 'ada@example.com');
  bob = await joinAs(w, 'Bob Bystander', 'bob@example.com');
});
after(async () => {
  for (const p of [mod, ada, bob]) await p?.context.close();
  await browser?.close();
});

/* The console of webinar `webinar` in a browser with the organiser's session, once its event
 * stream is connected. Confirmations are accepted. */
async function openConsole(webinar, options = {}) {
  const { context, problems } = await openContext(browser, server, options);
  await context.addCookies([{ name: 'lectern_session', value: org.cookie,
    url: server.httpBase }]);
  const page = await context.newPage();
  page.on('dialog', (d) => d.accept());
  await page.goto(server.url(`/console/${webinar.id}`));
  await page.waitForSelector('#conn[data-state="open"]', { timeout: 10000 });
  return { context, problems, page };
}

/* An attendee registered through the API who opened the join link in a browser of their own
 * and is in the room (the panels are shown once the event stream's snapshot arrived). */
async function joinAs(webinar, name, email, options = {}) {
  const reg = await apiRegister(server, webinar, { email, name });
  const { context, problems } = await openContext(browser, server, options);
  const page = await context.newPage();
  await page.goto(reg.join_url);
  await page.waitForSelector('#room:not([hidden])', { timeout: 10000 });
  return { context, problems, page };
}

/* No console errors, page errors or requests to other hosts in the three browsers since the
 * last check (the lists are emptied, so that one test's trouble is reported only once). */
function assertNoProblems() {
  const seen = [mod, ada, bob].flatMap((p) => p.problems.splice(0));
  assert.deepEqual(seen, []);
}

test('a poll: created and opened in the console, voted on the join page, counted live',
  async () => {
    const m = mod.page, a = ada.page;
    await m.click('#poll-new summary');
    await m.fill('#poll-question', 'Favourite colour?');
    const options = m.locator('#poll-options input');
    await options.nth(0).fill('Red');
    await options.nth(1).fill('Green');
    await m.click('#poll-add-option');
    await options.nth(2).fill('Blue');
    assert.equal(await m.isChecked('#poll-anonymous'), true, 'anonymous unless unticked');
    await m.click('#poll-open-now');
    const modPoll = m.locator('#polls li', { hasText: 'Favourite colour?' });
    await modPoll.waitFor({ timeout: 5000 });

    // The attendee's page shows it by itself, announced, as a radio group with a legend.
    const poll = a.locator('#polls form', { hasText: 'Favourite colour?' });
    await poll.waitFor({ timeout: 5000 });
    assert.equal(await a.textContent('#poll-announce'), 'New poll: Favourite colour?');
    assert.equal(await poll.locator('legend').textContent(), 'Favourite colour?');
    assert.equal(await poll.locator('input[type="radio"]').count(), 3);
    assert.equal(await poll.locator('.notice.named').count(), 0, 'anonymous: no name notice');
    await poll.getByLabel('Green', { exact: true }).check();
    await poll.getByRole('button', { name: 'Vote' }).click();
    await poll.locator('.your-vote', { hasText: 'Your vote: Green' }).waitFor({ timeout: 5000 });
    assert.equal(await poll.getByRole('button', { name: 'Vote' }).count(), 0,
      'no second vote: the poll does not allow changing it');

    // The moderator's chart counts it, with the numbers in the bar's label.
    await modPoll.locator('.meter[aria-label="Green: 1 vote (100%)"]').waitFor({ timeout: 5000 });
    assert.equal(await modPoll.locator('.meter[aria-label="Red: 0 votes (0%)"]').count(), 1);
    const drawn = await modPoll.locator('.meter[aria-label^="Green"] .meter-fill')
      .evaluate((e) => e.getBoundingClientRect());
    assert.ok(drawn.width > 50 && drawn.height > 5, `the bar is drawn: ${JSON.stringify(drawn)}`);

    // Results are the attendees' only once the moderator shows them.
    assert.equal(await poll.locator('.meter').count(), 0);
    await modPoll.getByRole('button', { name: 'Show results to attendees' }).click();
    await poll.locator('.meter[aria-label="Green: 1 vote (100%)"]').waitFor({ timeout: 5000 });

    // A poll that stores names says so before the attendee votes.
    const r = await api(server, 'POST', `/api/admin/webinars/${w.id}/polls`, { session: org,
      body: { question: 'May we call you?', options: ['Yes', 'No'], anonymous: false,
        multiple: true, open: true } });
    assert.equal(r.status, 201, String(r.body));
    const named = a.locator('#polls form', { hasText: 'May we call you?' });
    await named.waitFor({ timeout: 5000 });
    assert.match(await named.locator('.notice.named').textContent(), /stored with your name/);
    assert.equal(await named.locator('input[type="checkbox"]').count(), 2, 'several answers');
    assert.equal(await named.locator('.your-vote').count(), 0, 'not voted yet');
    assertNoProblems();
  });

test('a raised hand: queued in the console, acknowledged, the attendee sees it at once',
  async () => {
    const m = mod.page, a = ada.page;
    assert.equal(await a.getAttribute('#hand', 'aria-pressed'), 'false');
    await a.click('#hand');
    await a.waitForSelector('#hand[aria-pressed="true"]', { timeout: 5000 });
    const entry = m.locator('#hands li', { hasText: 'Ada Attendee' });
    await entry.waitFor({ timeout: 5000 });
    await entry.getByRole('button', { name: 'Acknowledge Ada Attendee’s hand' }).click();
    await waitFor(async () => (await a.textContent('#hand-state')) ===
      'Acknowledged by the moderator.', 5000, 'the attendee to see the acknowledgement');
    assert.equal(await a.getAttribute('#hand-state', 'aria-live'), 'polite');
    assertNoProblems();
  });

test('a private question: the asker and the moderator see it, another attendee never does; ' +
  'markup shows as text', async () => {
  const m = mod.page, a = ada.page, b = bob.page;
  const body = '<script>window.pwned = 1</script><b>Bold?</b> When is the next release?';
  await a.fill('#question', body);
  await a.check('#question-show-name');
  await a.click('#question-submit');
  await a.locator('#my-questions .body').first().waitFor({ timeout: 5000 });
  assert.equal(await a.textContent('#my-questions .body'), body);

  const q = m.locator('#questions li', { hasText: 'When is the next release?' });
  await q.waitFor({ timeout: 5000 });
  assert.equal(await q.locator('.body').textContent(), body);
  assert.equal(await q.locator('.body b, .body script').count(), 0, 'no markup made');
  assert.match(await q.textContent(), /Ada Attendee/, 'moderators see the asker');

  // Events reach each stream in order: once Bob has the moderator's later chat message, the
  // question would have reached him before it if it were his to see.
  await m.fill('#chat-body', 'Thanks, we collect your questions.');
  await m.click('#chat-send');
  await b.locator('#chat li', { hasText: 'Thanks, we collect your questions.' })
    .waitFor({ timeout: 5000 });
  assert.equal(await b.locator('#public-questions li, #my-questions li').count(), 0);
  assert.equal(await b.isVisible('#public-questions-box'), false, 'questions are private');
  const bobText = await b.evaluate(() => document.body.innerText);
  assert.ok(!bobText.includes('next release'), 'not anywhere on Bob’s page');

  // The moderator answers it; the asker sees the new state.
  await q.getByRole('button', { name: 'Mark answered' }).click();
  await a.locator('#my-questions li', { hasText: 'answered' }).waitFor({ timeout: 5000 });
  for (const page of [m, a, b])
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'no script ran');

  // Making questions public in the console reaches the attendees' pages.
  await m.check('#set-questions_public');
  await b.waitForSelector('#public-questions-box:not([hidden])', { timeout: 5000 });
  const after = await api(server, 'GET', `/api/admin/webinars/${w.id}`, { session: org });
  assert.equal(after.json.questions_public, true);
  // A question asked from now on is public and Bob may upvote it; the one Ada asked in private
  // stays private (checked once the public one has reached Bob: events arrive in order).
  await a.fill('#question', 'And the roadmap?');
  await a.click('#question-submit');
  const pub = b.locator('#public-questions li', { hasText: 'And the roadmap?' });
  await pub.waitFor({ timeout: 5000 });
  await pub.getByRole('button', { name: 'Upvote' }).click();
  await pub.getByRole('button', { name: 'Upvoted' }).waitFor({ timeout: 5000 });
  assert.ok(!(await b.evaluate(() => document.body.innerText)).includes('next release'),
    'the private question stays private');
  await m.locator('#questions li', { hasText: 'And the roadmap?' }).filter({ hasText: '1 upvote' })
    .waitFor({ timeout: 5000 });
  assertNoProblems();
});

test('the chat: a private message to the moderators, a private reply, muting', async () => {
  const m = mod.page, a = ada.page, b = bob.page;
  await b.selectOption('#chat-to', 'moderators');
  await b.fill('#chat-body', 'Can you hear me? <i>only you</i>');
  await b.click('#chat-send');
  const mine = b.locator('#chat li', { hasText: 'Can you hear me?' });
  await mine.waitFor({ timeout: 5000 });
  assert.match(await mine.textContent(), /private, to the moderators/);

  const msg = m.locator('#chat li', { hasText: 'Can you hear me?' });
  await msg.waitFor({ timeout: 5000 });
  assert.equal(await msg.locator('.body').textContent(), 'Can you hear me? <i>only you</i>');
  assert.match(await msg.textContent(), /Bob Bystander.*private, to the moderators/s);
  await msg.getByRole('button', { name: 'Reply privately to Bob Bystander' }).click();
  assert.equal(await m.textContent('#reply-to-text'), 'Private reply to Bob Bystander');
  await m.fill('#chat-body', 'Loud and clear, Bob.');
  await m.click('#chat-send');
  const reply = b.locator('#chat li', { hasText: 'Loud and clear, Bob.' });
  await reply.waitFor({ timeout: 5000 });
  assert.match(await reply.textContent(), /private, to you/);

  await msg.getByRole('button', { name: 'Mute Bob Bystander in the chat' }).click();
  await b.waitForSelector('#chat-muted:not([hidden])', { timeout: 5000 });
  assert.equal(await b.isDisabled('#chat-send'), true, 'a muted attendee cannot send');

  // Ada gets the public message sent after all this, and nothing of the private ones.
  await m.click('#reply-cancel');
  await m.fill('#chat-body', 'Back to everyone.');
  await m.click('#chat-send');
  await a.locator('#chat li', { hasText: 'Back to everyone.' }).waitFor({ timeout: 5000 });
  const adaText = await a.evaluate(() => document.body.innerText);
  assert.ok(!adaText.includes('Can you hear me?') && !adaText.includes('Loud and clear'),
    'private messages stay between Bob and the moderators');
  assertNoProblems();
});

test('German, on a phone: the panels are in German and fit 375 px; the console needs a login',
  async () => {
    const de = await joinAs(w, 'Dora Deutsch', 'dora@example.com',
      { locale: 'de-DE', viewport: { width: 375, height: 740 } });
    const deMod = await openConsole(w, { locale: 'de-DE' });
    const anon = await openContext(browser, server, { allow: /status of 401/ });
    try {
      const p = de.page;
      assert.equal(await p.getAttribute('html', 'lang'), 'de');
      assert.equal(await p.textContent('#hand-h'), 'Hand heben');
      assert.equal(await p.textContent('#questions-h'), 'Fragen');
      assert.equal(await p.textContent('label[for="question"]'), 'Ihre Frage');
      assert.equal(await p.textContent('#question-submit'), 'Fragen');
      assert.equal(await p.textContent('#chat-h'), 'Chat');
      assert.equal(await p.textContent('#chat-send'), 'Senden');
      assert.equal(await p.textContent('label[for="chat-to"]'), 'Senden an');
      // The open polls of the first test, in German around the organiser's words.
      await p.locator('#polls form').first().waitFor({ timeout: 5000 });
      assert.equal(await p.textContent('#polls-h'), 'Umfrage');
      assert.match(await p.textContent('#polls'), /Ihre Antwort wird mit Ihrem Namen gespeichert/);
      const width = await p.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `no sideways scrolling at 375 px (page is ${width} px wide)`);

      const m = deMod.page;
      assert.equal(await m.textContent('#hands-h'), 'Gehobene Hände');
      assert.equal(await m.textContent('#polls-h'), 'Umfragen');
      assert.equal(await m.textContent('#end'), 'Webinar beenden');

      // Without a session the console sends the browser to the login page, and back after it.
      const page = await anon.context.newPage();
      await page.goto(server.url(`/console/${w.id}`));
      await page.waitForURL((u) => u.pathname === '/login', { timeout: 10000 });
      assert.equal(new URL(page.url()).searchParams.get('next'), `/console/${w.id}`);
      assert.deepEqual(de.problems, []);
      assert.deepEqual(deMod.problems, []);
      assert.deepEqual(anon.problems, []);
    } finally {
      await de.context.close();
      await deMod.context.close();
      await anon.context.close();
    }
  });

test('the server shuts down cleanly; its log has no email address and no secret', async () => {
  for (const p of [mod, ada, bob]) await p.context.close();
  mod = ada = bob = null;
  await stopAndCheck(server);
});
