// The organiser's admin page in a real browser: creating a webinar with its own registration
// fields (the form builder), the stream key shown once, editing (a refused value shown at its
// field, a reordered form, a new consent text counted up), approving pending registrations in
// bulk while an attendee's join page follows, a new stream key, and deleting the webinar.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  test, stopAndCheck, rememberSecret, waitFor, api,
} from '../lib/harness.mjs';
import { startWorld, openContext, apiWebinar, apiRegister, registrations } from '../lib/pages.mjs';

let server, browser, org; // startWorld
before(async () => ({ server, org, browser } = await startWorld()));
after(() => browser?.close());

const TITLE = 'Quarterly <i>update</i>';

async function getWebinar(id) {
  const r = await api(server, 'GET', `/api/admin/webinars/${id}`, { session: org });
  assert.equal(r.status, 200, String(r.body));
  return r.json;
}

/* The form builder's row whose label is `label`. */
async function builderRow(page, label) {
  const labels = await page.locator('.builder-row input[id^="ff-label-"]')
    .evaluateAll((inputs) => inputs.map((i) => i.value));
  assert.ok(labels.includes(label), `a builder row labelled ${label} among ${labels}`);
  return page.locator('.builder-row').nth(labels.indexOf(label));
}

async function addField(page, { label, type, required, options }) {
  await page.click('button:text("Add a field")');
  const row = page.locator('.builder-row').last();
  await row.locator('input[id^="ff-label-"]').fill(label);
  if (type) await row.locator('select').selectOption(type);
  if (required) await row.locator('input[type="checkbox"]').check();
  if (options) await row.locator('textarea').fill(options.join('\n'));
}

test('admin: create with custom fields, edit, approve in bulk, new key, delete', async () => {
  const { context, problems } = await openContext(browser, server,
    { allow: /status of 422/ });
  const attendee = await openContext(browser, server);
  try {
    // This browser has the organiser's session (the login page itself is in join.test.mjs).
    await context.addCookies([{ name: 'lectern_session', value: org.cookie,
      url: server.httpBase }]);
    const page = await context.newPage();
    page.on('dialog', (d) => d.accept());

    // Create: a deep link to the form works.
    await page.goto(server.url('/admin/new'));
    await page.fill('#w-title', TITLE);
    await page.fill('#w-description', 'Line one\nLine two');
    await page.fill('#w-starts_at', '2030-06-01T15:30');
    await page.fill('#w-duration_s', '90');
    await page.fill('#w-presenters', 'Ada Lovelace\nGrace Hopper\n');
    await page.check('#w-approval');
    await addField(page, { label: 'Company', required: true });
    await addField(page, { label: 'Your role', type: 'select', options: ['Developer', 'Manager'] });
    assert.equal(await (await builderRow(page, 'Your role')).locator('input[id^="ff-id-"]')
      .inputValue(), 'your_role', 'the id is made from the label');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('#key-panel');
    rememberSecret(await page.inputValue('#key-value'));
    const key1 = await page.inputValue('#key-value');
    const id = Number(/^\/admin\/(\d+)$/.exec(new URL(page.url()).pathname)[1]);
    let w = await getWebinar(id);
    assert.equal(w.title, TITLE);
    assert.equal(w.description, 'Line one\nLine two');
    assert.equal(w.starts_at, '2030-06-01T13:30:00.000Z', 'entered in Berlin time, stored UTC');
    assert.equal(w.duration_s, 5400);
    assert.deepEqual(w.presenters, ['Ada Lovelace', 'Grace Hopper']);
    assert.equal(w.approval, true);
    assert.equal(w.waiting_room, false);
    assert.deepEqual(w.form_fields, [
      { id: 'company', label: 'Company', type: 'text', required: true },
      { id: 'your_role', label: 'Your role', type: 'select', required: false,
        options: ['Developer', 'Manager'] },
    ]);

    // The key is shown once; the list shows the title as text.
    await page.reload();
    await page.waitForSelector('#w-title');
    assert.equal(await page.$('#key-panel'), null, 'the key is not shown again');
    await page.click('nav.nav a[href="/admin"]');
    const cell = page.locator(`a[href="/admin/${id}"]`);
    await cell.waitFor();
    assert.equal(await cell.textContent(), TITLE);
    assert.equal(await cell.locator('i').count(), 0, 'no markup from data');
    await cell.click();
    await page.waitForSelector('#w-title');

    // Every text has its translation: no key shows, in German or in English, and the switch
    // keeps what was typed.
    const keysShown = () => page.evaluate(() =>
      document.body.innerText.match(/\b(adm|reg|join|err|ftype|state|access)\.[a-zA-Z]+/g));
    await page.fill('#w-description', 'Typed before the switch');
    await page.click('#lang');
    assert.equal(await page.textContent('label[for="w-title"]'), 'Titel');
    assert.equal(await keysShown(), null);
    await page.click('#lang');
    assert.equal(await page.textContent('label[for="w-title"]'), 'Title');
    assert.equal(await keysShown(), null);
    assert.equal(await page.inputValue('#w-description'), 'Typed before the switch');
    await page.fill('#w-description', 'Line one\nLine two');

    // A refused value is shown at its field, and nothing is saved.
    await page.fill('#w-retention_days', '0');
    await page.click('form button[type="submit"]');
    await page.waitForSelector('#w-retention_days-error:not([hidden])');
    assert.match(await page.textContent('#w-retention_days-error'), /retention_days/);
    assert.equal((await getWebinar(id)).updated_at, w.updated_at, 'nothing was saved');

    // Fixed, renamed, "Your role" moved up, a new consent text: saved as one change.
    await page.fill('#w-retention_days', '30');
    await page.fill('#w-title', 'Quarterly update');
    await (await builderRow(page, 'Your role')).locator('button:text("Up")').click();
    await page.fill('#w-consent_text', 'I agree, version two.');
    await page.click('form button[type="submit"]');
    await waitFor(async () => (await page.textContent('#status')) === 'Saved.', 10000,
      'the save to be confirmed');
    w = await getWebinar(id);
    assert.equal(w.title, 'Quarterly update');
    assert.equal(w.retention_days, 30);
    assert.deepEqual(w.form_fields.map((f) => f.id), ['your_role', 'company']);
    assert.equal(w.consent_text, 'I agree, version two.');
    assert.equal(w.consent_version, '2', 'a new consent text counts the version up');

    // Two registrations wait for approval; one attendee watches their join page.
    const a = await apiRegister(server, w, { email: 'ada@example.com', name: 'Ada',
      fields: { company: 'ACME' } });
    await apiRegister(server, w, { email: 'grace@example.com', name: 'Grace',
      fields: { company: 'Initech', your_role: 'Manager' } });
    assert.equal(a.approval_required, true);
    const join = await attendee.context.newPage();
    await join.goto(a.join_url);
    await waitFor(async () => (await join.$eval('#status', (e) => e.dataset.state)) ===
      'pending', 10000, 'the join page to say pending');

    await page.click(`a[href="/admin/${id}?view=registrations"]`);
    await page.waitForSelector('input.reg-select');
    assert.equal(await page.locator('input.reg-select').count(), 2);
    assert.match(await page.textContent('tbody'), /Company: ACME/);
    assert.match(await page.textContent('tbody'), /Your role: Manager/);
    assert.equal(await page.isDisabled('button:text("Approve selected")'), true);
    await page.check('#reg-all');
    assert.equal(await page.textContent('#reg-selected'), '2 selected');
    await page.click('button:text("Approve selected")');
    await waitFor(async () => (await page.textContent('#status')) === '2 approved.', 10000,
      'the approval to be confirmed');
    const counts = (await registrations(server, org, id)).counts;
    assert.deepEqual(counts, { pending: 0, approved: 2, rejected: 0 });
    await waitFor(async () => (await join.$eval('#status', (e) => e.dataset.state)) ===
      'scheduled', 5000, 'the attendee\'s page to follow the approval without a reload');
    await join.close();
    await page.selectOption('#reg-state', 'pending');
    await page.waitForSelector('text=No registrations.');

    // A new stream key, shown once; then the webinar is deleted.
    await page.click(`a[href="/admin/${id}"]`);
    await page.click('button:text("New stream key")');
    await page.waitForSelector('#key-panel');
    const key2 = rememberSecret(await page.inputValue('#key-value'));
    assert.notEqual(key2, key1);
    await page.click('button:text("Delete this webinar")');
    await page.waitForURL((u) => u.pathname === '/admin');
    assert.equal((await api(server, 'GET', `/api/admin/webinars/${id}`, { session: org }))
      .status, 404);
    assert.deepEqual(problems, []);
    assert.deepEqual(attendee.problems, []);
  } finally {
    await context.close();
    await attendee.context.close();
  }
});

