// An attendee in a real browser (Debian's Chromium, headless, driven by playwright-core): the
// watch page before, during and after a webinar, and the replay page it links to. The video
// must really play, every request must go to lectern itself, and the console must stay clean.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from '../lib/browser.mjs';
import {
  test, startServer, stopAndCheck, createWebinar, push, pushExit, waitFor, fatal, sleep, getJSON,
} from '../lib/harness.mjs';

const PUSH_S = 20;
let server;
let browser;

before(async () => {
  server = await startServer();
  // The replay page is not muted; let it start like a viewer who pressed play.
  browser = await launchBrowser({ autoplay: true });
});

after(async () => {
  await browser?.close();
});

/* Records every value the status line takes, from the page's first parse on. */
const RECORD_STATES = `addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('status');
  if (!el) return;
  window.__states = [el.dataset.state];
  new MutationObserver(() => {
    if (window.__states[window.__states.length - 1] !== el.dataset.state)
      window.__states.push(el.dataset.state);
  }).observe(el, { attributes: true, attributeFilter: ['data-state'] });
});`;

const statusOf = (page) => page.evaluate(() => {
  const el = document.getElementById('status');
  return { state: el?.dataset.state, text: el?.textContent, states: window.__states };
});

async function expectState(page, want, timeoutMs) {
  return waitFor(async () => {
    const s = await statusOf(page);
    if (s.state === want) return s;
    throw new Error(`status is ${s.state} ("${s.text}"); so far ${s.states}`);
  }, timeoutMs, `the status line to say ${want}`, 100);
}

const videoOf = (page) => page.evaluate(() => {
  const v = document.getElementById('video');
  return { currentTime: v.currentTime, readyState: v.readyState, paused: v.paused,
    duration: v.duration, hidden: v.hidden,
    error: v.error && { code: v.error.code, message: v.error.message } };
});

/* The video plays: readyState >= 3, no error, and currentTime advances by at least minAdvance
 * over `overMs` of wall time. Returns the last sample. */
async function expectPlaying(page, what, { overMs = 5000, minAdvance = 3 } = {}) {
  const start = await waitFor(async () => {
    const v = await videoOf(page);
    if (v.error) throw fatal(`${what}: video error ${JSON.stringify(v.error)}`);
    return v.currentTime > 0 && v.readyState >= 3 && !v.paused ? v : null;
  }, 20000, `${what}: the video to start playing`, 200);
  await sleep(overMs);
  const end = await videoOf(page);
  assert.equal(end.error, null, `${what}: no error on the video element`);
  assert.ok(end.readyState >= 3, `${what}: readyState ${end.readyState}`);
  assert.equal(end.hidden, false, `${what}: the video is visible`);
  const advanced = end.currentTime - start.currentTime;
  assert.ok(advanced >= minAdvance,
    `${what}: currentTime advanced ${advanced.toFixed(2)} s in ${overMs} ms ` +
    `(want >= ${minAdvance})`);
  return end;
}

test('watch page: not started → live and playing → ended → the replay plays',
  async () => {
    const w = await createWebinar(server, 'Browser webinar');
    const context = await browser.newContext();
    await context.addInitScript(RECORD_STATES);
    const requests = [];
    const problems = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
    });
    try {
      await page.goto(server.url(`/watch/${w.slug}`));
      await expectState(page, 'scheduled', 5000);
      assert.equal(await page.locator('#replay-link').count(), 0, 'no replay link yet');

      const p = push(server.publishUrl(w.stream_key), { seconds: PUSH_S });
      await expectState(page, 'live', 15000);
      await expectPlaying(page, 'live video');

      const code = await pushExit(p, (PUSH_S + 20) * 1000);
      assert.equal(code, 0, `ffmpeg exit code; stderr: ${p.stderrText()}`);
      const ended = await expectState(page, 'ended', 8000);
      assert.deepEqual(ended.states, ['loading', 'scheduled', 'live', 'ended'],
        'the watch page went through exactly these states');
      const link = page.locator('#replay-link');
      await link.waitFor({ state: 'visible', timeout: 5000 });
      const href = await link.getAttribute('href');
      const api = await getJSON(server.url(`/api/webinars/${w.slug}`));
      const session = api.sessions[api.sessions.length - 1];
      assert.match(href, new RegExp(`^/replay/[0-9a-f]{32}/${session.id}$`));
      assert.equal(href, session.replay_page_url, 'the link goes to the replay of this session');

      await Promise.all([page.waitForURL(server.url(href), { timeout: 10000 }), link.click()]);
      const replay = await expectState(page, 'replay', 10000);
      assert.deepEqual(replay.states, ['loading', 'replay'], 'the replay page states');
      const v = await expectPlaying(page, 'replay video', { overMs: 3000, minAdvance: 2 });
      assert.ok(Math.abs(v.duration - PUSH_S) <= 1.5,
        `the replay's duration in the browser is ${v.duration} s, pushed ${PUSH_S} s`);

      const origin = new URL(server.httpBase).origin;
      const foreign = requests.filter((u) => !u.startsWith('data:') &&
        new URL(u).origin !== origin);
      assert.deepEqual(foreign, [], 'every request goes to the lectern server');
      const paths = requests.map((u) => new URL(u).pathname);
      const dirOf = (u) => new URL('.', new URL(u, server.httpBase)).pathname;
      assert.ok(paths.some((x) => x.startsWith(dirOf(w.hls_url)) && x.endsWith('.m4s')),
        'the live player fetched live media (under the live key)');
      assert.ok(paths.some((x) => x.startsWith(dirOf(session.replay_url)) && x.endsWith('.m4s')),
        'the replay player fetched recorded media (under the replay key)');
      assert.deepEqual(problems, [], 'no console errors and no page errors');
    } finally {
      await context.close();
    }
  });

test('watch page of a registration-only webinar: no player, a link to register', async () => {
  const w = await createWebinar(server, 'Registered attendees only', { access: 'registration' });
  const context = await browser.newContext();
  await context.addInitScript(RECORD_STATES);
  const requests = [];
  context.on('request', (r) => requests.push(new URL(r.url()).pathname));
  const page = await context.newPage();
  const p = push(server.publishUrl(w.stream_key), { seconds: 30 });
  try {
    // Live and playable for those who may watch: the organiser's URL plays.
    await waitFor(async () => (await getJSON(server.url(`/api/webinars/${w.slug}`))).playable,
      20000, 'the webinar to be playable');
    await page.goto(server.url(`/watch/${w.slug}`));
    const st = await expectState(page, 'registration', 5000);
    assert.match(st.text, /registration/i);
    const link = page.locator('#register-link');
    await link.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await link.getAttribute('href'), `/w/${w.slug}`, 'the link to register');
    await sleep(2500); // a refresh or two of the page's state
    const v = await videoOf(page);
    assert.equal(v.hidden, true, 'the video element stays hidden');
    assert.deepEqual(requests.filter((x) => /^\/(live|vod)\//.test(x)), [],
      'the page asked for no media');
    assert.deepEqual((await statusOf(page)).states, ['loading', 'registration']);
  } finally {
    await context.close();
    await Promise.race([p.kill('SIGINT'), sleep(10000)]);
  }
});

test('the server shuts down cleanly; its log has no IP address and no stream key', async () => {
  await stopAndCheck(server);
});
