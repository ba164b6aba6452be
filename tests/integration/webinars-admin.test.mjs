// Webinar management by organisers over the JSON API, against the real server: every endpoint,
// 401 without a login and 403 without the CSRF token, each bad value refused by field with
// nothing written, a partial update that is all or nothing, markup and SQL kept as text, a live
// webinar that cannot be deleted, recordings deleted with their webinar, a rotated stream key
// that no longer publishes, the public API that shows only public facts, and the CLI's flags.
import { before } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  test, startServer, stopAndCheck, api, assertError, loginOrganiser, rememberSecret, httpRequest,
  lecternJSON, runLectern, push, pushExit, waitLive, waitEnded, waitFor, waitExportsDone,
  apiWebinar, trackWebinar, LECTERN_BIN,
} from '../lib/harness.mjs';

let server;
let org;

before(async () => {
  server = await startServer();
  org = await loginOrganiser(server);
});

const ADMIN = '/api/admin/webinars';
const as = (method, p, opts = {}) => api(server, method, p, { session: org, ...opts });

/* What only organisers may see; the public API must show none of it. */
const PRIVATE = ['approval', 'hide_attendee_names', 'replay_requires_registration',
  'retention_days', 'recording_retention_days', 'updated_at', 'created_by', 'stream_key',
  'room_password', 'room_password_hash', 'stream_key_hash'];
const PUBLIC_FACTS = ['description', 'starts_at', 'duration_s', 'presenters', 'on_demand',
  'access', 'password_required', 'waiting_room', 'replay_enabled'];

async function create(body) {
  const r = await as('POST', ADMIN, { body });
  assert.equal(r.status, 201, `create: ${r.body}`);
  assert.match(r.json.stream_key, /^[A-Za-z0-9_-]{32}$/);
  return trackWebinar(server, r.json);
}

async function get(id) {
  const r = await as('GET', `${ADMIN}/${id}`);
  assert.equal(r.status, 200, `get ${id}: ${r.body}`);
  assert.equal(r.json.stream_key, undefined, 'the key is shown only when it is made');
  return r.json;
}

async function count() {
  const r = await as('GET', ADMIN);
  assert.equal(r.status, 200);
  return r.json.webinars.length;
}

test('organiser endpoints need a login, the CSRF token and the same origin', async () => {
  const w = await create({ title: 'Access checks' });
  const n = await count();
  const routes = [['GET', ADMIN], ['POST', ADMIN], ['GET', `${ADMIN}/${w.id}`],
    ['PATCH', `${ADMIN}/${w.id}`], ['DELETE', `${ADMIN}/${w.id}`],
    ['POST', `${ADMIN}/${w.id}/stream-key`]];
  for (const [method, p] of routes) {
    const body = method === 'GET' || method === 'DELETE' ? undefined : { title: 'x' };
    assertError(await api(server, method, p, { body }), 401, 'not_logged_in');
    assertError(await api(server, method, p, {
      body, session: { cookie: 'A'.repeat(43), csrf: 'B'.repeat(43) },
    }), 401, 'not_logged_in');
    if (method === 'GET') continue;
    assertError(await as(method, p, { body, csrf: false }), 403, 'csrf');
    assertError(await as(method, p, { body, csrf: false,
      headers: { 'X-CSRF-Token': 'C'.repeat(43) } }), 403, 'csrf');
    assertError(await as(method, p, { body, headers: { Origin: 'http://evil.example' } }), 403,
      'cross_origin');
  }
  // Nothing changed: the same webinars, the same key, the same title.
  assert.equal(await count(), n);
  assert.equal((await get(w.id)).title, 'Access checks');
  const pushed = push(server.publishUrl(w.stream_key), { seconds: 5 });
  await waitLive(server, w.slug);
  assert.equal(await pushExit(pushed, 30000), 0);
  await waitEnded(server, w.slug);

  for (const bad of ['0', '-1', 'abc', '99999999', '1e3', '18446744073709551617']) {
    assertError(await as('GET', `${ADMIN}/${bad}`), 404, 'not_found');
    assertError(await as('PATCH', `${ADMIN}/${bad}`, { body: { title: 'x' } }), 404, 'not_found');
    assertError(await as('DELETE', `${ADMIN}/${bad}`), 404, 'not_found');
    assertError(await as('POST', `${ADMIN}/${bad}/stream-key`), 404, 'not_found');
  }
  assertError(await as('PUT', `${ADMIN}/${w.id}`, { body: { title: 'x' } }), 405,
    'method_not_allowed');
});

