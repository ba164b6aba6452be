// Personal data of registrations, against the real server: the CSV and JSON exports (a strict
// RFC 4180 parser reads the CSV back: BOM, CRLF, quoting, formula guard, non-ASCII names, custom
// fields, attendance), data-subject access and erasure (the person is gone everywhere, counts
// are kept, others untouched, the audit log names nobody), the retention rule as the server's
// scheduler and `lectern purge` apply it, and the audit log's listing. 401 without a login, 403
// without the CSRF token or from another site, on every endpoint.
//
// What no API can make (timestamps in the past, attendance without a live stream, a name with a
// line break from an older version) is written into the server's database with the sqlite3
// shell; the server and `lectern purge` then apply their rules with the real clock.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  test, startServer, stopAndCheck, api, assertError, loginOrganiser, rememberSecret, sqlite,
  runLectern, waitFor,
} from '../lib/harness.mjs';

const DAY = 86400000;
const ADMIN = '/api/admin/webinars';
let server;
let org;

before(async () => {
  server = await startServer();
  org = await loginOrganiser(server);
});

const as = (s, method, p, opts = {}) => api(s, method, p, { session: org, ...opts });

async function createWebinar(s, body) {
  const r = await as(s, 'POST', ADMIN, { body });
  assert.equal(r.status, 201, `create: ${r.body}`);
  rememberSecret(r.json.stream_key);
  return r.json;
}

/* Registers through the public API as an attendee would; returns the join URL. */
async function register(s, w, person) {
  const pub = await api(s, 'GET', `/api/webinars/${w.slug}`);
  assert.equal(pub.status, 200);
  const r = await api(s, 'POST', `/api/webinars/${w.slug}/registrations`, {
    body: { consent: true, consent_version: pub.json.registration.consent_version, ...person },
  });
  assert.equal(r.status, 201, `register: ${r.body}`);
  return rememberSecret(r.json.join_url);
}

async function listRegistrations(s, w) {
  const r = await as(s, 'GET', `${ADMIN}/${w.id}/registrations?limit=1000`);
  assert.equal(r.status, 200, `list: ${r.body}`);
  return r.json.registrations;
}

const idOf = async (s, w, email) =>
  (await listRegistrations(s, w)).find((r) => r.email.toLowerCase() === email.toLowerCase()).id;

async function auditEntries(s, query = '') {
  const r = await as(s, 'GET', `/api/admin/audit${query}`);
  assert.equal(r.status, 200, `audit: ${r.body}`);
  return r.json;
}

/* The audit log's name for a person, computed here from the key in the database. */
async function subjectOf(s, email) {
  const [{ key }] = await sqlite(s.dataDir,
    "SELECT hex(value) AS key FROM server_secrets WHERE name = 'audit_hmac'");
  return crypto.createHmac('sha256', Buffer.from(key, 'hex')).update(email.toLowerCase())
    .digest('hex');
}

/* A strict RFC 4180 reader: records end with CRLF (the last one too), a field is either quoted
 * ("" for a quote inside; CR, LF and commas allowed) or free of quotes, commas, CR and LF, and
 * every record has as many fields as the first. Anything else throws. */
