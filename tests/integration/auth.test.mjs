// Organiser accounts against the real server: the one-time setup link printed at first start,
// login / me / logout, the cookie's flags, CSRF and Origin refusals, the same 401 for an unknown
// email and a wrong password, the login rate limit, session expiry, the request body rules, and
// `lectern user` beside a running server. Every server's log is checked for emails and secrets.
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  test, startServer, stopAndCheck, runLectern, lecternJSON, httpRequest, rememberSecret, sleep,
  api, assertError,
} from '../lib/harness.mjs';

const SETUP_LINK = /^\s+(http:\/\/\S+)\/setup\/([A-Za-z0-9_-]{43})$/m;
const PASSWORD = rememberSecret('correct horse battery staple');

/* The session cookie a 200/201 login or setup answer set, checked for its flags. */
function sessionOf(res, { secure = false } = {}) {
  const set = res.headers['set-cookie'];
  assert.ok(Array.isArray(set) && set.length === 1, `one Set-Cookie: ${JSON.stringify(set)}`);
  const parts = set[0].split(/;\s*/);
  const [name, value] = parts[0].split('=');
  assert.equal(name, 'lectern_session');
  assert.match(value, /^[A-Za-z0-9_-]{43}$/);
  const flags = parts.slice(1);
  assert.ok(flags.includes('HttpOnly'), `HttpOnly: ${set[0]}`);
  assert.ok(flags.includes('SameSite=Strict'), `SameSite=Strict: ${set[0]}`);
  assert.ok(flags.includes('Path=/'), `Path=/: ${set[0]}`);
  assert.equal(flags.includes('Secure'), secure, `Secure only with --secure-cookies: ${set[0]}`);
  assert.match(res.json.csrf_token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(res.json.csrf_token, value);
  return { cookie: rememberSecret(value), csrf: rememberSecret(res.json.csrf_token) };
}

async function login(server, email, password = PASSWORD, opts = {}) {
  return api(server, 'POST', '/api/login', { body: { email, password }, ...opts });
}

/* `lectern user add` with the password on stdin. */
function userAdd(server, email, password = PASSWORD, extra = []) {
  return runLectern(['user', 'add', email, '--data-dir', server.dataDir, ...extra],
    { input: `${password}\n`, timeoutMs: 30000 });
}

async function listUsers(server) {
  return (await lecternJSON(['user', 'list', '--data-dir', server.dataDir])).users;
}

test('first start prints a one-time setup link that creates the first account', async () => {
  const server = await startServer();
  const m = SETUP_LINK.exec(server.stdoutText());
  assert.ok(m, `a setup link on stdout:\n${server.stdoutText()}`);
  assert.equal(m[1], server.httpBase, 'the link uses the public URL');
  const token = rememberSecret(m[2]);

  const page = await httpRequest(server.url(`/setup/${token}`));
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-store');
  assertError(await httpRequest(server.url('/setup/not-a-token')), 404, 'not_found');
  assertError(await api(server, 'GET', '/api/me'), 401, 'not_logged_in');

  // Bad input is refused by field, and nothing is written.
  const email = "o'brien+webinars@example.com"; // a quote: stored and echoed as text
  const good = { token, email, password: PASSWORD };
  const cases = [
    [{ ...good, email: 'not an email' }, 422, 'invalid_field', 'email'],
    [{ ...good, email: '<script>alert(1)</script>@example.com' }, 422, 'invalid_field', 'email'],
    [{ ...good, password: 'short' }, 422, 'invalid_field', 'password'],
    [{ ...good, password: 'x'.repeat(1025) }, 422, 'invalid_field', 'password'],
    [{ ...good, token: 'abc' }, 422, 'invalid_field', 'token'],
    [{ ...good, admin: true }, 422, 'unknown_field', 'admin'],
    [{ email, password: PASSWORD }, 422, 'missing_field', 'token'],
    [{ ...good, token: 'A'.repeat(43) }, 403, 'invalid_setup_token', undefined],
  ];
  for (const [body, status, code, field] of cases)
    assertError(await api(server, 'POST', '/api/setup', { body }), status, code, field);
  assert.deepEqual(await listUsers(server), [], 'no account after refused requests');

  const res = await api(server, 'POST', '/api/setup', { body: good });
  assert.equal(res.status, 201, res.body.toString());
  assert.equal(res.json.user.email, email);
  const session = sessionOf(res);
  const me = await api(server, 'GET', '/api/me', { session });
  assert.equal(me.status, 200);
  assert.deepEqual(me.json, { user: res.json.user, csrf_token: session.csrf });

  // The link worked once.
  assertError(await api(server, 'POST', '/api/setup', { body: { ...good, email: 'b@example.com' } }),
    403, 'invalid_setup_token');
  const users = await listUsers(server);
  assert.deepEqual(users.map((u) => u.email), [email]);
  await stopAndCheck(server);

  // With an account, no link is printed again.
  const again = await startServer({ dataDir: server.dataDir });
  assert.doesNotMatch(again.stdoutText(), /\/setup\//);
  assert.equal((await login(again, email)).status, 200);
  await stopAndCheck(again);
});

test('login, me and logout; CSRF token and Origin checks on state changes', async () => {
  const server = await startServer();
  const token = rememberSecret(SETUP_LINK.exec(server.stdoutText())[2]);
  const email = 'organiser@example.com';
  // `lectern user add` beside the running server; the setup link is void from then on.
  const add = await userAdd(server, email);
  assert.equal(add.code, 0, add.stderr);
  assertError(await api(server, 'POST', '/api/setup',
    { body: { token, email: 'x@example.com', password: PASSWORD } }), 403, 'invalid_setup_token');

  const res = await login(server, 'Organiser@Example.COM'); // any letter case
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(res.json.user.email, email);
  const session = sessionOf(res);
  assert.equal((await api(server, 'GET', '/api/me', { session })).status, 200);

  // A state-changing request without the CSRF token, with a wrong one, or from another site.
  assertError(await api(server, 'POST', '/api/logout', { session, csrf: false }), 403, 'csrf');
  assertError(await api(server, 'POST', '/api/logout',
    { session: { ...session, csrf: 'A'.repeat(43) } }), 403, 'csrf');
  assertError(await api(server, 'POST', '/api/logout',
    { session, headers: { Origin: 'http://evil.example' } }), 403, 'cross_origin');
  assertError(await api(server, 'POST', '/api/logout',
    { session, headers: { Origin: 'null' } }), 403, 'cross_origin');
  assertError(await api(server, 'POST', '/api/logout',
    { session, headers: { 'Sec-Fetch-Site': 'cross-site' } }), 403, 'cross_origin');
  assertError(await login(server, email, PASSWORD, { headers: { Origin: 'http://evil.example' } }),
    403, 'cross_origin');
  // Logging in again while logged in is a state change too.
  assertError(await login(server, email, PASSWORD, { session, csrf: false }), 403, 'csrf');
  assert.equal((await api(server, 'GET', '/api/me', { session })).status, 200, 'still logged in');

  // Same-origin, with the token: logged out, cookie cleared, the session gone for good.
  const out = await api(server, 'POST', '/api/logout',
    { session, headers: { Origin: server.httpBase } });
  assert.equal(out.status, 204);
  assert.match(out.headers['set-cookie'][0], /^lectern_session=; Path=\/; Max-Age=0; HttpOnly/);
  assertError(await api(server, 'GET', '/api/me', { session }), 401, 'not_logged_in');
  assertError(await api(server, 'POST', '/api/logout', { session }), 401, 'not_logged_in');
  assertError(await api(server, 'GET', '/api/me',
    { session: { cookie: 'A'.repeat(43), csrf: '' } }), 401, 'not_logged_in');
  await stopAndCheck(server);
});

test('request bodies: content type, size, JSON, unknown fields, UTF-8, payloads as text',
  async () => {
    const server = await startServer();
    const email = "robert'--@example.com";
    // An SQL and HTML payload as a password is just a password.
    const payload = rememberSecret("'); DROP TABLE users; -- <script>alert(1)</script>");
    assert.equal((await userAdd(server, email, payload)).code, 0);
    const url = server.url('/api/login');
    const body = JSON.stringify({ email, password: payload });

    assertError(await httpRequest(url, { method: 'POST', body, headers: { 'Content-Type':
      'text/plain' } }), 415, 'unsupported_media_type');
    assertError(await httpRequest(url, { method: 'POST', body: `email=${email}`, headers:
      { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
    assertError(await httpRequest(url, { method: 'POST', body: '{"email": ', headers:
      { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
    assertError(await httpRequest(url, { method: 'POST', body: '[]', headers:
      { 'Content-Type': 'application/json' } }), 400, 'invalid_json');
    assertError(await httpRequest(url, { method: 'POST', body: { email, password: payload,
      remember: true } }), 422, 'unknown_field', 'remember');
    assertError(await httpRequest(url, { method: 'POST', body: { email } }), 422,
      'missing_field', 'password');
    assertError(await httpRequest(url, { method: 'POST', body: { email, password: 5 } }), 422,
      'invalid_field', 'password');
    assertError(await httpRequest(url, { method: 'POST', body: { email: "' OR '1'='1",
      password: payload } }), 422, 'invalid_field', 'email');
    const badUtf8 = Buffer.concat([Buffer.from(`{"email":"${email}","password":"ab`),
      Buffer.from([0xff, 0xfe]), Buffer.from('cdefghijk"}')]);
    assertError(await httpRequest(url, { method: 'POST', body: badUtf8, headers:
      { 'Content-Type': 'application/json' } }), 400, 'invalid_utf8', 'password');
    // Too large: read and refused, with a known length or chunked; far too large: refused
    // before it is sent.
    const big = JSON.stringify({ email, password: 'x'.repeat(100 * 1024) });
    assertError(await httpRequest(url, { method: 'POST', body: big }), 413, 'body_too_large');
    assertError(await httpRequest(url, { method: 'POST', body: big,
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }), 413,
    'body_too_large');
    assert.equal(await headersOnlyStatus(url, 5 * 1024 * 1024), 413);

    // None of that counted as a login attempt, and the payload password works.
    const ok = await login(server, email, payload);
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(ok.json.user.email, email, 'the email comes back exactly as stored');
    assert.deepEqual((await listUsers(server)).map((u) => u.email), [email]);
    await stopAndCheck(server);
  });

/* Sends only the headers of a POST announcing `length` bytes; resolves with the status. */
function headersOnlyStatus(url, length) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type':
      'application/json', 'Content-Length': length } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

test('a wrong password and an unknown email get the same 401, in about the same time',
  async () => {
    const server = await startServer();
    const email = 'timing@example.com';
    assert.equal((await userAdd(server, email)).code, 0);
    const wrong = [];
    const unknown = [];
    for (let i = 0; i < 2; i++) {
      wrong.push(await login(server, email, 'not the password'));
      unknown.push(await login(server, `nobody${i}@example.com`, PASSWORD));
    }
    for (const r of [...wrong, ...unknown]) assertError(r, 401, 'invalid_credentials');
    assert.deepEqual(unknown[0].json, wrong[0].json, 'the same body');
    const mean = (rs) => rs.reduce((n, r) => n + r.ms, 0) / rs.length;
    const [w, u] = [mean(wrong), mean(unknown)];
    // Both run the KDF once at the same parameters (hundreds of milliseconds); an unknown email
    // that skipped it would answer in a few.
    assert.ok(u > w * 0.5 && w > u * 0.5, `wrong password ${w} ms, unknown email ${u} ms`);
    await stopAndCheck(server);
  });

test('login is rate-limited per account: 429 with Retry-After after 5 failures', async () => {
  const server = await startServer();
  const email = 'limited@example.com';
  const other = 'other@example.com';
  assert.equal((await userAdd(server, email)).code, 0);
  assert.equal((await userAdd(server, other)).code, 0);
  for (let i = 0; i < 5; i++)
    assertError(await login(server, email, `wrong guess ${i}`), 401, 'invalid_credentials');
  const limited = await login(server, email); // even the right password waits now
  assertError(limited, 429, 'too_many_attempts');
  const retry = Number(limited.headers['retry-after']);
  assert.ok(retry > 800 && retry <= 900, `Retry-After ${limited.headers['retry-after']}`);
  assertError(await login(server, email.toUpperCase()), 429, 'too_many_attempts');
  // Another account is not affected; an email without an account is limited the same way.
  assert.equal((await login(server, other)).status, 200);
  for (let i = 0; i < 5; i++)
    assertError(await login(server, 'ghost@example.com'), 401, 'invalid_credentials');
  assertError(await login(server, 'ghost@example.com'), 429, 'too_many_attempts');
  await stopAndCheck(server);
});

test('sessions end after the idle limit and after their lifetime; --secure-cookies',
  async () => {
    const server = await startServer({ args: ['--session-idle', '2', '--session-lifetime', '5',
      '--secure-cookies'] });
    const email = 'expiry@example.com';
    assert.equal((await userAdd(server, email)).code, 0);
    const first = sessionOf(await login(server, email), { secure: true });
    // Used every second it stays alive past the idle limit, up to its lifetime.
    const t0 = Date.now();
    while (Date.now() - t0 < 3500) {
      await sleep(1000);
      assert.equal((await api(server, 'GET', '/api/me', { session: first })).status, 200,
        `alive after ${Date.now() - t0} ms`);
    }
    await sleep(Math.max(0, 5500 - (Date.now() - t0)));
    const expired = await api(server, 'GET', '/api/me', { session: first });
    assertError(expired, 401, 'not_logged_in');
    assert.match(expired.headers['set-cookie']?.[0] ?? '', /^lectern_session=; .*Max-Age=0/,
      'an expired cookie is cleared');
    // Unused for longer than the idle limit.
    const second = sessionOf(await login(server, email), { secure: true });
    await sleep(2500);
    assertError(await api(server, 'GET', '/api/me', { session: second }), 401, 'not_logged_in');
    await stopAndCheck(server);
  });

test('lectern user add, list and delete beside a running server', async () => {
  const server = await startServer();
  const dir = ['--data-dir', server.dataDir];
  const help = await runLectern(['user', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /lectern user add EMAIL/);
  assert.equal((await runLectern(['user', 'add', '--help'])).code, 0);
  assert.match((await runLectern(['--help'])).stdout, /lectern user add/);

  const short = await userAdd(server, 'a@example.com', 'short');
  assert.equal(short.code, 2);
  assert.match(short.stderr, /at least 10/);
  const invalid = await userAdd(server, 'not-an-email');
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /not a valid email/);
  const none = await runLectern(['user', 'add', ...dir]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /which account/);
  assert.deepEqual(await listUsers(server), []);

  const added = await userAdd(server, 'a@example.com', PASSWORD, ['--json']);
  assert.equal(added.code, 0, added.stderr);
  const a = JSON.parse(added.stdout);
  assert.equal(a.email, 'a@example.com');
  assert.ok(Number.isInteger(a.id));
  assert.ok(!added.stdout.includes(PASSWORD), 'the password is never printed');
  const dup = await userAdd(server, 'A@EXAMPLE.com');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /exists/);
  const text = await runLectern(['user', 'list', ...dir]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /a@example\.com/);
  assert.deepEqual((await listUsers(server)).map((u) => u.email), ['a@example.com']);

  // The running server sees the account at once; deleting it ends its logins.
  const session = sessionOf(await login(server, 'a@example.com'));
  assert.equal((await api(server, 'GET', '/api/me', { session })).status, 200);
  const del = await runLectern(['user', 'delete', 'a@example.com', ...dir]);
  assert.equal(del.code, 0, del.stderr);
  assertError(await api(server, 'GET', '/api/me', { session }), 401, 'not_logged_in');
  assertError(await login(server, 'a@example.com'), 401, 'invalid_credentials');
  const gone = await runLectern(['user', 'delete', 'a@example.com', ...dir]);
  assert.equal(gone.code, 1);
  assert.deepEqual(await listUsers(server), []);
  await stopAndCheck(server);
});