test('create, read, list, update and delete; the public API shows only public facts',
  async () => {
    const full = await create({
      title: 'Quarterly update', description: 'Numbers.\nAnd plans.',
      starts_at: '2026-12-01T15:00:00+01:00', duration_s: 5400, presenters: ['Ada', 'Grace'],
      access: 'registration', waiting_room: true, approval: true, room_password: 'open sesame',
      hide_attendee_names: false, replay_enabled: true, replay_requires_registration: false,
      retention_days: 30, recording_retention_days: 365,
    });
    assert.match(full.slug, /^quarterly-update-[a-z0-9]{6}$/);
    assert.equal(full.starts_at, '2026-12-01T14:00:00.000Z', 'stored and answered in UTC');
    assert.equal(full.duration_s, 5400);
    assert.deepEqual(full.presenters, ['Ada', 'Grace']);
    assert.equal(full.access, 'registration');
    assert.equal(full.on_demand, false);
    assert.equal(full.password_required, true);
    assert.equal(full.waiting_room, true);
    assert.equal(full.approval, true);
    assert.equal(full.hide_attendee_names, false);
    assert.equal(full.replay_requires_registration, false);
    assert.equal(full.retention_days, 30);
    assert.equal(full.recording_retention_days, 365);
    assert.equal(full.created_by, org.id);
    assert.equal(full.state, 'scheduled');
    assert.doesNotMatch(JSON.stringify(full), /scrypt|open sesame/);

    const min = await create({ title: 'Defaults' });
    assert.deepEqual(
      Object.fromEntries([...PUBLIC_FACTS, ...PRIVATE.slice(0, 5)].map((k) => [k, min[k]])), {
        description: '', starts_at: null, duration_s: 3600, presenters: [], on_demand: false,
        access: 'registration', password_required: false, waiting_room: false,
        replay_enabled: true, approval: false, hide_attendee_names: true,
        replay_requires_registration: true, retention_days: 90, recording_retention_days: null,
      });

    const { stream_key: _key, ...rest } = full;
    assert.deepEqual(await get(full.id), rest);
    const list = (await as('GET', ADMIN)).json.webinars;
    assert.deepEqual(list.slice(0, 2).map((w) => w.id), [min.id, full.id], 'newest first');
    assert.ok(list.every((w) => w.stream_key === undefined));

    // A partial update changes what it names and nothing else.
    await new Promise((r) => setTimeout(r, 5));
    const p = await as('PATCH', `${ADMIN}/${full.id}`, {
      body: { title: 'Quarterly update (moved)', starts_at: '2026-12-02T09:30:00Z',
        room_password: null, recording_retention_days: null },
    });
    assert.equal(p.status, 200, `patch: ${p.body}`);
    assert.equal(p.json.title, 'Quarterly update (moved)');
    assert.equal(p.json.starts_at, '2026-12-02T09:30:00.000Z');
    assert.equal(p.json.password_required, false);
    assert.equal(p.json.recording_retention_days, null);
    assert.ok(p.json.updated_at > full.updated_at, 'updated_at moves');
    for (const k of ['slug', 'description', 'duration_s', 'presenters', 'access', 'approval',
      'waiting_room', 'retention_days', 'created_at', 'created_by'])
      assert.deepEqual(p.json[k], full[k], k);
    // An empty PATCH is a valid no-op.
    assert.equal((await as('PATCH', `${ADMIN}/${full.id}`, { body: {} })).status, 200);
    // On-demand: no start time.
    const od = await as('PATCH', `${ADMIN}/${full.id}`, { body: { on_demand: true } });
    assert.equal(od.status, 200);
    assert.equal(od.json.on_demand, true);
    assert.equal(od.json.starts_at, null);

    // The public API: the public facts, never a setting, hash or key.
    const pub = await apiWebinar(server, full.slug);
    for (const k of PUBLIC_FACTS) assert.ok(k in pub, `public ${k}`);
    for (const k of PRIVATE) assert.ok(!(k in pub), `public API hides ${k}`);
    assert.equal(pub.title, 'Quarterly update (moved)');
    assert.deepEqual(pub.presenters, ['Ada', 'Grace']);
    assert.equal(pub.access, 'registration');
    assert.equal(pub.password_required, false);
    // What the registration page needs: the form, the privacy notice and the consent text
    // (the server's defaults when the organiser set none) with its version.
    assert.deepEqual(pub.registration.fields, []);
    assert.equal(pub.registration.consent_version, '1');
    assert.ok(pub.registration.privacy_notice.length > 100);
    assert.ok(pub.registration.consent_text.length > 20);
    assert.equal(pub.registration.approval, true);
    await as('PATCH', `${ADMIN}/${full.id}`, { body: { room_password: 'another one' } });
    assert.equal((await apiWebinar(server, full.slug)).password_required, true);
    // The watch page still loads and describes it (web/watch.js reads the same API).
    assert.equal((await httpRequest(server.url(`/watch/${full.slug}`))).status, 200);

    // `lectern webinar show --json` has the settings too.
    const shown = await lecternJSON(['webinar', 'show', String(full.id), '--data-dir',
      server.dataDir]);
    assert.equal(shown.retention_days, 30);
    assert.equal(shown.approval, true);
    assert.equal(shown.password_required, true);
    assert.equal(shown.stream_key, undefined);

    const del = await as('DELETE', `${ADMIN}/${full.id}`);
    assert.equal(del.status, 204);
    server.slugs.delete(full.slug);
    assertError(await as('GET', `${ADMIN}/${full.id}`), 404, 'not_found');
    assertError(await httpRequest(server.url(`/api/webinars/${full.slug}`)), 404, 'not_found');
    assertError(await as('DELETE', `${ADMIN}/${full.id}`), 404, 'not_found');
  });