test('waiting room: "let everyone in from now on" lets the waiting attendee in', async () => {
  const w = await apiWebinar(server, org, { title: 'Open doors', waiting_room: true });
  const a = await apiRegister(server, w, { email: 'lin@example.com', name: 'Lin' });
  const { context, problems } = await openContext(browser, server);
  try {
    await context.addCookies([{ name: 'lectern_session', value: org.cookie,
      url: server.httpBase }]);
    const join = await context.newPage();
    await join.goto(a.join_url);
    const state = () => join.$eval('#status', (e) => e.dataset.state);
    await waitFor(async () => (await state()) === 'waiting', 10000, 'the waiting room');
    const page = await context.newPage();
    await page.goto(server.url(`/admin/${w.id}?view=waiting`));
    await page.waitForSelector('tr:has-text("Lin") button.admit');
    assert.equal(await page.textContent('#waiting-count'), '1 waiting');
    await page.check('#admit-everyone');
    await waitFor(async () => (await state()) === 'scheduled', 5000,
      'the attendee to be let in without a reload');
    const r = await api(server, 'GET', `/api/admin/webinars/${w.id}/waiting`, { session: org });
    assert.equal(r.json.admit_all, true);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('login goes back only to pages of this site; erasing asks first', async () => {
  const { context, problems } = await openContext(browser, server);
  try {
    await context.addCookies([{ name: 'lectern_session', value: org.cookie,
      url: server.httpBase }]);
    const page = await context.newPage();
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example',
      'javascript:alert(1)']) {
      await page.goto(server.url(`/login?next=${encodeURIComponent(next)}`));
      await page.waitForSelector('#signed-in:not([hidden])');
      assert.equal(new URL(page.url()).origin, new URL(server.httpBase).origin, next);
      assert.equal(new URL(page.url()).pathname, '/login', `stays on /login for ${next}`);
    }
    await page.goto(server.url('/login?next=%2Fadmin%2Fdata-subject'));
    await page.waitForURL((u) => u.pathname === '/admin/data-subject');

    const sent = [];
    page.on('request', (r) => { if (r.method() === 'POST') sent.push(r.url()); });
    await page.click('#ds-access');
    await page.waitForSelector('#ds-email-error:not([hidden])');
    await page.fill('#ds-email', 'someone@example.com');
    page.once('dialog', (d) => {
      assert.match(d.message(), /someone@example\.com/);
      d.dismiss();
    });
    await page.click('#ds-erase');
    await page.waitForTimeout(300);
    assert.deepEqual(sent, [], 'nothing is erased without confirmation');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the server shuts down cleanly; its log has no email address and no secret', async () => {
  await stopAndCheck(server);
});
