// An attendee registers on /w/{slug} in a real browser: the webinar's facts in the viewer's time
// zone and language, the organiser's own fields, the consent box that starts unticked and
// blocks registering until ticked, errors from the API next to their field, and afterwards the
// personal join link and the calendar file. On a phone-sized screen, by keyboard.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { test, stopAndCheck, waitFor } from '../lib/harness.mjs';
import { startWorld, openContext, apiWebinar, registrations } from '../lib/pages.mjs';

let server, browser, org; // startWorld
before(async () => ({ server, org, browser } = await startWorld()));
after(() => browser?.close());

const STARTS = '2030-06-01T13:30:00.000Z';

async function makeWebinar() {
  return apiWebinar(server, org, {
    title: 'Browser registration <b>test</b>',
    description: 'First line\nSecond line',
    starts_at: STARTS, duration_s: 5400, presenters: ['Ada Lovelace', 'Grace Hopper'],
    form_fields: [
      { id: 'company', label: 'Company', type: 'text', required: true },
      { id: 'role', label: 'Role', type: 'select', required: false,
        options: ['Developer', 'Manager'] },
      { id: 'news', label: 'Send me news', type: 'checkbox' },
    ],
    privacy_notice: 'We keep your data for this webinar only.\nAsk us anything.',
    consent_text: 'I agree to the privacy notice.',
  });
}

test('registration: form with custom fields, consent required, join link and calendar file',
  async () => {
    const w = await makeWebinar();
    const { context, problems } = await openContext(browser, server, {
      viewport: { width: 375, height: 740 }, allow: /status of 422/ });
    try {
      const page = await context.newPage();
      await page.goto(server.url(`/w/${w.slug}?utm_source=newsletter&utm_campaign=spring`));
      await page.waitForSelector('#form:not([hidden])');
      assert.equal(await page.textContent('#title'), w.title, 'the title is text, not markup');
      const when = new Intl.DateTimeFormat('en-GB', { weekday: 'long', year: 'numeric',
        month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit',
        timeZoneName: 'short', timeZone: 'Europe/Berlin' }).format(new Date(STARTS));
      assert.equal(await page.textContent('#when'), when, 'the start in the viewer\'s zone');
      assert.match(when, /15:30/, 'Berlin is two hours ahead of UTC in June');
      assert.equal(await page.textContent('#duration'), '1 hour, 30 minutes');
      assert.equal(await page.textContent('#presenters'), 'Ada Lovelace, Grace Hopper');
      assert.equal(await page.$eval('#description', (e) => getComputedStyle(e).whiteSpace),
        'pre-line', 'line breaks of the description are kept');
      assert.equal(await page.textContent('#privacy'),
        'We keep your data for this webinar only.\nAsk us anything.');
      assert.equal(await page.textContent('#consent-text'), 'I agree to the privacy notice.');
      assert.equal(await page.isChecked('#consent'), false, 'consent starts unticked');
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);

      // Every field has a label; a required custom field is not marked optional.
      for (const id of ['name', 'email', 'f-company', 'f-role', 'f-news', 'consent'])
        assert.ok(await page.$(`label[for="${id}"]`), `#${id} has a label`);
      assert.doesNotMatch(await page.textContent('label[for="f-company"]'), /optional/);
      assert.match(await page.textContent('label[for="f-role"]'), /optional/);

      // By keyboard: type, Tab along, submit with Enter — consent left unticked.
      await page.focus('#name');
      await page.keyboard.type('Ada Lovelace');
      await page.keyboard.press('Tab');
      await page.keyboard.type('ada@localhost');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'f-company',
        'Tab goes from the email to the first custom field');
      await page.keyboard.type('ACME');
      await page.selectOption('#f-role', 'Manager');
      await page.press('#f-company', 'Enter');
      await page.waitForSelector('#consent-error:not([hidden])');
      assert.match(await page.textContent('#consent-error'), /consent/);
      assert.equal(await page.getAttribute('#consent', 'aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'consent',
        'the first field in error gets the focus');
      assert.equal((await registrations(server, org, w.id)).registrations.length, 0,
        'nothing registered without consent');

      // Consent ticked (Space), but an address the API refuses: its error shows at the email.
      await page.keyboard.press('Space');
      assert.equal(await page.isChecked('#consent'), true);
      await page.press('#consent', 'Enter');
      await page.waitForSelector('#email-error:not([hidden])');
      assert.match(await page.textContent('#email-error'), /not a valid email address/);
      assert.equal(await page.isVisible('#consent-error'), false, 'the consent error is gone');
      assert.equal((await registrations(server, org, w.id)).registrations.length, 0);

      await page.fill('#email', 'ada@example.com');
      await page.click('#submit');
      await page.waitForSelector('#done:not([hidden])');
      assert.equal(await page.isVisible('#form'), false);
      const joinUrl = await page.inputValue('#join-url');
      assert.match(joinUrl, new RegExp(`^${server.httpBase}/j/[A-Za-z0-9_-]{43}$`));
      assert.equal(await page.getAttribute('#join-link', 'href'), joinUrl);
      assert.equal(await page.isVisible('#approval-note'), false, 'no approval needed');

      const list = (await registrations(server, org, w.id)).registrations;
      assert.equal(list.length, 1);
      assert.deepEqual(list[0].fields, { company: 'ACME', role: 'Manager', news: false });
      assert.equal(list[0].source.utm_source, 'newsletter');
      assert.equal(list[0].source.utm_campaign, 'spring');
      assert.equal(list[0].consent.version, w.consent_version);

      // The calendar file downloads as text/calendar with the join link in it.
      const href = await page.getAttribute('#calendar', 'href');
      const res = await context.request.get(href);
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-type'], /^text\/calendar/);
      const [download] = await Promise.all([page.waitForEvent('download'),
        page.click('#calendar')]);
      const ics = await fsp.readFile(await download.path(), 'utf8');
      assert.match(ics, /^BEGIN:VCALENDAR\r\n/);
      assert.match(ics.replace(/\r\n /g, ''), new RegExp(`URL:${joinUrl}`));
      assert.match(ics, /DTSTART:20300601T133000Z/);

      await page.click('#copy');
      await waitFor(async () => (await page.textContent('#copy-status')).length > 0, 5000,
        'the copy button to answer');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

test('registration page in German, with the switch to English', async () => {
  const w = await makeWebinar();
  const { context, problems } = await openContext(browser, server, { locale: 'de-DE' });
  try {
    const page = await context.newPage();
    await page.goto(server.url(`/w/${w.slug}`));
    await page.waitForSelector('#form:not([hidden])');
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await page.textContent('#submit'), 'Anmelden');
    assert.match(await page.textContent('#when'), /Samstag, 1\. Juni 2030.*15:30/);
    assert.equal(await page.textContent('#duration'), '1 Stunde, 30 Minuten');
    await page.click('#lang');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.textContent('#submit'), 'Register');
    assert.match(await page.textContent('#when'), /^Saturday, June 1, 2030.*3:30/);
    await page.reload();
    await page.waitForSelector('#form:not([hidden])');
    assert.equal(await page.textContent('#submit'), 'Register', 'the choice is remembered');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('an unknown webinar says so', async () => {
  const { context, problems } = await openContext(browser, server, { allow: /status of 404/ });
  try {
    const page = await context.newPage();
    await page.goto(server.url('/w/no-such-webinar'));
    await waitFor(async () => /not found/.test(await page.textContent('#title')), 5000,
      'the not-found title');
    assert.equal(await page.isVisible('#form'), false);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the server shuts down cleanly; its log has no email address and no secret', async () => {
  await stopAndCheck(server);
});
