// Low-Latency HLS in a real browser: the watch page's hls.js (lowLatencyMode) plays a live push
// in Debian's headless Chromium and stays close to the live edge. The distance is measured the
// way a viewer would feel it: Date.now() − hls.playingDate, i.e. the wall clock now against the
// EXT-X-PROGRAM-DATE-TIME of the picture on screen, which lectern anchors to the moment the
// media reached its ingest. Server and browser share this machine's clock.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser } from '../lib/browser.mjs';
import {
  test, startServer, stopAndCheck, createWebinar, push, waitFor, fatal, sleep,
} from '../lib/harness.mjs';

const SAMPLE_S = 30;          // sampling window, one sample per second
const MAX_LATENCY_S = 3.0;    // every sample
const MIN_ADVANCE_S = 27;     // playback over the window
const MAX_STALL_S = 1.0;      // any single `waiting` → `playing` gap in the window
// Long enough for the start, the window and the checks; ended early (SIGINT, a clean RTMP
// goodbye) once the window is over.
const PUSH_S = 90;

let server;
let browser;

before(async () => {
  server = await startServer(); // the default part target: what viewers get
  browser = await launchBrowser({ autoplay: true });
});

after(async () => {
  await browser?.close();
});

/* Media events do not bubble: listen in the capture phase on the document, from the first
 * parse on. Times are the page's performance.now() in ms. */
const RECORD_MEDIA_EVENTS = `window.__media = [];
for (const type of ['waiting', 'playing', 'stalled', 'error'])
  document.addEventListener(type, (e) => {
    if (e.target && e.target.id === 'video') window.__media.push({ type, at: performance.now() });
  }, true);`;

/* One sample: the wall clock and the player's view of it, read at the same instant. */
const sample = (page) => page.evaluate(() => {
  const v = document.getElementById('video');
  const hls = window.lecternPlayer && window.lecternPlayer.hls;
  const date = hls && hls.playingDate;
  const now = Date.now();
  return {
    now,
    perf: performance.now(),
    latency: date ? (now - date.getTime()) / 1000 : null,
    currentTime: v.currentTime,
    readyState: v.readyState,
    paused: v.paused,
    error: v.error && { code: v.error.code, message: v.error.message },
    hlsLatency: hls ? hls.latency : null,
    hlsTarget: hls ? hls.targetLatency : null,
    lowLatencyMode: hls ? hls.config.lowLatencyMode : null,
  };
});

