// Registration and joining against the real server: the public form and its rules (every bad
// input refused by field with nothing written), a repeat registration that answers exactly as a
// first one and changes nothing, join links and the calendar file, manual approval in bulk, the
// waiting room with admission that reaches a waiting page without a reload, the room password
// with its rate limit, attendance heartbeats, and what attendees can and cannot see.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  makeTempDir, runLectern,
  test, startServer, stopAndCheck, api, assertError, loginOrganiser, rememberSecret, httpRequest,
  apiWebinar, push, pushExit, waitFor, getPlaylist, sleep,
} from '../lib/harness.mjs';

let server;
let org;

before(async () => {
  server = await startServer();
  org = await loginOrganiser(server);
});

after(async () => {
  if (server) await stopAndCheck(server);
});

const ADMIN = '/api/admin/webinars';
const as = (method, p, opts = {}) => api(server, method, p, { session: org, ...opts });

async function create(body) {
  const r = await as('POST', ADMIN, { body });
  assert.equal(r.status, 201, `create: ${r.body}`);
  rememberSecret(r.json.stream_key);
  server.slugs.add(r.json.slug);
  return r.json;
}

const FORM = [
  { id: 'company', label: 'Company', type: 'text', required: true },
  { id: 'work_email', label: 'Work email', type: 'email', required: false },
  { id: 'role', label: 'Role', type: 'select', required: true, options: ['Sales', 'Tech'] },
  { id: 'newsletter', label: 'Newsletter', type: 'checkbox', required: false },
  { id: 'terms', label: 'Terms', type: 'checkbox', required: true },
];

let seq = 0;
function person(extra = {}) {
  seq += 1;
  return {
    email: `person${seq}@example.com`, name: `Person ${seq}`, consent: true, ...extra,
  };
}
/* Someone filling in FORM. */
const formPerson = (extra = {}) => person({ fields: { company: 'ACME', role: 'Sales', terms: true },
  ...extra });

async function register(slug, body, expectStatus = 201) {
  const pub = await api(server, 'GET', `/api/webinars/${slug}`);
  const full = { consent_version: pub.json?.registration?.consent_version ?? '1', ...body };
  const r = await api(server, 'POST', `/api/webinars/${slug}/registrations`, { body: full });
  if (expectStatus === 201) {
    assert.equal(r.status, 201, `register: ${r.body}`);
    const token = /\/j\/([A-Za-z0-9_-]{43})$/.exec(r.json.join_url)?.[1];
    assert.ok(token, r.json.join_url);
    rememberSecret(token);
    r.token = token;
  }
  return r;
}

const join = (token, query = '') => api(server, 'GET', `/api/join/${token}${query}`);

async function registrations(id, query = '') {
  const r = await as('GET', `${ADMIN}/${id}/registrations${query}`);
  assert.equal(r.status, 200, r.body.toString());
  return r.json;
}

test('the registration page has the form, the privacy notice and the consent text', async () => {
  const w = await create({ title: 'Form', form_fields: FORM, consent_text: 'I agree to X.',
    privacy_notice: 'We, ACME, store your name.' });
  assert.equal(w.consent_version, '1');
  const pub = await apiWebinar(server, w.slug);
  assert.deepEqual(pub.registration.fields.map((f) => f.id), FORM.map((f) => f.id));
  assert.equal(pub.registration.consent_text, 'I agree to X.');
  assert.equal(pub.registration.privacy_notice, 'We, ACME, store your name.');
  assert.equal(pub.registration.privacy_notice_i18n, undefined, 'the organiser\'s own text only');
  // The server's default texts come in English and German.
  const plain = await apiWebinar(server, (await create({ title: 'Defaults' })).slug);
  assert.equal(plain.registration.privacy_notice, plain.registration.privacy_notice_i18n.en);
  assert.match(plain.registration.privacy_notice_i18n.de, /Verantwortlich/);
  assert.match(plain.registration.consent_text_i18n.de, /Ich willige ein/);
  for (const page of [`/w/${w.slug}`]) {
    const res = await httpRequest(server.url(page));
    assert.equal(res.status, 200);
    assert.match(res.headers['content-security-policy'], /default-src 'self'/);
  }
  // A changed consent text gets the next version; a registration made against the old one is
  // refused, so every stored consent names the text that was shown.
  const v2 = await as('PATCH', `${ADMIN}/${w.id}`, { body: { consent_text: 'I agree to Y.' } });
  assert.equal(v2.json.consent_version, '2');
  assertError(await api(server, 'POST', `/api/webinars/${w.slug}/registrations`,
    { body: { ...formPerson(), consent_version: '1' } }), 409, 'consent_changed', 'consent_version');
  // Form definitions are checked too.
  for (const [bad, why] of [
    [[{ id: 'Name', label: 'x', type: 'text' }], 'id'],
    [[{ id: 'email', label: 'x', type: 'text' }], 'reserved id'],
    [[{ id: 'a', label: 'x', type: 'radio' }], 'type'],
    [[{ id: 'a', label: 'x', type: 'select' }], 'select without options'],
    [[{ id: 'a', label: 'x', type: 'text', options: ['q'] }], 'options on text'],
    [[{ id: 'a', label: 'x', type: 'text' }, { id: 'a', label: 'y', type: 'text' }], 'twice'],
    [[{ id: 'a', label: '', type: 'text' }], 'empty label'],
    [[{ id: 'a', label: 'x', type: 'text', extra: 1 }], 'unknown member'],
  ]) {
    assertError(await as('PATCH', `${ADMIN}/${w.id}`, { body: { form_fields: bad } }), 422,
      'invalid_field', 'form_fields', why);
  }
});

