// Shared by the browser tests of the registration, join and organiser pages: a browser context
// that notes every console error, page error and request to another host; an organiser logging
// in through the real login page; webinars and registrations made through the API; and whether
// a page's video really plays.
import assert from 'node:assert/strict';
import { launchBrowser } from './browser.mjs';
import {
  api, rememberSecret, waitFor, fatal, startServer, loginOrganiser,
} from './harness.mjs';

/* What a suite shares: a server with an organiser account ({ server, org }, see
 * loginOrganiser) and one headless Chromium (autoplay: media may start without a gesture).
 * The caller closes the browser; the harness ends the server. */
export async function startWorld({ autoplay = false } = {}) {
  const server = await startServer();
  const org = await loginOrganiser(server);
  return { server, org, browser: await launchBrowser({ autoplay }) };
}

/* A new context (one person's browser) in Berlin time with English, unless options say
 * otherwise. `allow`: console errors that are expected, matched against "TEXT (URL)" (e.g.
 * /status of 401/ before a login: Chromium logs every HTTP error answer of a fetch). Returns
 * { context, problems }. */
export async function openContext(browser, server, { allow = null, ...options } = {}) {
  const context = await browser.newContext({ timezoneId: 'Europe/Berlin', locale: 'en-GB',
    ...options });
  const problems = [];
  context.on('page', (page) => {
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      const line = `${m.text()} (${m.location().url})`;
      if (m.type() === 'error' && !(allow && allow.test(line)))
        problems.push(`console error: ${line}`);
    });
  });
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(server.httpBase + '/') && !/^(data|blob):/.test(u))
      problems.push(`request to another host: ${u}`);
  });
  return { context, problems };
}

/* Opens /admin without a session: it must send the browser to /login?next=/admin, where the
 * organiser logs in with the form and is sent back. */
export async function loginThroughPage(page, server, org) {
  await page.goto(server.url('/admin'));
  await page.waitForURL((u) => u.pathname === '/login', { timeout: 10000 });
  assert.equal(new URL(page.url()).searchParams.get('next'), '/admin', 'the login page knows ' +
    'where to go back to');
  await page.fill('#email', org.email);
  await page.fill('#password', org.password);
  await page.click('#submit');
  await page.waitForURL((u) => u.pathname === '/admin', { timeout: 15000 });
  const cookie = (await page.context().cookies()).find((c) => c.name === 'lectern_session');
  rememberSecret(cookie?.value);
}

/* A webinar made by the organiser `org` through the API; its stream key is remembered. */
export async function apiWebinar(server, org, body) {
  const r = await api(server, 'POST', '/api/admin/webinars', { session: org, body });
  assert.equal(r.status, 201, `create webinar: ${r.body}`);
  rememberSecret(r.json.stream_key);
  return r.json;
}

/* Registers through the API (as the page would); returns the answer's JSON. */
export async function apiRegister(server, w, { email, name, fields = {} }) {
  const r = await api(server, 'POST', `/api/webinars/${w.slug}/registrations`, {
    body: { email, name, fields, consent: true,
      consent_version: w.consent_version ?? w.registration.consent_version } });
  assert.equal(r.status, 201, `register: ${r.body}`);
  rememberSecret(new URL(r.json.join_url).pathname.split('/')[2]);
  return r.json;
}

/* The webinar's registrations as the organiser sees them (first page). */
export async function registrations(server, org, webinarId) {
  const r = await api(server, 'GET', `/api/admin/webinars/${webinarId}/registrations`,
    { session: org });
  assert.equal(r.status, 200, `registrations: ${r.body}`);
  return r.json;
}

/* The page's <video> starts and its currentTime advances by `seconds` (real playback, not just
 * a loaded player). */
export async function expectVideoAdvances(page, seconds, timeoutMs = 30000) {
  const sample = () => page.evaluate(() => {
    const v = document.querySelector('video');
    return { t: v.currentTime, paused: v.paused, error: v.error && v.error.code,
      hidden: !!v.closest('[hidden]') };
  });
  const first = await waitFor(async () => {
    const s = await sample();
    if (s.error) throw fatal(`video error ${s.error}`);
    return s.t > 0 && !s.paused && !s.hidden ? s : null;
  }, timeoutMs, 'the video to start playing', 200);
  await waitFor(async () => (await sample()).t >= first.t + seconds, seconds * 1000 + 10000,
    `currentTime to advance ${seconds} s past ${first.t}`, 200);
}