/* [body, status, code, field]: what each bad value gets, on create and on update. */
const BAD = [
  [{ title: '' }, 422, 'invalid_field', 'title'],
  [{ title: 'x'.repeat(201) }, 422, 'invalid_field', 'title'],
  [{ title: 'é'.repeat(201) }, 422, 'invalid_field', 'title'],
  [{ title: 'a\u0007b' }, 422, 'invalid_field', 'title'],
  [{ title: 42 }, 422, 'invalid_field', 'title'],
  [{ title: null }, 422, 'invalid_field', 'title'],
  [{ description: 'd'.repeat(10001) }, 422, 'invalid_field', 'description'],
  [{ presenters: Array.from({ length: 21 }, (_, i) => `P${i}`) }, 422, 'invalid_field',
    'presenters'],
  [{ presenters: ['n'.repeat(101)] }, 422, 'invalid_field', 'presenters'],
  [{ presenters: [''] }, 422, 'invalid_field', 'presenters'],
  [{ presenters: 'Ada' }, 422, 'invalid_field', 'presenters'],
  [{ presenters: [7] }, 422, 'invalid_field', 'presenters'],
  [{ starts_at: '2026-12-01T15:00:00' }, 422, 'invalid_field', 'starts_at'],
  [{ starts_at: '2026-02-30T15:00:00Z' }, 422, 'invalid_field', 'starts_at'],
  [{ starts_at: 'next tuesday' }, 422, 'invalid_field', 'starts_at'],
  [{ starts_at: 1764600000000 }, 422, 'invalid_field', 'starts_at'],
  [{ on_demand: true, starts_at: '2026-12-01T15:00:00Z' }, 422, 'invalid_field', 'starts_at'],
  [{ duration_s: 59 }, 422, 'invalid_field', 'duration_s'],
  [{ duration_s: 86401 }, 422, 'invalid_field', 'duration_s'],
  [{ duration_s: '3600' }, 422, 'invalid_field', 'duration_s'],
  [{ duration_s: 3600.5 }, 422, 'invalid_field', 'duration_s'],
  [{ retention_days: 0 }, 422, 'invalid_field', 'retention_days'],
  [{ retention_days: 3651 }, 422, 'invalid_field', 'retention_days'],
  [{ recording_retention_days: 0 }, 422, 'invalid_field', 'recording_retention_days'],
  [{ recording_retention_days: 3651 }, 422, 'invalid_field', 'recording_retention_days'],
  [{ waiting_room: 'true' }, 422, 'invalid_field', 'waiting_room'],
  [{ approval: 1 }, 422, 'invalid_field', 'approval'],
  [{ replay_enabled: null }, 422, 'invalid_field', 'replay_enabled'],
  [{ hide_attendee_names: 0 }, 422, 'invalid_field', 'hide_attendee_names'],
  [{ replay_requires_registration: 'yes' }, 422, 'invalid_field',
    'replay_requires_registration'],
  [{ on_demand: 'false' }, 422, 'invalid_field', 'on_demand'],
  [{ access: 'everyone' }, 422, 'invalid_field', 'access'],
  [{ room_password: 'abc' }, 422, 'invalid_field', 'room_password'],
  [{ room_password: 'p'.repeat(129) }, 422, 'invalid_field', 'room_password'],
  [{ stream_key: 'mine' }, 422, 'unknown_field', 'stream_key'],
  [{ slug: 'my-slug' }, 422, 'unknown_field', 'slug'],
  [{ state: 'live' }, 422, 'unknown_field', 'state'],
  [{ room_password_hash: 'scrypt$1$1$1$a$b' }, 422, 'unknown_field', 'room_password_hash'],
];