test('a new consent text applies at once to pages showing it, within a second to the rest',
  async () => {
    const w = await create({ title: 'Consent versions' });
    await register(w.slug, person()); // the registration path now holds the webinar
    const v2 = await as('PATCH', `${ADMIN}/${w.id}`, { body: { consent_text: 'New text.' } });
    assert.equal(v2.json.consent_version, '2');
    const fresh = await register(w.slug, person({ consent_version: '2' }));
    assert.equal(fresh.status, 201, 'a page showing the new text registers at once');
    await sleep(1100);
    assertError(await register(w.slug, person({ consent_version: '1' }), 409), 409,
      'consent_changed', 'consent_version');
    const versions = (await registrations(w.id)).registrations.map((r) => r.consent.version);
    assert.deepEqual(versions, ['1', '2'], 'each consent names the text that was shown');
  });

test('bad registrations are refused by field and nothing is written', async () => {
  const w = await create({ title: 'Rules', form_fields: FORM });
  const ok = formPerson();
  const cases = [
    [{ ...ok, email: 'not-an-email' }, 422, 'invalid_field', 'email'],
    [{ ...ok, email: 'a@b' }, 422, 'invalid_field', 'email'],
    [{ ...ok, consent: false }, 422, 'consent_required', 'consent'],
    [{ ...ok, consent: 'yes' }, 422, 'invalid_field', 'consent'],
    [{ ...ok, name: '' }, 422, 'invalid_field', 'name'],
    [{ ...ok, name: 'x'.repeat(201) }, 422, 'invalid_field', 'name'],
    [{ ...ok, name: 'a\u0007b' }, 422, 'invalid_field', 'name'],
    [{ ...ok, name: 'a\u0000b' }, 400, 'invalid_json', 'name'],
    [{ ...ok, fields: { ...ok.fields, company: '' } }, 422, 'missing_field', 'fields.company'],
    [{ ...ok, fields: { ...ok.fields, role: 'CEO' } }, 422, 'invalid_field', 'fields.role'],
    [{ ...ok, fields: { ...ok.fields, terms: false } }, 422, 'missing_field', 'fields.terms'],
    [{ ...ok, fields: { ...ok.fields, newsletter: 'yes' } }, 422, 'invalid_field',
      'fields.newsletter'],
    [{ ...ok, fields: { ...ok.fields, work_email: 'nope' } }, 422, 'invalid_field',
      'fields.work_email'],
    [{ ...ok, fields: { ...ok.fields, shoe_size: '44' } }, 422, 'unknown_field',
      'fields.shoe_size'],
    [{ ...ok, fields: { ...ok.fields, company: 'x'.repeat(1001) } }, 422, 'invalid_field',
      'fields.company'],
    [{ ...ok, utm_source: 'x'.repeat(201) }, 422, 'invalid_field', 'utm_source'],
    [{ ...ok, admin: true }, 422, 'unknown_field', 'admin'],
    [{ ...ok, fields: 'company=ACME' }, 422, 'invalid_field', 'fields'],
  ];
  for (const [body, status, code, field] of cases) {
    const r = await register(w.slug, body, status);
    assertError(r, status, code, field);
  }
  // Missing members, not JSON, not UTF-8, too large.
  const v = (await apiWebinar(server, w.slug)).registration.consent_version;
  const post = (body, headers = { 'Content-Type': 'application/json' }) => httpRequest(
    server.url(`/api/webinars/${w.slug}/registrations`), { method: 'POST', headers, body });
  const { email: _e, ...noEmail } = ok;
  assertError(await post(JSON.stringify({ ...noEmail, consent_version: v })), 422,
    'missing_field', 'email');
  assertError(await post('{"email": '), 400, 'invalid_json');
  assertError(await post(JSON.stringify(ok), { 'Content-Type': 'text/plain' }), 415,
    'unsupported_media_type');
  assertError(await post(Buffer.concat([Buffer.from(`{"email":"a@example.com","name":"`),
    Buffer.from([0xc3, 0x28]), Buffer.from(`","consent":true,"consent_version":"${v}"}`)])),
  400, 'invalid_utf8', 'name');
  assertError(await post(JSON.stringify({ ...ok, consent_version: v, name: 'x'.repeat(70000) })),
    413, 'body_too_large');
  assertError(await register('no-such-webinar', ok, 404), 404, 'not_found');
  const list = await registrations(w.id);
  assert.equal(list.registrations.length, 0, 'nothing half-written');
  assert.deepEqual(list.counts, { pending: 0, approved: 0, rejected: 0 });
});