function parseCsvStrict(text) {
  const rows = [];
  let row = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('CSV: a quoted field is not closed');
        const c = text[i++];
        if (c !== '"') field += c;
        else if (text[i] === '"') { field += '"'; i++; } else break;
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n')
          throw new Error(`CSV: bare ${JSON.stringify(text[i])} at byte ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') { i++; continue; }
    if (text.startsWith('\r\n', i)) {
      i += 2;
      if (rows.length && row.length !== rows[0].length)
        throw new Error(`CSV: record ${rows.length + 1} has ${row.length} fields, not ${rows[0].length}`);
      rows.push(row);
      row = [];
      continue;
    }
    throw new Error(i >= text.length ? 'CSV: the last record does not end with CRLF'
      : `CSV: ${JSON.stringify(text[i])} after a field at ${i}`);
  }
  if (row.length) throw new Error('CSV: the last record does not end with CRLF');
  return rows;
}

/* Downloads an export; checks the headers every export has. */
async function download(s, w, ext) {
  const r = await as(s, 'GET', `${ADMIN}/${w.id}/registrations.${ext}`);
  assert.equal(r.status, 200, `export ${ext}: ${r.body.toString().slice(0, 300)}`);
  assert.equal(r.headers['content-disposition'],
    `attachment; filename="registrations-${w.slug}.${ext}"`);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['transfer-encoding'], 'chunked', 'streamed, not built whole');
  return r;
}

function readCsv(body) {
  assert.deepEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a UTF-8 byte order mark');
  const text = new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(3));
  const rows = parseCsvStrict(text);
  const header = rows[0];
  return { header, records: rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) =>
    [h, r[i]]))) };
}

test('every endpoint needs a login, the CSRF token and the same origin', async () => {
  const w = await createWebinar(server, { title: 'Access to leads' });
  const routes = [['GET', `${ADMIN}/${w.id}/registrations.csv`],
    ['GET', `${ADMIN}/${w.id}/registrations.json`], ['GET', '/api/admin/audit'],
    ['POST', '/api/admin/data-subject/access'], ['POST', '/api/admin/data-subject/erasure']];
  const body = { email: 'someone@example.com' };
  for (const [method, p] of routes) {
    const b = method === 'POST' ? body : undefined;
    assertError(await api(server, method, p, { body: b }), 401, 'not_logged_in');
    if (method === 'GET') continue;
    assertError(await as(server, method, p, { body: b, csrf: false }), 403, 'csrf');
    assertError(await as(server, method, p, { body: b, headers: { Origin: 'http://evil.example' } }),
      403, 'cross_origin');
  }
  // An address travels in a body, never in a URL.
  assertError(await as(server, 'GET', '/api/admin/data-subject/access'), 405,
    'method_not_allowed');
  assertError(await as(server, 'GET', `${ADMIN}/999999/registrations.csv`), 404, 'not_found');
  assertError(await as(server, 'GET', `${ADMIN}/x/registrations.json`), 404, 'not_found');
  for (const email of ['not-an-address', 'a@b', '<script>@example.com'])
    assertError(await as(server, 'POST', '/api/admin/data-subject/access', { body: { email } }),
      422, 'invalid_field', 'email');
  assertError(await as(server, 'POST', '/api/admin/data-subject/erasure', { body: {} }), 422,
    'missing_field', 'email');
  assertError(await as(server, 'POST', '/api/admin/data-subject/erasure',
    { body: { email: 'a@example.com', extra: 1 } }), 422, 'unknown_field', 'extra');
  for (const q of ['?limit=0', '?limit=1001', '?before=x', '?after=-1', '?before=5&after=1'])
    assertError(await as(server, 'GET', `/api/admin/audit${q}`), 400, 'invalid_query');
});

test('the CSV export opens in a spreadsheet as written: BOM, CRLF, quoting, formula guard', async () => {
  const w = await createWebinar(server, {
    title: 'CSV export',
    form_fields: [
      { id: 'company', label: 'Company, "legal" name', type: 'text', required: false },
      { id: 'role', label: 'Role', type: 'select', required: false, options: ['Dev', 'Ops'] },
      { id: 'news', label: 'Newsletter', type: 'checkbox', required: false },
      { id: 'hp', label: '=1+1', type: 'text', required: false },
    ],
  });
  const people = [
    { email: 'zoe@example.com', name: 'Zoë Ångström 李',
      fields: { company: 'Ærø, "Ltd"', role: 'Dev', news: true },
      utm_source: 'news,letter', utm_medium: 'email', utm_campaign: 'q4',
      referrer: 'https://blog.example.org/post?id=7#top' },
    { email: "o'brien+x@example.com", name: '=HYPERLINK("http://evil.example","click")',
      fields: { company: '<script>alert(1)</script>', news: false, hp: '@SUM(A1)' } },
    { email: 'bobby@example.com', name: "Robert'); DROP TABLE registrations;--",
      fields: { company: '+49 30 1234', hp: '-2+3' } },
    { email: 'plain@example.com', name: 'Plain Person' },
  ];
  for (const p of people) await register(server, w, p);
  // Written by an older version or an import: a name with a line break, a tab and quotes.
  const zoe = await idOf(server, w, 'zoe@example.com');
  await sqlite(server.dataDir, `
    UPDATE registrations SET name = 'Line' || char(13,10) || 'Break "quoted"' WHERE webinar_id = ${w.id} AND email = 'plain@example.com';
    INSERT INTO registrations (webinar_id, email, name, consent_version, consent_at, state, created_at, last_activity)
      VALUES (${w.id}, 'tab@example.com', char(9) || '=cmd|'' /C calc''!A0', '1', 1, 'approved', 1, 1);
    INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds)
      VALUES (${zoe}, 'live', 1000, 200000, 125), (${zoe}, 'live', 300000, 400000, 50),
             (${zoe}, 'replay', 500000, 600000, 29);`);

  const r = await download(server, w, 'csv');
  assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8; header=present');
  const { header, records } = readCsv(r.body);
  assert.deepEqual(header, ['id', 'email', 'name', 'Company, "legal" name', 'Role', 'Newsletter',
    "'=1+1", 'consent_version', 'consent_at', 'utm_source', 'utm_medium', 'utm_campaign',
    'referrer', 'state', 'registered_at', 'attended_live', 'minutes_live', 'minutes_replay']);
  assert.equal(records.length, 5);
  const by = Object.fromEntries(records.map((x) => [x.email, x]));
  const z = by['zoe@example.com'];
  assert.equal(z.name, 'Zoë Ångström 李');
  assert.equal(z['Company, "legal" name'], 'Ærø, "Ltd"');
  assert.equal(z.Role, 'Dev');
  assert.equal(z.Newsletter, 'yes');
  assert.equal(z.utm_source, 'news,letter');
  assert.equal(z.utm_medium, 'email');
  assert.equal(z.utm_campaign, 'q4');
  assert.equal(z.referrer, 'https://blog.example.org/post', 'query and fragment are not kept');
  assert.equal(z.state, 'approved');
  assert.equal(z.consent_version, '1');
  assert.match(z.consent_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.match(z.registered_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(z.attended_live, 'yes');
  assert.equal(z.minutes_live, '3', '175 s live');
  assert.equal(z.minutes_replay, '0', '29 s on replay');
  assert.equal(z.id, String(zoe));
  // Formula guard: a leading apostrophe, the rest exactly as typed.
  const o = by["o'brien+x@example.com"];
  assert.equal(o.name, `'=HYPERLINK("http://evil.example","click")`);
  assert.equal(o['Company, "legal" name'], '<script>alert(1)</script>');
  assert.equal(o.Newsletter, 'no');
  assert.equal(o["'=1+1"], "'@SUM(A1)");
  assert.equal(o.attended_live, 'no');
  assert.equal(o.minutes_live, '0');
  assert.equal(o.Role, '');
  const b = by['bobby@example.com'];
  assert.equal(b.name, "Robert'); DROP TABLE registrations;--");
  assert.equal(b['Company, "legal" name'], "'+49 30 1234");
  assert.equal(b["'=1+1"], "'-2+3");
  assert.equal(b.Newsletter, 'no', 'an unticked box that was left out');
  assert.equal(by['plain@example.com'].name, 'Line\r\nBreak "quoted"');
  assert.equal(by['tab@example.com'].name, "'\t=cmd|' /C calc'!A0");
  // The raw bytes: quoted where needed, CRLF between records, nothing else.
  const raw = r.body.toString('utf8');
  assert.ok(raw.includes(`,"'=HYPERLINK(""http://evil.example"",""click"")",`));
  assert.ok(raw.includes(',"Line\r\nBreak ""quoted""",'));
  assert.equal(raw.match(/\r\n/g).length, 6 + 1, 'six records and the line break in a name');
  assert.equal(raw.replace(/\r\n/g, '').match(/[\r\n]/), null, 'no bare CR or LF');

  const audit = (await auditEntries(server)).entries[0];
  assert.equal(audit.action, 'export_csv');
  assert.equal(audit.webinar_id, w.id);
  assert.equal(audit.records, 5);
  assert.deepEqual(audit.user, { id: org.id, email: 'organiser@example.com' });
  assert.equal(audit.subject, null);
});