function quantile(sorted, q) {
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/* `waiting` → next `playing` gaps that overlap [from, to] (page ms), clipped to it: a stall
 * still going on at `to` counts up to `to`. Returns [{ at, seconds }]. */
function stallsIn(events, from, to) {
  const stalls = [];
  let since = null;
  for (const e of events) {
    if (e.type === 'waiting' && since === null) since = e.at;
    else if (e.type === 'playing' && since !== null) {
      if (e.at > from && since < to)
        stalls.push({ at: since, seconds: (Math.min(e.at, to) - Math.max(since, from)) / 1000 });
      since = null;
    }
  }
  if (since !== null && since < to)
    stalls.push({ at: since, seconds: (to - Math.max(since, from)) / 1000 });
  return stalls;
}

test(`hls.js (low-latency mode) plays within ${MAX_LATENCY_S} s of the live edge for ` +
  `${SAMPLE_S} s`, { timeout: 150000 }, async (t) => {
  const w = await createWebinar(server, 'Low-latency webinar');
  const context = await browser.newContext();
  await context.addInitScript(RECORD_MEDIA_EVENTS);
  const requests = [];
  const problems = [];
  context.on('request', (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  const p = push(server.publishUrl(w.stream_key), { seconds: PUSH_S });
  try {
    await page.goto(server.url(`/watch/${w.slug}`));
    // Playing: the picture moves and hls.js knows the PROGRAM-DATE-TIME of the playhead.
    await waitFor(async () => {
      if (p.exitedAt() !== null) throw fatal(`ffmpeg exited early: ${p.stderrText()}`);
      const s = await sample(page);
      if (s.error) throw fatal(`video error ${JSON.stringify(s.error)}`);
      return s.currentTime > 0 && s.readyState >= 3 && !s.paused && s.latency !== null;
    }, 30000, 'the live video to play with a PROGRAM-DATE-TIME', 200);

    const samples = [];
    const first = await sample(page);
    samples.push(first);
    for (let i = 1; i <= SAMPLE_S; i++) {
      await sleep(Math.max(0, first.now + i * 1000 - Date.now()));
      samples.push(await sample(page));
    }
    const last = samples[samples.length - 1];
    const events = await page.evaluate(() => window.__media);
    assert.equal(p.exitedAt(), null, `the push was still running: ${p.stderrText()}`);

    const lat = samples.map((s) => s.latency);
    const known = lat.filter((x) => x !== null).sort((a, b) => a - b);
    const median = known.length ? quantile(known, 0.5) : NaN;
    const max = known.length ? known[known.length - 1] : NaN;
    const stalls = stallsIn(events, first.perf, last.perf);
    const advanced = last.currentTime - first.currentTime;
    const hlsLat = samples.map((s) => s.hlsLatency).filter(Number.isFinite).sort((a, b) => a - b);
    const report = `distance from the live edge (Date.now() − hls.playingDate) over ` +
      `${samples.length} samples: median ${median.toFixed(3)} s, max ${max.toFixed(3)} s; ` +
      `hls.latency median ${hlsLat.length ? quantile(hlsLat, 0.5).toFixed(3) : '–'} s, ` +
      `hls.targetLatency ${last.hlsTarget?.toFixed(3)} s; playback advanced ` +
      `${advanced.toFixed(2)} s in ${((last.now - first.now) / 1000).toFixed(2)} s; ` +
      `stalls ${JSON.stringify(stalls.map((s) => `${s.seconds.toFixed(3)} s at ` +
        `+${((s.at - first.perf) / 1000).toFixed(1)} s`))} (before the window: ` +
      `${JSON.stringify(stallsIn(events, 0, first.perf).map((s) => s.seconds.toFixed(3)))})`;
    t.diagnostic(report);
    const series = lat.map((x) => (x === null ? 'null' : x.toFixed(2))).join(' ');

    assert.equal(first.lowLatencyMode, true, 'the watch page plays with lowLatencyMode');
    for (const [i, s] of samples.entries()) {
      assert.equal(s.error, null, `sample ${i}: no error on the video element`);
      assert.ok(s.latency !== null, `sample ${i}: hls.playingDate is known (series: ${series})`);
      assert.ok(s.latency <= MAX_LATENCY_S, `sample ${i}: ${s.latency.toFixed(3)} s from the ` +
        `live edge, want <= ${MAX_LATENCY_S} s (series: ${series})`);
    }
    assert.ok(advanced >= MIN_ADVANCE_S, `currentTime advanced ${advanced.toFixed(2)} s in the ` +
      `${SAMPLE_S} s window (want >= ${MIN_ADVANCE_S})`);
    const long = stalls.filter((s) => s.seconds > MAX_STALL_S);
    assert.deepEqual(long, [], `no stall longer than ${MAX_STALL_S} s (all: ` +
      `${JSON.stringify(stalls)})`);

    // It really was Low-Latency HLS: parts were fetched and the playlist was reloaded with
    // blocking requests; and everything came from lectern itself.
    const origin = new URL(server.httpBase).origin;
    const foreign = requests.filter((u) => !u.startsWith('data:') && new URL(u).origin !== origin);
    assert.deepEqual(foreign, [], 'every request goes to the lectern server');
    const liveDir = new URL('.', w.hls_url).pathname; // /live/{live key}/
    const live = requests.map((u) => new URL(u)).filter((u) => u.pathname.startsWith(liveDir));
    assert.ok(live.some((u) => /\/part-\d+\.\d+\.m4s$/.test(u.pathname)),
      'the player fetched LL-HLS parts');
    assert.ok(live.some((u) => u.pathname.endsWith('/index.m3u8') &&
      u.searchParams.has('_HLS_msn')), 'the player reloaded the playlist with _HLS_msn');
    assert.deepEqual(problems, [], 'no console errors and no page errors');
  } finally {
    await context.close();
    // A presenter who stops: ffmpeg ends the RTMP session properly on SIGINT.
    await Promise.race([p.kill('SIGINT'), sleep(10000)]);
  }
});

test('the server shuts down cleanly; its log has no IP address and no stream key', async () => {
  await stopAndCheck(server);
});