test('markup and SQL are stored as text; the referrer loses its query', async () => {
  const w = await create({ title: 'Payloads', form_fields: FORM });
  const nasty = `<script>alert(1)</script>'); DROP TABLE registrations;--`;
  const r = await register(w.slug, person({ name: nasty,
    fields: { company: '<img src=x onerror=alert(1)>', role: 'Tech', terms: true },
    utm_source: 'news<b>', utm_campaign: "x' OR 1=1", referrer: 'https://mail.example/r?u=a@b.c#x' }));
  assert.equal(r.status, 201);
  const [reg] = (await registrations(w.id)).registrations;
  assert.equal(reg.name, nasty);
  assert.equal(reg.fields.company, '<img src=x onerror=alert(1)>');
  assert.deepEqual(reg.source, { utm_source: 'news<b>', utm_medium: null,
    utm_campaign: "x' OR 1=1", referrer: 'https://mail.example/r' });
  assert.equal(reg.fields.newsletter, false, 'an unticked checkbox is stored as false');
  assert.equal(reg.state, 'approved');
  assert.equal(reg.consent.version, '1');
  assert.ok(Date.parse(reg.consent.at) > Date.now() - 60000);
});

test('registering again answers the same and changes nothing', async () => {
  const w = await create({ title: 'Twice', starts_at: '2030-01-01T10:00:00Z' });
  const first = await register(w.slug, { email: 'Ada@Example.com', name: 'Ada', consent: true,
    utm_source: 'first' });
  const again = await register(w.slug, { email: 'ada@example.COM', name: 'Mallory',
    consent: true, utm_source: 'second' });
  assert.equal(again.status, first.status);
  assert.deepEqual(Object.keys(again.json).sort(), Object.keys(first.json).sort());
  assert.equal(again.json.approval_required, first.json.approval_required);
  assert.notEqual(again.token, first.token, 'a new link: the first one is never revealed');
  assert.equal(again.body.length, first.body.length, 'the same answer, byte for byte in size');
  const list = await registrations(w.id);
  assert.equal(list.registrations.length, 1, 'one lead');
  const [reg] = list.registrations;
  assert.equal(reg.name, 'Ada', 'the earlier data is untouched');
  assert.equal(reg.email, 'Ada@Example.com');
  assert.equal(reg.source.utm_source, 'first');
  // Both links open the same registration.
  assert.equal((await join(first.token)).json.state, 'scheduled');
  assert.equal((await join(again.token)).json.state, 'scheduled');
  // The calendar file: RFC 5545, CRLF, folded lines, the link inside.
  const ics = await httpRequest(first.json.calendar_url);
  assert.equal(ics.status, 200);
  assert.match(ics.headers['content-type'], /^text\/calendar/);
  const text = ics.body.toString();
  assert.match(text, /^BEGIN:VCALENDAR\r\nVERSION:2\.0\r\n/);
  assert.match(text, /\r\nDTSTART:20300101T100000Z\r\n/);
  assert.match(text, /\r\nDTEND:20300101T110000Z\r\n/);
  assert.ok(text.split('\r\n').every((l) => Buffer.byteLength(l) <= 75), 'folded at 75 octets');
  assert.ok(text.replaceAll('\r\n ', '').includes(first.json.join_url), 'the join link');
  assert.ok(!/[^\r]\n/.test(text), 'CRLF only');
  assertError(await httpRequest(server.url(`/j/${'A'.repeat(43)}/calendar.ics`)), 404,
    'not_found');
  assertError(await join('A'.repeat(43)), 404, 'not_found');
  assertError(await join('short'), 404, 'not_found');
});