/* The same refusals as raw bytes: broken UTF-8, not JSON, not an object. */
const RAW = [
  [Buffer.from('{"title": "ok", "description": "\xff\xfe"}', 'latin1'), 400, 'invalid_utf8',
    'description'],
  [Buffer.from('{"title": "\xc3"}', 'latin1'), 400, 'invalid_utf8', 'title'],
  ['{"title": "a\\u0000b"}', 400, 'invalid_json', 'title'],
  ['{"title": "x", "title": "y"}', 400, 'invalid_json', undefined],
  ['{"title": ', 400, 'invalid_json', undefined],
  ['["title"]', 400, 'invalid_json', undefined],
];

async function expectRefusals(method, p, baseline) {
  for (const [body, status, code, field] of BAD) {
    const b = method === 'POST' && !('title' in body) ? { title: 'Valid', ...body } : body;
    assertError(await as(method, p, { body: b }), status, code, field);
  }
  for (const [body, status, code, field] of RAW)
    assertError(await as(method, p, { body, headers: { 'Content-Type': 'application/json' } }),
      status, code, field);
  assertError(await as(method, p, { body: '{"title": "x"}', headers: {
    'Content-Type': 'text/plain' } }), 415, 'unsupported_media_type');
  assertError(await as(method, p, { body: { title: 'x', description: 'd'.repeat(70000) } }),
    413, 'body_too_large');
  assert.deepEqual((await as('GET', ADMIN)).json.webinars, baseline, 'nothing was written');
}