test('the JSON export holds what the organisers\' list shows, every row', async () => {
  const w = await createWebinar(server, { title: 'JSON export',
    form_fields: [{ id: 'company', label: 'Company', type: 'text', required: false }] });
  for (let i = 0; i < 25; i++)
    await register(server, w, { email: `p${i}@example.com`, name: `Person ${i} <b>&amp;</b>`,
      fields: { company: i % 2 ? `"Co" ${i}` : '' } });
  const r = await download(server, w, 'json');
  assert.match(r.headers['content-type'], /^application\/json/);
  const exported = JSON.parse(r.body.toString('utf8'));
  assert.deepEqual(Object.keys(exported), ['registrations']);
  // Each row is the list's, plus the answers to attributed polls (none here; interaction tests).
  for (const row of exported.registrations) assert.deepEqual(row.poll_answers, []);
  assert.deepEqual(exported.registrations.map(({ poll_answers, ...rest }) => rest),
    await listRegistrations(server, w));
  assert.equal(exported.registrations.length, 25);
  const one = exported.registrations.find((x) => x.email === 'p3@example.com');
  assert.equal(one.name, 'Person 3 <b>&amp;</b>');
  assert.deepEqual(one.fields, { company: '"Co" 3' });
  assert.equal(JSON.stringify(exported).includes('token'), false, 'no link or token hash');
  const audit = (await auditEntries(server)).entries.find((e) => e.action === 'export_json');
  assert.equal(audit.webinar_id, w.id);
  assert.equal(audit.records, 25);

  // A webinar with nobody registered: a valid empty file in both formats.
  const empty = await createWebinar(server, { title: 'Nobody came' });
  assert.deepEqual(JSON.parse((await download(server, empty, 'json')).body), { registrations: [] });
  const csv = readCsv((await download(server, empty, 'csv')).body);
  assert.equal(csv.records.length, 0);
  assert.equal(csv.header.length, 14);
});