test('with approval, registrations wait; bulk decisions reach the join page at once',
  async () => {
    const w = await create({ title: 'Approval', approval: true });
    const a = await register(w.slug, person());
    const b = await register(w.slug, person());
    const c = await register(w.slug, person());
    assert.equal(a.json.approval_required, true);
    for (const r of [a, b, c]) assert.equal((await join(r.token)).json.state, 'pending');
    const list = await registrations(w.id, '?state=pending');
    assert.equal(list.registrations.length, 3);
    const ids = list.registrations.map((x) => x.id);
    // The page waits on its state; the decision answers it.
    const t0 = Date.now();
    const waiting = join(a.token, '?wait=pending');
    await sleep(300);
    const d = await as('POST', `${ADMIN}/${w.id}/registrations/decision`,
      { body: { ids: [ids[0], ids[1]], decision: 'approve' } });
    assert.equal(d.status, 200, d.body.toString());
    assert.equal(d.json.changed, 2);
    const woken = await waiting;
    assert.equal(woken.json.state, 'scheduled');
    assert.ok(Date.now() - t0 < 5000, 'answered when decided, not at the timeout');
    assert.equal((await as('POST', `${ADMIN}/${w.id}/registrations/decision`,
      { body: { ids: [ids[2]], decision: 'reject' } })).json.changed, 1);
    assert.equal((await join(c.token)).json.state, 'rejected');
    assert.deepEqual((await registrations(w.id)).counts, { pending: 0, approved: 2, rejected: 1 });
    // A repeat registration of an approved person is pending like a first one would be.
    const emailA = list.registrations[0].email;
    const again = await register(w.slug, { email: emailA, name: 'x', consent: true });
    assert.equal(again.json.approval_required, true);
    assert.equal((await join(again.token)).json.state, 'pending');
    assert.equal((await join(a.token)).json.state, 'scheduled', 'the first link still works');
    const [regA] = (await registrations(w.id)).registrations;
    assert.equal(regA.pending_links, 1);
    // Rejecting it rejects only that link.
    await as('POST', `${ADMIN}/${w.id}/registrations/decision`,
      { body: { ids: [regA.id], decision: 'reject' } });
    assertError(await join(again.token), 404, 'not_found');
    assert.equal((await join(a.token)).json.state, 'scheduled');
    // Bad decisions.
    for (const [body, code, field] of [
      [{ ids: [1], decision: 'maybe' }, 'invalid_field', 'decision'],
      [{ ids: ['1'], decision: 'approve' }, 'invalid_field', 'ids'],
      [{ ids: [0], decision: 'approve' }, 'invalid_field', 'ids'],
      [{ decision: 'approve' }, 'missing_field', 'ids'],
    ]) {
      assertError(await as('POST', `${ADMIN}/${w.id}/registrations/decision`, { body }), 422,
        code, field);
    }
    // Ids of another webinar are not touched.
    const other = await create({ title: 'Other', approval: true });
    const o = await register(other.slug, person());
    const oid = (await registrations(other.id)).registrations[0].id;
    assert.equal((await as('POST', `${ADMIN}/${w.id}/registrations/decision`,
      { body: { ids: [oid], decision: 'approve' } })).json.changed, 0);
    assert.equal((await join(o.token)).json.state, 'pending');
  });