test('bad values are refused by field, and nothing is written', async () => {
  const w = await create({ title: 'Target', description: 'Kept', duration_s: 1800 });
  const baseline = (await as('GET', ADMIN)).json.webinars;
  await expectRefusals('POST', ADMIN, baseline);
  assertError(await as('POST', ADMIN, { body: { description: 'no title' } }), 422,
    'missing_field', 'title');
  await expectRefusals('PATCH', `${ADMIN}/${w.id}`, baseline);

  // All or nothing: one bad member and the good ones are not applied either.
  const before = await get(w.id);
  assertError(await as('PATCH', `${ADMIN}/${w.id}`, {
    body: { title: 'Changed', presenters: ['New'], waiting_room: true, duration_s: 59 },
  }), 422, 'invalid_field', 'duration_s');
  assertError(await as('PATCH', `${ADMIN}/${w.id}`, {
    body: { title: 'Changed', room_password: 'good one', unknown: 1 },
  }), 422, 'unknown_field', 'unknown');
  assert.deepEqual(await get(w.id), before);

  // The bounds themselves are accepted, counted in characters.
  const edge = await create({ title: 'é'.repeat(200), description: '🎤'.repeat(10000),
    presenters: Array.from({ length: 20 }, () => 'n'.repeat(100)), duration_s: 60,
    retention_days: 3650, recording_retention_days: 1, room_password: 'four' });
  assert.equal(edge.title, 'é'.repeat(200));
  assert.equal([...edge.description].length, 10000);
  assert.equal(edge.presenters.length, 20);
  const edge2 = await as('PATCH', `${ADMIN}/${edge.id}`, { body: { duration_s: 86400,
    retention_days: 1, recording_retention_days: 3650, room_password: 'p'.repeat(128) } });
  assert.equal(edge2.status, 200, `${edge2.body}`);
});

test('text that looks like HTML or SQL is stored and returned as text', async () => {
  const title = '<script>alert("t")</script> & </title>';
  const description = "'); DROP TABLE webinars; --\n<img src=x onerror=alert(1)>";
  const presenters = ["Robert'); DROP TABLE users;--", '<b>Bold</b>',
    '"quoted" \\ \u00e9\u{1F3A4}'];
  const w = await create({ title, description, presenters });
  for (const got of [w, await get(w.id), await apiWebinar(server, w.slug)]) {
    assert.equal(got.title, title);
    assert.equal(got.description, description);
    assert.deepEqual(got.presenters, presenters);
  }
  const patched = await as('PATCH', `${ADMIN}/${w.id}`, { body: { title: "x' OR '1'='1" } });
  assert.equal(patched.json.title, "x' OR '1'='1");
  assert.ok((await count()) >= 1, 'the webinars table is still there');
  // The watch page is static: the server never pastes the title into HTML.
  const page = (await httpRequest(server.url(`/watch/${w.slug}`))).body.toString();
  assert.ok(!page.includes('alert("t")'), 'no title in the page source');
});