test('a large export streams every row of one snapshot', { timeout: 120e3 }, async () => {
  const w = await createWebinar(server, { title: 'Many leads' });
  const n = 20000;
  await sqlite(server.dataDir, `
    WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n})
    INSERT INTO registrations (webinar_id, email, name, consent_version, consent_at, state, created_at, last_activity)
      SELECT ${w.id}, 'lead' || i || '@example.com', 'Lead ' || i, '1', i, 'approved', i, i FROM k;`);
  const [csv, json] = await Promise.all([download(server, w, 'csv'), download(server, w, 'json')]);
  const { records } = readCsv(csv.body);
  assert.equal(records.length, n);
  assert.equal(records[n - 1].email, `lead${n}@example.com`);
  assert.deepEqual(records.map((x) => Number(x.id)), records.map((x) => Number(x.id)).sort((a, b) => a - b),
    'in id order');
  assert.equal(JSON.parse(json.body).registrations.length, n);

  // A client that goes away after the first bytes: the server closes the snapshot and goes on.
  await new Promise((resolve, reject) => {
    const req = http.get(server.url(`${ADMIN}/${w.id}/registrations.json`),
      { headers: { Cookie: `lectern_session=${org.cookie}` } }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
  });
  const again = await download(server, w, 'csv');
  assert.equal(readCsv(again.body).records.length, n);
});

test('data-subject access shows everything stored about an address, and is audited by HMAC', async () => {
  const w1 = await createWebinar(server, { title: 'Subject one',
    form_fields: [{ id: 'company', label: 'Company', type: 'text', required: false }] });
  const w2 = await createWebinar(server, { title: 'Subject two' });
  await register(server, w1, { email: 'Ada.Subject@Example.com', name: 'Ada', utm_source: 'ad',
    fields: { company: 'Engines' } });
  await register(server, w1, { email: 'ada.subject@example.com', name: 'Ada again' }); // a new link
  await register(server, w2, { email: 'ada.subject@example.com', name: 'Ada L.' });
  await register(server, w2, { email: 'other@example.com', name: 'Other' });
  const r1 = await idOf(server, w1, 'ada.subject@example.com');
  await sqlite(server.dataDir, `INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds)
    VALUES (${r1}, 'live', ${Date.UTC(2026, 0, 1)}, ${Date.UTC(2026, 0, 1) + 600000}, 600),
           (${r1}, 'replay', ${Date.UTC(2026, 0, 2)}, ${Date.UTC(2026, 0, 2) + 60000}, 60);`);

  const r = await as(server, 'POST', '/api/admin/data-subject/access',
    { body: { email: 'ADA.subject@example.COM' } });
  assert.equal(r.status, 200, `access: ${r.body}`);
  assert.equal(r.headers['cache-control'], 'no-store');
  const subject = await subjectOf(server, 'ada.subject@example.com');
  assert.equal(r.json.subject, subject);
  assert.equal(r.json.registrations.length, 2);
  const [a, b] = r.json.registrations;
  assert.equal(a.email, 'Ada.Subject@Example.com', 'as entered');
  assert.equal(a.name, 'Ada', 'registering again changed nothing');
  assert.deepEqual(a.fields, { company: 'Engines' });
  assert.equal(a.source.utm_source, 'ad');
  assert.equal(a.consent.version, '1');
  assert.deepEqual(a.webinar, { id: w1.id, slug: w1.slug, title: 'Subject one' });
  assert.equal(a.join_links, 2);
  assert.deepEqual(a.attendance_stretches, [
    { mode: 'live', joined_at: '2026-01-01T00:00:00.000Z', last_seen_at: '2026-01-01T00:10:00.000Z',
      seconds: 600 },
    { mode: 'replay', joined_at: '2026-01-02T00:00:00.000Z',
      last_seen_at: '2026-01-02T00:01:00.000Z', seconds: 60 }]);
  assert.equal(a.attendance.minutes_live, 10);
  assert.equal(b.webinar.id, w2.id);
  assert.equal(b.join_links, 1);
  assert.deepEqual(b.attendance_stretches, []);
  assert.doesNotMatch(r.body.toString(), /other@example|token|hash/);

  const nobody = await as(server, 'POST', '/api/admin/data-subject/access',
    { body: { email: 'nobody@example.com' } });
  assert.equal(nobody.status, 200);
  assert.deepEqual(nobody.json.registrations, []);

  const entries = (await auditEntries(server, '?limit=2')).entries;
  assert.deepEqual(entries.map((e) => [e.action, e.records, e.webinar_id]),
    [['subject_access', 0, null], ['subject_access', 2, null]]);
  assert.equal(entries[1].subject, subject);
  assert.equal(entries[0].subject, await subjectOf(server, 'nobody@example.com'));
  const log = JSON.stringify(await auditEntries(server, '?limit=1000'));
  assert.doesNotMatch(log, /ada\.subject|nobody@/i, 'the audit log never names the person');
});

test('data-subject erasure removes the person everywhere and keeps the counts', async () => {
  const w1 = await createWebinar(server, { title: 'Erase one' });
  const w2 = await createWebinar(server, { title: 'Erase two' });
  await register(server, w1, { email: 'Grace@Example.com', name: 'Grace' });
  await register(server, w1, { email: 'grace@example.com', name: 'Grace' }); // a second link
  await register(server, w2, { email: 'GRACE@example.com', name: 'Grace H.' });
  await register(server, w1, { email: 'stay@example.com', name: 'Stays' });
  const g1 = await idOf(server, w1, 'grace@example.com');
  const g2 = await idOf(server, w2, 'grace@example.com');
  const stay = await idOf(server, w1, 'stay@example.com');
  await sqlite(server.dataDir, `INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds)
    VALUES (${g1}, 'live', 1, 2, 300), (${g1}, 'replay', 3, 4, 40), (${g2}, 'replay', 5, 6, 70),
           (${stay}, 'live', 1, 2, 100);`);

  const r = await as(server, 'POST', '/api/admin/data-subject/erasure',
    { body: { email: 'grace@EXAMPLE.com' } });
  assert.equal(r.status, 200, `erasure: ${r.body}`);
  const subject = await subjectOf(server, 'grace@example.com');
  assert.deepEqual(r.json, { subject, erased: { registrations: 2, webinars: 2, join_links: 3,
    attendance_stretches: 3 } });

  // Gone from every table, the list, the exports and access.
  const left = await sqlite(server.dataDir, `
    SELECT 'registrations' AS t, count(*) AS n FROM registrations WHERE email = 'grace@example.com' COLLATE NOCASE
    UNION ALL SELECT 'links', count(*) FROM join_links WHERE registration_id IN (${g1}, ${g2})
    UNION ALL SELECT 'attendance', count(*) FROM attendance WHERE registration_id IN (${g1}, ${g2});`);
  assert.deepEqual(left.map((x) => x.n), [0, 0, 0]);
  assert.deepEqual((await listRegistrations(server, w1)).map((x) => x.email), ['stay@example.com']);
  assert.deepEqual(await listRegistrations(server, w2), []);
  assert.doesNotMatch((await download(server, w1, 'csv')).body.toString(), /grace/i);
  const access = await as(server, 'POST', '/api/admin/data-subject/access',
    { body: { email: 'grace@example.com' } });
  assert.deepEqual(access.json.registrations, []);
  // The others are untouched, and the statistics survive.
  const [s] = (await as(server, 'POST', '/api/admin/data-subject/access',
    { body: { email: 'stay@example.com' } })).json.registrations;
  assert.equal(s.attendance.seconds_live, 100);
  const stats = await sqlite(server.dataDir, `SELECT webinar_id, registrations, attended_live,
    seconds_live, seconds_replay FROM webinar_stats WHERE webinar_id IN (${w1.id}, ${w2.id})
    ORDER BY webinar_id`);
  assert.deepEqual(stats, [
    { webinar_id: w1.id, registrations: 1, attended_live: 1, seconds_live: 300, seconds_replay: 40 },
    { webinar_id: w2.id, registrations: 1, attended_live: 0, seconds_live: 0, seconds_replay: 70 }]);

  // Asking again finds nothing and is recorded too.
  const again = await as(server, 'POST', '/api/admin/data-subject/erasure',
    { body: { email: 'grace@example.com' } });
  assert.deepEqual(again.json.erased, { registrations: 0, webinars: 0, join_links: 0,
    attendance_stretches: 0 });
  const erasures = (await auditEntries(server, '?limit=1000')).entries
    .filter((e) => e.action === 'subject_erasure');
  assert.deepEqual(erasures.slice(0, 2).map((e) => [e.subject, e.records]),
    [[subject, 0], [subject, 2]]);
  assert.doesNotMatch(JSON.stringify(erasures), /grace/i);
});

test('the audit log pages newest first, or follows entries after an id', async () => {
  const all = (await auditEntries(server, '?limit=1000')).entries;
  assert.ok(all.length >= 4, `audit entries so far: ${all.length}`);
  const ids = all.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  const page1 = await auditEntries(server, '?limit=2');
  assert.deepEqual(page1.entries.map((e) => e.id), ids.slice(0, 2));
  assert.equal(page1.next, ids[1]);
  const page2 = await auditEntries(server, `?limit=2&before=${page1.next}`);
  assert.deepEqual(page2.entries.map((e) => e.id), ids.slice(2, 4));
  const after = await auditEntries(server, `?after=${ids[3]}&limit=1000`);
  assert.deepEqual(after.entries.map((e) => e.id), ids.slice(0, 3).reverse(), 'oldest first');
  assert.equal(after.next, null);
  for (const e of all) {
    assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['export_csv', 'export_json', 'view_registrations', 'subject_access',
      'subject_erasure', 'retention_purge', 'decide_registrations', 'admit'].includes(e.action));
  }
});