test('the waiting room: attendees wait until admitted, one, all, or everyone from now on',
  async () => {
    const w = await create({ title: 'Lobby', waiting_room: true });
    const a = await register(w.slug, person());
    const b = await register(w.slug, person());
    assert.equal((await join(a.token)).json.state, 'waiting');
    assert.equal((await join(b.token)).json.state, 'waiting');
    const lobby = await as('GET', `${ADMIN}/${w.id}/waiting`);
    assert.equal(lobby.status, 200);
    assert.deepEqual(lobby.json.waiting.map((x) => x.name), ['Person ' + (seq - 1),
      'Person ' + seq], 'in order of arrival, with names for the moderator');
    const t0 = Date.now();
    const held = join(a.token, '?wait=waiting');
    let otherAnswered = false;
    const heldOther = join(b.token, '?wait=waiting').then((r) => { otherAnswered = true; return r; });
    await sleep(300);
    const admit = await as('POST', `${ADMIN}/${w.id}/admission`,
      { body: { ids: [lobby.json.waiting[0].id] } });
    assert.deepEqual(admit.json, { admitted: 1, admit_all: false });
    assert.equal((await held).json.state, 'scheduled');
    assert.ok(Date.now() - t0 < 5000, 'admission arrives without waiting for the timeout');
    await sleep(500);
    assert.equal(otherAnswered, false, 'admitting one leaves the others waiting quietly');
    assert.equal((await join(b.token)).json.state, 'waiting');
    assert.deepEqual((await as('GET', `${ADMIN}/${w.id}/waiting`)).json.waiting.map((x) => x.id),
      [lobby.json.waiting[1].id]);
    // Admit all who wait, then everyone from now on.
    assert.equal((await as('POST', `${ADMIN}/${w.id}/admission`, { body: { all: true } }))
      .json.admitted, 1);
    assert.equal((await heldOther).json.state, 'scheduled');
    assert.equal((await join(b.token)).json.state, 'scheduled');
    const c = await register(w.slug, person());
    assert.equal((await join(c.token)).json.state, 'waiting');
    const on = await as('POST', `${ADMIN}/${w.id}/admission`, { body: { admit_all: true } });
    assert.equal(on.json.admit_all, true);
    assert.equal((await join(c.token)).json.state, 'scheduled');
    await as('POST', `${ADMIN}/${w.id}/admission`, { body: { admit_all: false } });
    assert.equal((await join(c.token)).json.state, 'waiting');
    assertError(await as('POST', `${ADMIN}/${w.id}/admission`, { body: {} }), 422,
      'missing_field', 'ids');
    // Without the wait parameter matching the state, the answer is immediate.
    const t1 = Date.now();
    assert.equal((await join(c.token, '?wait=scheduled')).json.state, 'waiting');
    assert.ok(Date.now() - t1 < 2000);
  });

test('the room password is asked once per registration and rate-limited', async () => {
  const w = await create({ title: 'Locked', room_password: 'open sesame' });
  const a = await register(w.slug, person());
  assert.equal((await join(a.token)).json.state, 'password');
  const pw = (token, password) => api(server, 'POST', `/api/join/${token}/password`,
    { body: { password } });
  assertError(await pw(a.token, 'wrong'), 403, 'wrong_password', 'password');
  assert.equal((await pw(a.token, 'open sesame')).status, 204);
  assert.equal((await join(a.token)).json.state, 'scheduled', 'remembered for this link');
  const b = await register(w.slug, person());
  for (let i = 0; i < 10; i++) assertError(await pw(b.token, `guess ${i}`), 403, 'wrong_password');
  const limited = await pw(b.token, 'open sesame');
  assertError(limited, 429, 'too_many_attempts');
  assert.ok(Number(limited.headers['retry-after']) > 0);
  assert.equal((await join(b.token)).json.state, 'password');
  assertError(await pw(b.token, 123), 422, 'invalid_field', 'password');
});

test('attendees see no one else: the join and public APIs carry no personal data',
  async () => {
    const w = await create({ title: 'Private', form_fields: FORM });
    const a = await register(w.slug, formPerson({ name: 'Secret Name',
      email: 'secret.person@example.com' }));
    const texts = [
      (await join(a.token)).body.toString(),
      (await httpRequest(server.url(`/api/webinars/${w.slug}`))).body.toString(),
      (await httpRequest(server.url(`/w/${w.slug}`))).body.toString(),
    ];
    for (const t of texts) {
      assert.ok(!t.includes('Secret Name') && !t.includes('secret.person'), t.slice(0, 200));
      assert.ok(!t.includes('ACME'));
    }
    // Organiser endpoints need a login.
    for (const p of [`${ADMIN}/${w.id}/registrations`, `${ADMIN}/${w.id}/waiting`]) {
      assertError(await api(server, 'GET', p), 401, 'not_logged_in');
    }
    for (const p of [`${ADMIN}/${w.id}/registrations/decision`, `${ADMIN}/${w.id}/admission`]) {
      assertError(await api(server, 'POST', p, { body: { ids: [1], decision: 'approve' } }), 401,
        'not_logged_in');
      assertError(await as('POST', p, { body: { ids: [1], decision: 'approve' }, csrf: false }),
        403, 'csrf');
    }
  });