test('a live webinar is not deleted; a rotated key no longer publishes; deleting removes the ' +
  'recordings', { timeout: 240e3 }, async () => {
  const w = await create({ title: 'Live one', access: 'public' });
  const first = push(server.publishUrl(w.stream_key), { seconds: 6 });
  await waitLive(server, w.slug);
  assertError(await as('DELETE', `${ADMIN}/${w.id}`), 409, 'live');
  // Settings can change while live; the stream keeps going.
  assert.equal((await as('PATCH', `${ADMIN}/${w.id}`, { body: { hide_attendee_names: false } })).status,
    200);
  assert.equal(await pushExit(first, 60000), 0, first.stderrText());
  const s1 = (await waitEnded(server, w.slug)).session;

  const rot = await as('POST', `${ADMIN}/${w.id}/stream-key`);
  assert.equal(rot.status, 200, `${rot.body}`);
  const key = rememberSecret(rot.json.stream_key);
  assert.match(key, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(key, w.stream_key);
  assert.equal(rot.json.id, w.id);
  assert.equal((await get(w.id)).stream_key, undefined);
  const old = push(server.publishUrl(w.stream_key), { seconds: 10 });
  const code = await pushExit(old, 8000, 'the old key to be refused');
  assert.notEqual(code, 0, 'the old key is refused');
  assert.equal((await apiWebinar(server, w.slug)).sessions.length, 1, 'no session from it');
  const second = push(server.publishUrl(key), { seconds: 3 });
  await waitLive(server, w.slug);
  assert.equal(await pushExit(second, 60000), 0, second.stderrText());
  await waitFor(async () => (await apiWebinar(server, w.slug)).sessions.length === 2 &&
    (await apiWebinar(server, w.slug)).state === 'ended', 15000, 'the second session to end');
  await waitExportsDone(server);
  const sessions = (await get(w.id)).sessions; // the organiser's view: with the media URLs
  const dirs = sessions.map((s) => path.join(server.dataDir, 'recordings', String(s.id)));
  assert.ok(dirs.every((d) => fs.existsSync(path.join(d, 'download.mp4'))));
  assert.equal(sessions[0].id, s1.id);

  assert.equal((await as('DELETE', `${ADMIN}/${w.id}`)).status, 204);
  server.slugs.delete(w.slug);
  await waitFor(() => dirs.every((d) => !fs.existsSync(d)), 10000, 'the recordings to go');
  for (const s of sessions) {
    for (const u of [s.replay_url, s.download_url, `/api/sessions/${s.id}`,
      s.replay_page_url.replace('/replay/', '/api/replays/')])
      assertError(await httpRequest(server.url(u)), 404, 'not_found');
  }
  const gone = push(server.publishUrl(key), { seconds: 10 });
  assert.notEqual(await pushExit(gone, 8000, 'a deleted webinar\'s key to be refused'), 0);
});

test('lectern webinar create takes the same settings, with the same rules', async () => {
  const base = ['--data-dir', server.dataDir];
  const w = await lecternJSON(['webinar', 'create', '--title', 'From the CLI', '--public',
    '--on-demand', '--duration', '5400', '--description', 'Evergreen <b>talk</b>', ...base]);
  trackWebinar(server, w);
  assert.equal(w.access, 'public');
  assert.equal(w.on_demand, true);
  assert.equal(w.starts_at, null);
  assert.equal(w.duration_s, 5400);
  assert.equal(w.description, 'Evergreen <b>talk</b>');
  assert.equal(w.retention_days, 90);
  const t = await lecternJSON(['webinar', 'create', '--title=Timed',
    '--starts-at=2026-12-01T15:00:00-05:00', ...base]);
  trackWebinar(server, t);
  assert.equal(t.starts_at, '2026-12-01T20:00:00.000Z');
  assert.equal(t.access, 'registration');
  // The API sees what the CLI made.
  assert.equal((await get(t.id)).starts_at, '2026-12-01T20:00:00.000Z');

  const n = await count();
  for (const [args, field] of [
    [['--title', 'x', '--duration', '59'], 'duration_s'],
    [['--title', 'x', '--duration', 'an hour'], 'duration_s'],
    [['--title', 'x', '--starts-at', '2026-12-01 15:00'], 'starts_at'],
    [['--title', 'x', '--on-demand', '--starts-at', '2026-12-01T15:00:00Z'], 'starts_at'],
    [['--title', 'x'.repeat(201)], 'title'],
    [['--title', 'x', '--description', 'd'.repeat(10001)], 'description'],
  ]) {
    const r = await runLectern(['webinar', 'create', ...args, ...base]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
    assert.match(r.stderr, new RegExp(field), r.stderr);
  }
  // Arguments that are not UTF-8 (Node would encode them; bash passes the bytes as they are).
  for (const flag of ['--title', '--description']) {
    const bad = spawnSync('bash', ['-c', `"$0" webinar create --title ok ${flag} $'A\\xffB' ` +
      '--data-dir "$1"', LECTERN_BIN, server.dataDir], { encoding: 'utf8' });
    assert.equal(bad.status, 2, `${flag} not UTF-8: ${bad.stderr}`);
    assert.match(bad.stderr, /not valid UTF-8/);
  }
  const r = await runLectern(['webinar', 'show', String(t.id), '--public', ...base]);
  assert.equal(r.code, 2, 'create-only flags elsewhere are refused');
  assert.equal(await count(), n, 'nothing was written');
});

test('the server shuts down cleanly; its log names webinars by id, no key or email', async () => {
  await stopAndCheck(server);
  assert.doesNotMatch(server.stderrText(), /Quarterly|Evergreen|DROP TABLE|organiser@/);
});