/* Webinars whose registrations are, or are not, past retention with the real clock; returns
 * what must be deleted and kept. Old timestamps are written with the sqlite3 shell, in one
 * transaction: a server purging every second sees all of it expire at once. */
async function retentionCase(s, tag) {
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const make = async (title, body) => createWebinar(s, { title: `${tag} ${title}`, ...body });
  const w = {
    ended: await make('ended 200 days ago', { starts_at: iso(now - 200 * DAY) }),
    longer: await make('kept a year', { starts_at: iso(now - 200 * DAY), retention_days: 365 }),
    onDemand: await make('on demand', { on_demand: true, retention_days: 30 }),
    future: await make('next week', { starts_at: iso(now + 7 * DAY) }),
    ranLate: await make('ran again', { starts_at: iso(now - 200 * DAY) }),
    recordings: await make('recordings', {}),
  };
  const people = {
    old: [w.ended, 200], recent: [w.ended, 10], kept: [w.longer, 200], idle: [w.onDemand, 40],
    active: [w.onDemand, 5], early: [w.future, 200], late: [w.ranLate, 200],
  };
  for (const [who, [web]] of Object.entries(people))
    await register(s, web, { email: `${tag}-${who}@example.com`, name: `${who} person` });
  // Two recordings (fake files), ended 10 days and 1 day ago; their retention is set below.
  const [expiredRec, keptRec] = (await sqlite(s.dataDir, `
    INSERT INTO sessions (webinar_id, state, started_at, ended_at, duration_ms)
      VALUES (${w.recordings.id}, 'ended', ${now - 10 * DAY - 60e3}, ${now - 10 * DAY}, 60000),
             (${w.recordings.id}, 'ended', ${now - DAY - 60e3}, ${now - DAY}, 60000)
      RETURNING id;`)).map((x) => x.id);
  const recDir = (id) => path.join(s.dataDir, 'recordings', String(id));
  for (const id of [expiredRec, keptRec]) {
    fs.mkdirSync(recDir(id));
    fs.writeFileSync(path.join(recDir(id), 'seg-1.m4s'), 'not really media');
  }
  let sql = 'BEGIN;\n';
  for (const [who, [, days]] of Object.entries(people))
    sql += `UPDATE registrations SET last_activity = ${now - days * DAY}
            WHERE email = '${tag}-${who}@example.com';\n`;
  const old = await idOf(s, w.ended, `${tag}-old@example.com`);
  sql += `INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds)
          VALUES (${old}, 'live', 1, 2, 300);
    INSERT INTO sessions (webinar_id, state, started_at, ended_at, duration_ms)
      VALUES (${w.ranLate.id}, 'ended', ${now - 5 * DAY - 3600e3}, ${now - 5 * DAY}, 3600000);
    INSERT INTO auth_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
      VALUES (randomblob(32), ${org.id}, '${'c'.repeat(43)}', 1, 1, 2);
    UPDATE webinars SET recording_retention_days = 5 WHERE id = ${w.recordings.id};
    COMMIT;`;
  await sqlite(s.dataDir, sql);
  return { w, recDir, expiredRec, keptRec,
    gone: [`${tag}-old`, `${tag}-idle`],
    kept: [`${tag}-recent`, `${tag}-kept`, `${tag}-active`, `${tag}-early`, `${tag}-late`] };
}

