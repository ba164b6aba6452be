// Two people in two browsers, as on the day: the organiser logs in through the login page and
// creates a webinar with a waiting room; an attendee registers, opens the join link and waits;
// the organiser lets them in from the admin page's waiting room, and the attendee's page
// follows without a reload; when the presenter pushes (real ffmpeg over RTMP), the attendee's
// video plays and attendance is counted. Also: the room password and the countdown.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  test, stopAndCheck, rememberSecret, waitFor, push, pushExit, api,
} from '../lib/harness.mjs';
import {
  startWorld, openContext, loginThroughPage, apiWebinar, apiRegister, registrations,
  expectVideoAdvances,
} from '../lib/pages.mjs';

const PUSH_S = 20;
let server, browser, org; // startWorld
before(async () => ({ server, org, browser } = await startWorld({ autoplay: true })));
after(() => browser?.close());

const stateOf = (page) => page.$eval('#status', (e) => e.dataset.state);

function expectState(page, want, timeoutMs) {
  return waitFor(async () => (await stateOf(page)) === want, timeoutMs,
    `the join page to show ${want}`, 100);
}

test('waiting room: registered, waiting, let in by the organiser, then the live video plays',
  { timeout: 180e3 }, async () => {
    const organiser = await openContext(browser, server, { allow: /status of 401/ });
    // The join API says "live" as soon as the presenter is connected; the playlist exists
    // once the first segment is complete, and the player asks again until then.
    const attendee = await openContext(browser, server,
      { allow: /status of 404 .*\/live\/[^/]+\/master\.m3u8\)$/ });
    try {
      const admin = await organiser.context.newPage();
      await loginThroughPage(admin, server, org);

      // The organiser creates the webinar on the admin page.
      await admin.click('a[href="/admin/new"]');
      await admin.fill('#w-title', 'Waiting room day');
      await admin.check('#w-waiting_room');
      await admin.click('form button[type="submit"]');
      await admin.waitForSelector('#key-panel');
      const key = rememberSecret(await admin.inputValue('#key-value'));
      assert.equal(await admin.inputValue('#key-server'), server.rtmpBase);
      const id = Number(/^\/admin\/(\d+)$/.exec(new URL(admin.url()).pathname)[1]);
      const w = (await api(server, 'GET', `/api/admin/webinars/${id}`, { session: org })).json;
      assert.equal(w.waiting_room, true);
      server.slugs.add(w.slug);

      // The attendee registers and opens the link.
      const page = await attendee.context.newPage();
      await page.goto(server.url(`/w/${w.slug}`));
      await page.fill('#name', 'Ada Attendee');
      await page.fill('#email', 'ada@example.com');
      await page.check('#consent');
      await page.click('#submit');
      await page.waitForSelector('#done:not([hidden])');
      rememberSecret(new URL(await page.inputValue('#join-url')).pathname.split('/')[2]);
      await page.click('#join-link');
      await page.waitForURL((u) => u.pathname.startsWith('/j/'));
      await expectState(page, 'waiting', 10000);
      assert.match(await page.textContent('#status'), /waiting room/);
      await page.evaluate(() => { window.sameDocument = true; });

      // The organiser sees them in the waiting room and lets them in.
      await admin.click(`a[href="/admin/${id}?view=waiting"]`);
      const row = admin.locator('tr', { hasText: 'Ada Attendee' });
      await row.waitFor({ timeout: 10000 });
      await row.locator('button.admit').click();
      await row.waitFor({ state: 'detached', timeout: 10000 });

      // The attendee's page changes by itself (the held request is answered at once).
      await expectState(page, 'scheduled', 5000);
      assert.equal(await page.evaluate(() => window.sameDocument), true, 'no reload');
      assert.equal(await page.isVisible('#video'), false, 'nothing to play yet');

      // The presenter goes live: the page starts the player by itself.
      const p = push(server.publishUrl(key), { seconds: PUSH_S });
      await expectState(page, 'live', 15000);
      await expectVideoAdvances(page, 3);
      assert.equal(await page.evaluate(() => window.sameDocument), true, 'no reload');

      // Playing counts as attendance (a heartbeat when playback starts).
      await waitFor(async () => {
        const [r] = (await registrations(server, org, id)).registrations;
        return r.attendance.attended_live;
      }, 10000, 'the heartbeat to count the attendee as present live');

      assert.equal(await pushExit(p, (PUSH_S + 20) * 1000), 0, p.stderrText());
      // The session ended: the same page offers its recording and plays it.
      await expectState(page, 'replay', 10000);
      await expectVideoAdvances(page, 2);
      assert.equal(await page.evaluate(() => window.sameDocument), true, 'no reload');
      assert.deepEqual(organiser.problems, []);
      assert.deepEqual(attendee.problems, []);
    } finally {
      await organiser.context.close();
      await attendee.context.close();
    }
  });

test('room password and countdown', async () => {
  const starts = new Date(Date.now() + 3 * 3600e3).toISOString();
  const w = await apiWebinar(server, org, { title: 'Password room', starts_at: starts,
    room_password: rememberSecret('open sesame') });
  const reg = await apiRegister(server, w, { email: 'grace@example.com', name: 'Grace' });
  const { context, problems } = await openContext(browser, server, { allow: /status of 403/ });
  try {
    const page = await context.newPage();
    await page.goto(reg.join_url);
    await expectState(page, 'password', 10000);
    await page.fill('#password', 'wrong password');
    await page.press('#password', 'Enter');
    await page.waitForSelector('#password-error:not([hidden])');
    assert.match(await page.textContent('#password-error'), /not the room password/);
    await page.fill('#password', 'open sesame');
    await page.click('#password-submit');
    await expectState(page, 'scheduled', 10000);
    assert.equal(await page.isVisible('#password-form'), false);
    const first = await page.textContent('#countdown');
    assert.match(first, /^Starts in (2 hrs?, 59 mins?|3 hrs?, 0 mins?), \d+ secs?$/);
    await waitFor(async () => (await page.textContent('#countdown')) !== first, 3000,
      'the countdown to tick');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the server shuts down cleanly; its log has no email address and no secret', async () => {
  await stopAndCheck(server);
});