test('live: the join link plays the stream and heartbeats count the minutes watched',
  { timeout: 120e3 }, async () => {
    const w = await create({ title: 'Live attendance' });
    const a = await register(w.slug, person());
    const p = push(server.publishUrl(w.stream_key), { seconds: 20 });
    try {
      const live = await waitFor(async () => {
        const r = await join(a.token);
        return r.json.state === 'live' && r.json.hls_url ? r.json : null;
      }, 15000, 'the join link to turn live');
      assert.match(live.hls_url, /^\/live\/[0-9a-f]{32}\/master\.m3u8$/);
      assert.ok(!live.hls_url.includes(w.slug), 'the media name is not the public slug');
      const master = await waitFor(async () => {
        const r = await httpRequest(server.url(live.hls_url));
        return r.status === 200 ? r : null;
      }, 15000, 'the master playlist');
      assert.match(master.body.toString(), /#EXTM3U/);
      const hb = (mode) => api(server, 'POST', `/api/join/${a.token}/heartbeat`, { body: { mode } });
      assert.equal((await hb('live')).status, 204);
      await sleep(2200);
      assert.equal((await hb('live')).status, 204);
      assertError(await hb('sideways'), 422, 'invalid_field', 'mode');
      const reg = await waitFor(async () => {
        const [r] = (await registrations(w.id)).registrations;
        return r.attendance.seconds_live >= 2 ? r : null;
      }, 5000, 'the heartbeats to be written');
      assert.equal(reg.attendance.attended_live, true);
      assert.ok(reg.attendance.seconds_live <= 4, JSON.stringify(reg.attendance));
      assert.equal(reg.attendance.seconds_replay, 0);
    } finally {
      await pushExit(p, 60000);
    }
    const other = await register(w.slug, person());
    assertError(await api(server, 'POST', `/api/join/${other.token}/heartbeat`,
      { body: { mode: 'live' } }), 409, 'not_watching');
    void getPlaylist;
  });

test('the operator sets the server\'s privacy notice; a bad file stops the start with a reason',
  async () => {
    const dir = await makeTempDir('notice');
    const file = path.join(dir, 'notice.txt');
    await fs.writeFile(file, 'Verantwortlich: ACME GmbH, Musterstraße 1, Berlin.\nDSB: dsb@acme.example\n');
    const own = await startServer({ args: ['--privacy-notice', file] });
    try {
      const orgOwn = await loginOrganiser(own, 'notice@example.com');
      const r = await api(own, 'POST', ADMIN, { session: orgOwn, body: { title: 'Notice' } });
      const w = (await api(own, 'GET', `/api/webinars/${r.json.slug}`)).json;
      assert.equal(w.registration.privacy_notice,
        'Verantwortlich: ACME GmbH, Musterstraße 1, Berlin.\nDSB: dsb@acme.example');
      assert.equal(w.registration.privacy_notice_i18n, undefined, 'the operator\'s text only');
      assert.ok(w.registration.consent_text_i18n.de, 'the built-in consent text stays');
    } finally {
      await stopAndCheck(own);
    }
    await fs.writeFile(file, Buffer.from([0x41, 0xff, 0x42]));
    const bad = await runLectern(['serve', '--http', '127.0.0.1:0', '--rtmp', '127.0.0.1:0',
      '--data-dir', dir, '--privacy-notice', file], { timeoutMs: 20000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--privacy-notice .*UTF-8/);
  });

test('an acknowledged registration survives kill -9 right after the answer', async () => {
  const w = await create({ title: 'Durable' });
  const r = await register(w.slug, person({ email: 'durable@example.com' }));
  await server.kill9();
  const again = await startServer({ dataDir: server.dataDir });
  try {
    const orgAgain = await loginOrganiser(again, 'second@example.com');
    const list = await api(again, 'GET', `${ADMIN}/${w.id}/registrations`, { session: orgAgain });
    assert.deepEqual(list.json.registrations.map((x) => x.email), ['durable@example.com']);
    assert.equal((await api(again, 'GET', `/api/join/${r.token}`)).json.state, 'scheduled');
  } finally {
    server = null;
    await stopAndCheck(again);
  }
});