async function remainingEmails(s, tag) {
  return (await sqlite(s.dataDir, `SELECT email FROM registrations WHERE email LIKE '${tag}-%'
    ORDER BY email`)).map((x) => x.email.replace('@example.com', ''));
}

async function checkPurged(s, c, tag) {
  assert.deepEqual(await remainingEmails(s, tag), [...c.kept].sort());
  const stats = await sqlite(s.dataDir, `SELECT webinar_id, registrations, attended_live,
    seconds_live FROM webinar_stats WHERE webinar_id IN (${c.w.ended.id}, ${c.w.onDemand.id})
    ORDER BY webinar_id`);
  assert.deepEqual(stats, [
    { webinar_id: c.w.ended.id, registrations: 1, attended_live: 1, seconds_live: 300 },
    { webinar_id: c.w.onDemand.id, registrations: 1, attended_live: 0, seconds_live: 0 }]);
  assert.equal(fs.existsSync(c.recDir(c.keptRec)), true, 'a recording within its retention');
  const [{ n }] = await sqlite(s.dataDir, 'SELECT count(*) AS n FROM auth_sessions WHERE expires_at = 2');
  assert.equal(n, 0, 'the ended login is gone');
  // The session rows stay: only their files go.
  const [{ rows }] = await sqlite(s.dataDir,
    `SELECT count(*) AS rows FROM sessions WHERE id IN (${c.expiredRec}, ${c.keptRec})`);
  assert.equal(rows, 2);
  const purges = (await auditEntries(s, '?limit=1000')).entries
    .filter((e) => e.action === 'retention_purge');
  assert.deepEqual(purges.map((e) => [e.webinar_id, e.records, e.user]).sort(),
    [[c.w.ended.id, 1, null], [c.w.onDemand.id, 1, null]].sort());
}

test('lectern purge: a dry run counts, the purge deletes what expired and nothing else', async () => {
  const c = await retentionCase(server, 'cli');
  const args = ['purge', '--data-dir', server.dataDir, '--json'];
  const dry = await runLectern([...args, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(JSON.parse(dry.stdout), { dry_run: true, registrations: 2, webinars: 2,
    login_sessions: 1, recordings: 1 });
  assert.equal((await remainingEmails(server, 'cli')).length, 7, 'a dry run deletes nothing');
  assert.equal(fs.existsSync(c.recDir(c.expiredRec)), true);

  const run = await runLectern(args);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { dry_run: false, registrations: 2, webinars: 2,
    login_sessions: 1, recordings: 1 });
  await checkPurged(server, c, 'cli');
  assert.equal(fs.existsSync(c.recDir(c.expiredRec)), false, 'the expired recording is deleted');
  assert.equal((await as(server, 'GET', '/api/me')).status, 200, 'a live login stays');

  const text = await runLectern(['purge', '--data-dir', server.dataDir]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout,
    'Deleted 0 registrations (of 0 webinars), 0 ended logins, 0 recordings.\n');
  assert.doesNotMatch(run.stdout + run.stderr + dry.stderr + text.stderr, /@/);
  const bad = await runLectern(['purge', '--data-dir', server.dataDir, '--rtmp', ':1']);
  assert.equal(bad.code, 2, 'an option purge does not take');
});

test('the server purges at start and at its interval', { timeout: 120e3 }, async () => {
  const s = await startServer({ args: ['--retention-interval', '1'] });
  const saved = org;
  try {
    org = await loginOrganiser(s);
    const c = await retentionCase(s, 'srv');
    await waitFor(async () => (await remainingEmails(s, 'srv')).length === c.kept.length, 15000,
      'the retention thread to purge');
    await waitFor(() => !fs.existsSync(c.recDir(c.expiredRec)), 15000,
      'the exporter to delete the expired recording');
    await checkPurged(s, c, 'srv');
    await stopAndCheck(s);
    // Counts only; one purge or several, they add up to what expired.
    const lines = [...s.stderrText().matchAll(/retention: deleted (\d+) registrations of \d+ webinars, (\d+) ended logins, (\d+) recordings/g)];
    assert.ok(lines.length >= 1, 'the purge is logged');
    assert.deepEqual([1, 2, 3].map((k) => lines.reduce((sum, m) => sum + Number(m[k]), 0)),
      [2, 1, 1]);
  } finally {
    org = saved;
  }
});

test('the server stops cleanly with a clean log', async () => {
  await stopAndCheck(server);
});
