#!/usr/bin/env node
// Glass-to-glass latency in hls.js, side by side: one ffmpeg presenter pushes the same
// pre-encoded stream (copy, no encoder in the loop) through ffmpeg's tee muxer, at the same
// moment, to one lectern per part target (Low-Latency HLS) and to nginx-rtmp (Debian's
// libnginx-mod-rtmp, standard HLS, 2 s fragments). For each server, a page in headless Chromium
// plays the live stream with hls.js (its defaults plus lowLatencyMode: true, served with the
// page by a small static server of this script) and, after a warm-up, samples its playhead every
// 250 ms for 60 s. The pages take turns (one at a time: the machine has two cores), and each
// server is joined three times at different moments: hls.js picks its start from the playlist
// it first gets and never catches up by default, so one join is one draw.
//
// One definition for every server (nginx-rtmp has no PROGRAM-DATE-TIME):
//
//   latency = now − (push_start + media time at the playhead)
//
// push_start is the origin of ffmpeg's -re clock, from its progress reports as in
// live-latency.mjs. The media time at the playhead comes through the fragment being played:
// hls.js's FRAG_CHANGED gives its sequence number and its start on hls.js's timeline, and the
// fragment's media start is the sum of the EXTINF durations of the segments before it (both
// servers start at sequence 0; their playlists are polled from the start to learn every one):
//
//   media time = media_start(frag.sn) + (video.currentTime − frag.start)
//
// For lectern the page also records Date.now() − hls.playingDate (EXT-X-PROGRAM-DATE-TIME,
// anchored by lectern to the arrival of the run's first packet at its ingest), so the two methods
// can be compared; and a client that follows each lectern's playlist with blocking reloads, like
// hls.js does, measures when every part is listed against the push clock (the server's share).
//
// Usage: node bench/glass-to-glass.mjs [--seconds 60] [--warmup 10] [--joins 3] [--join-after 8]
//          [--part-targets 0.333,0.4,0.5] [--concurrent]
//          [--hls-config '{"maxLiveSyncPlaybackRate":1.1}' (on top of the defaults)]
//          [--lectern build-release/lectern] [--chromium /usr/bin/chromium] [--json out.json]
//          [--trace trace.json (every page's hls.js requests, loads, errors and media events)]
// Needs: a release build, ffmpeg, nginx with the rtmp module (scripts/setup --test), Debian's
// chromium, `npm ci` in tests/ (playwright-core) and in web/ (hls.js). Loopback only; every
// process and the temporary directory are cleaned up, also on failure or Ctrl-C.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir, cpus, loadavg, release } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNginxRtmp, freePort } from './lib/nginx-rtmp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const seconds = Number(args.seconds || 60);
const warmup = Number(args.warmup || 10);
// Viewers join this long after the push began, all at once: by then every server lists a few
// segments. 0 joins at once, like attendees who wait on the watch page before the start.
const joinAfter = Number(args['join-after'] ?? 8);
// All pages at once instead of one after the other.
const concurrent = process.argv.includes('--concurrent');
// Rounds: each configuration is joined (and sampled for `seconds`) this many times.
const joins = Number(args.joins || 3);
// hls.js settings on top of its defaults and lowLatencyMode (an experiment, not the default).
const hlsConfig = args['hls-config'] ? JSON.parse(args['hls-config']) : {};
const partTargets = (args['part-targets'] || '0.333,0.4,0.5').split(',').map(Number);
const lecternBin = args.lectern || join(root, 'build-release', 'lectern');
const chromiumBin = args.chromium || '/usr/bin/chromium';
const hlsDist = join(root, 'web', 'node_modules', 'hls.js', 'dist');
const SAMPLE_MS = 250;
const POLL_MS = 250;
const START_TIMEOUT_MS = 40000; // until a page plays
// Media to push: for each group of pages start-up (15 s is plenty on a quiet machine), warm-up
// and the window, and a margin so that the push outlives sampling (if it does not, the bench
// says so and fails).
const groupCount = joins * (concurrent ? 1 : partTargets.length + 1);
const pushSeconds = Math.ceil(joinAfter + groupCount * (15 + warmup + seconds) + 15);
// Nothing here may run longer than this, whatever hangs (encoding the source included).
const HARD_LIMIT_MS = (2 * pushSeconds + 180) * 1000;

const { chromium } = createRequire(join(root, 'tests', 'package.json'))('playwright-core');

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarize(values) {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN };
}

const wall = () => Date.now(); // the clock the browser's Date.now() and lectern's PDT use too

/* Whole-machine CPU counters (jiffies): busy and total, from /proc/stat. */
function cpuTimes() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/* ---- the page ----------------------------------------------------------------------------- */

// Plays ?src= with hls.js defaults plus lowLatencyMode; records FRAG_CHANGED, media events and
// errors from the start, and samples on request (in the page, so that the time and the
// playhead are read together).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>glass-to-glass</title></head>
<body>
<video id="video" muted autoplay playsinline></video>
<script src="/hls.min.js"></script>
<script>
'use strict';
const src = new URLSearchParams(location.search).get('src');
const video = document.getElementById('video');
const extra = JSON.parse(new URLSearchParams(location.search).get('config') || '{}');
const hls = new Hls({ lowLatencyMode: true, ...extra });
const g2g = window.g2g = { hls, frag: null, events: [], errors: [], samples: [] };
hls.on(Hls.Events.FRAG_CHANGED, (_e, d) => { g2g.frag = d.frag; });
hls.on(Hls.Events.ERROR, (_e, d) => {
  g2g.errors.push({ at: Date.now(), details: d.details, fatal: d.fatal });
});
hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
// --trace: what hls.js asked for and got, to explain a figure.
g2g.trace = [];
const trace = (ev, o) => g2g.trace.push({ at: Date.now(), ev, ct: video.currentTime, ...o });
hls.on(Hls.Events.LEVEL_LOADING, (_e, d) => trace('level-loading', { url: d.url }));
hls.on(Hls.Events.LEVEL_LOADED, (_e, d) => trace('level-loaded', { edge: d.details.edge,
  endSN: d.details.endSN, lastPart: d.details.lastPartIndex, latency: hls.latency }));
hls.on(Hls.Events.FRAG_LOADED, (_e, d) => trace('loaded', { sn: d.frag.sn,
  part: d.part ? d.part.index : null, start: (d.part || d.frag).start }));
hls.on(Hls.Events.ERROR, (_e, d) => trace('error', { details: d.details,
  url: d.url || d.context?.url }));
for (const type of ['waiting', 'playing', 'seeking', 'seeked'])
  video.addEventListener(type, () => trace(type, {}));
for (const type of ['waiting', 'playing'])
  video.addEventListener(type, () => g2g.events.push({ type, at: Date.now() }));
hls.loadSource(src);
hls.attachMedia(video);
g2g.sample = () => {
  const f = g2g.frag, pd = hls.playingDate, q = video.getVideoPlaybackQuality();
  return { now: Date.now(), ct: video.currentTime, rs: video.readyState, paused: video.paused,
    sn: f ? f.sn : null, fragStart: f ? f.start : null, fragPdt: f ? f.programDateTime : null,
    playingDate: pd ? pd.getTime() : null, latency: hls.latency, target: hls.targetLatency,
    dropped: q.droppedVideoFrames, frames: q.totalVideoFrames, vis: document.visibilityState };
};
g2g.startSampling = (ms, every) => {
  g2g.samples.push(g2g.sample());
  const timer = setInterval(() => g2g.samples.push(g2g.sample()), every);
  setTimeout(() => clearInterval(timer), ms);
};
</script>
</body></html>
`;

/* A static server on loopback: the page and hls.min.js, nothing else. */
async function startStatic() {
  const hlsJs = readFileSync(join(hlsDist, 'hls.min.js'));
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/player.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (path === '/hls.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(hlsJs);
    } else if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/* ---- servers ------------------------------------------------------------------------------ */

async function startLectern(dir, partTarget) {
  const httpPort = await freePort(), rtmpPort = await freePort();
  const dataDir = join(dir, `lectern-${partTarget}`);
  const proc = spawn(lecternBin, ['serve', '--http', `127.0.0.1:${httpPort}`, '--rtmp',
    `127.0.0.1:${rtmpPort}`, '--data-dir', dataDir, '--log-level', 'warn', '--part-target',
    String(partTarget)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('lectern: no ready line in 20 s')), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('lectern: ready')) { clearTimeout(timer); resolve(); }
    });
    proc.once('exit', (c) => { clearTimeout(timer); reject(new Error('lectern exited ' + c)); });
  });
  proc.stdout.resume();
  const webinar = JSON.parse(execFileSync(lecternBin, ['webinar', 'create', '--title',
    `g2g ${partTarget}`, '--public', '--json', '--data-dir', dataDir, '--http', `127.0.0.1:${httpPort}`,
    '--rtmp', `127.0.0.1:${rtmpPort}`], { timeout: 10000 }));
  return {
    proc,
    name: `lectern, part target ${partTarget} s`,
    partTarget,
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live/${webinar.stream_key}`,
    masterUrl: webinar.hls_url, // the live stream, under the webinar's live key
    stop: () => proc.kill('SIGTERM'),
  };
}

/* The media playlist named by a multivariant playlist, once it exists. */
async function mediaUrlOf(masterUrl, deadline) {
  while (wall() < deadline) {
    const res = await fetch(masterUrl, { signal: AbortSignal.timeout(2000) }).catch(() => null);
    if (res && res.ok) {
      const uri = (await res.text()).split('\n').find((l) => l && !l.startsWith('#'));
      if (uri) return new URL(uri, res.url).href;
    }
    await sleep(50);
  }
  throw new Error(`no playlist at ${masterUrl}`);
}

/* ---- playlists ------------------------------------------------------------------------------ */

/* Segments {msn, duration, pdt} and parts {msn, index, duration} of a media playlist. */
function parsePlaylist(text) {
  const segments = [], parts = [];
  let msn = 0, duration = null, pdt = null, partIndex = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) msn = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(line.slice(25));
    else if (line.startsWith('#EXTINF:')) duration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-SKIP:')) msn += Number(/SKIPPED-SEGMENTS=(\d+)/.exec(line)[1]);
    else if (line.startsWith('#EXT-X-PART:')) {
      const d = /DURATION=([0-9.]+)/.exec(line);
      parts.push({ msn, index: partIndex++, duration: parseFloat(d[1]) });
    } else if (line && !line.startsWith('#') && duration !== null) {
      segments.push({ msn, duration, pdt });
      msn++;
      duration = pdt = null;
      partIndex = 0;
    }
  }
  return { segments, parts };
}

/* Polls a playlist every POLL_MS until stop(), remembering every segment and part it lists. */
function pollPlaylist(url, seen) {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        const res = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(2000) });
        if (res.ok) record(seen, parsePlaylist(await res.text()));
      } catch { /* not there yet */ }
      await sleep(POLL_MS);
    }
  })();
  return async () => { stopped = true; await done; };
}

function record(seen, { segments, parts }, at = null) {
  for (const s of segments) if (!seen.segments.has(s.msn)) seen.segments.set(s.msn, s);
  for (const p of parts) {
    const key = `${p.msn}.${p.index}`;
    if (!seen.parts.has(key)) seen.parts.set(key, { ...p, at });
  }
}

/* Follows a lectern playlist the way hls.js does in low-latency mode: a blocking request for
 * the part after the newest one listed; notes when each part is first listed. */
function followBlocking(url, listed) {
  let stopped = false;
  const ctrl = new AbortController();
  const done = (async () => {
    let next = null;
    while (!stopped) {
      try {
        const u = next ? `${url}?_HLS_msn=${next.msn}&_HLS_part=${next.index}` : url;
        const res = await fetch(u, { cache: 'no-store', signal: ctrl.signal });
        const at = wall();
        if (!res.ok) { next = null; await sleep(50); continue; }
        const pl = parsePlaylist(await res.text());
        record(listed, pl, at);
        const last = pl.parts[pl.parts.length - 1];
        next = last ? { msn: last.msn, index: last.index + 1 } : null;
        if (!last) await sleep(50);
      } catch {
        if (!stopped) await sleep(50);
      }
    }
  })();
  return async () => { stopped = true; ctrl.abort(); await done; };
}

/* Media start of each segment: the sum of the EXTINFs before it, from sequence 0 on. */
function mediaStarts(segments) {
  const starts = new Map();
  if (!segments.has(0)) return starts; // polled too late: nothing can be placed
  let t = 0;
  for (let msn = 0; segments.has(msn); msn++) {
    starts.set(msn, t);
    t += segments.get(msn).duration;
  }
  starts.set(starts.size, t); // the segment after the last complete one starts here
  return starts;
}

/* ---- analysis ------------------------------------------------------------------------------- */

/* waiting → playing gaps (s) that overlap [from, to] (wall ms), clipped to it. */
function stalls(events, from, to) {
  const out = [];
  let since = null;
  for (const e of events) {
    if (e.type === 'waiting' && since === null) since = e.at;
    else if (e.type === 'playing' && since !== null) {
      if (e.at > from && since < to) out.push((Math.min(e.at, to) - Math.max(since, from)) / 1000);
      since = null;
    }
  }
  if (since !== null && since < to) out.push((to - Math.max(since, from)) / 1000);
  return out;
}

/* One join: the page's samples, mapped to glass-to-glass latency; its start-up; its stalls. */
function analyzeJoin(cfg, j, starts, pushStart) {
  const s = j.samples;
  const g2g = [], pdt = [];
  let unmapped = 0;
  for (const x of s) {
    const ms = x.sn === null ? undefined : starts.get(x.sn);
    if (ms === undefined || x.fragStart === null) { unmapped++; continue; }
    const media = ms + (x.ct - x.fragStart);
    g2g.push((x.now - (pushStart + media * 1000)) / 1000);
    if (x.playingDate !== null) pdt.push((x.now - x.playingDate) / 1000);
  }
  // The two timelines must agree on every fragment: media start − hls.js start is one constant.
  const offsets = s.filter((x) => x.sn !== null && starts.has(x.sn) && x.fragStart !== null)
    .map((x) => starts.get(x.sn) - x.fragStart);
  // Start-up: the first playlist hls.js got, and when playback began. hls.js picks its start
  // position from that playlist; the time until it plays is latency it keeps (its defaults
  // never play faster than real time to catch up).
  const firstLevel = j.trace.find((e) => e.ev === 'level-loaded');
  const firstPlaying = j.trace.find((e) => e.ev === 'playing');
  const rel = (t) => (t === undefined ? null : (t - pushStart) / 1000);
  const first = s[0], last = s[s.length - 1];
  const inWindow = stalls(j.events, j.windowFrom, j.windowTo);
  const before = stalls(j.events, j.playingAt, j.windowFrom);
  return {
    g2g, pdt,
    samples: s.length,
    unmapped,
    mapping_spread_s: offsets.length ? Math.max(...offsets) - Math.min(...offsets) : NaN,
    median: quantile([...g2g].sort((x, y) => x - y), 0.5),
    pdt_median: cfg.lectern ? quantile([...pdt].sort((x, y) => x - y), 0.5) : null,
    startup: {
      joined_s: rel(j.joinedAt),
      first_playlist_s: rel(firstLevel?.at),
      first_playlist_end_sn: firstLevel?.endSN ?? null,
      playing_s: rel(firstPlaying?.at),
      playlist_to_playing_s: firstLevel && firstPlaying ? (firstPlaying.at - firstLevel.at) / 1000
        : null,
      playlist_requests_before_playing: j.trace.filter((e) => e.ev === 'level-loading' &&
        (!firstPlaying || e.at < firstPlaying.at)).map((e) => new URL(e.url).search || '(plain)'),
    },
    hls_latency: s.map((x) => x.latency),
    hls_target_latency: s.map((x) => x.target),
    played_s: last.ct - first.ct,
    wall_s: (last.now - first.now) / 1000,
    stalls_in_window: inWindow,
    stalls_before_window: before,
    dropped_frames: last.dropped - first.dropped,
    hidden_samples: s.filter((x) => x.vis !== 'visible').length,
    window_cpu_busy: j.cpuBusy,
    loadavg_after_window: j.loadavg,
    errors: j.errors.map((e) => e.details),
    problems: j.problems,
  };
}

/* Every join of one configuration, pooled; plus what the playlists say about the server. */
function analyze(cfg, pushStart, pushBegan) {
  const starts = mediaStarts(cfg.seen.segments);
  const joins = cfg.joins.map((j) => analyzeJoin(cfg, j, starts, pushStart));
  // PROGRAM-DATE-TIME against the push clock: how far lectern's anchor (the arrival of the
  // run's first packet) sits from where the push clock puts the same media.
  const pdtOffsets = [];
  for (const [msn, seg] of cfg.seen.segments)
    if (seg.pdt !== null && starts.has(msn))
      pdtOffsets.push((seg.pdt - (pushStart + starts.get(msn) * 1000)) / 1000);
  // When each part was listed to a blocking client, after its last media was pushed (from the
  // 10th second of the push on: past the burst that follows the connection).
  const listing = [];
  if (cfg.listed) {
    const byMsn = new Map();
    const inOrder = (a, b) => a.msn - b.msn || a.index - b.index;
    for (const p of [...cfg.listed.parts.values()].sort(inOrder)) {
      if (!byMsn.has(p.msn)) byMsn.set(p.msn, []);
      byMsn.get(p.msn).push(p);
    }
    for (const [msn, parts] of byMsn) {
      if (!starts.has(msn) || parts[0].index !== 0) continue;
      let end = starts.get(msn);
      for (const [i, p] of parts.entries()) {
        if (p.index !== i) break; // a hole: the rest of this segment cannot be placed
        end += p.duration;
        if (p.at !== null && p.at >= pushBegan + 10000)
          listing.push((p.at - (pushStart + end * 1000)) / 1000);
      }
    }
  }
  const partDurations = {};
  for (const p of (cfg.listed || cfg.seen).parts.values()) {
    const k = p.duration.toFixed(3);
    partDurations[k] = (partDurations[k] || 0) + 1;
  }
  const all = (k) => joins.flatMap((j) => j[k]);
  const stallsOf = (k) => { const v = all(k); return { count: v.length,
    total_s: v.reduce((a, b) => a + b, 0), max_s: Math.max(0, ...v) }; };
  return {
    name: cfg.name,
    joins: joins.length,
    latency: summarize(all('g2g')),
    latency_per_join: joins.map((j) => j.median),
    pdt_latency: cfg.lectern ? summarize(all('pdt')) : null,
    pdt_latency_per_join: cfg.lectern ? joins.map((j) => j.pdt_median) : null,
    pdt_minus_push_clock: cfg.lectern ? summarize(pdtOffsets) : null,
    part_listed_after_push: cfg.lectern ? summarize(listing) : null,
    hls_latency: summarize(all('hls_latency')),
    hls_target_latency: summarize(all('hls_target_latency')),
    stalls_in_window: stallsOf('stalls_in_window'),
    stalls_before_window: stallsOf('stalls_before_window'),
    window_cpu_busy: joins.map((j) => j.window_cpu_busy),
    part_durations: cfg.lectern ? partDurations : undefined,
    segment_durations: summarize([...cfg.seen.segments.values()].map((x) => x.duration)),
    per_join: joins.map(({ g2g, pdt, hls_latency, hls_target_latency, stalls_in_window,
      stalls_before_window, ...rest }) => ({ ...rest,
      stalls_in_window: stalls_in_window.length, stalls_before_window: stalls_before_window.length,
      hls_latency_median: quantile(hls_latency.filter(Number.isFinite).sort((x, y) => x - y), 0.5),
    })),
  };
}

/* ---- main ----------------------------------------------------------------------------------- */

async function main() {
  for (const [what, path] of [['lectern binary', lecternBin], ['chromium', chromiumBin],
    ['hls.js (npm ci in web/)', join(hlsDist, 'hls.min.js')]])
    if (!existsSync(path)) throw new Error(`no ${what} at ${path}`);
  const dir = mkdtempSync(join(tmpdir(), 'lectern-g2g-'));
  const cleanup = [];
  // Past the hard limit, or on Ctrl-C: stop everything that was started and leave.
  const abandon = (why, code) => {
    console.error(`glass-to-glass: ${why}; stopping`);
    for (const fn of cleanup.reverse()) { try { fn(); } catch { /* gone */ } }
    setTimeout(() => { rmSync(dir, { recursive: true, force: true }); process.exit(code); }, 500);
  };
  const hardLimit = setTimeout(() => abandon(`still running after ${HARD_LIMIT_MS / 1000} s`, 2),
    HARD_LIMIT_MS);
  const onSignal = () => abandon('interrupted', 130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let browser = null;
  try {
    const loadAtStart = loadavg();
    // 1. The source: 720p25, 2 s GOP without B-frames (so decode and presentation order agree
    //    and a sample's media time is unambiguous), AAC stereo; encoded once, pushed as a copy.
    const source = join(dir, 'source.flv');
    console.error(`glass-to-glass: encoding ${pushSeconds + 5} s of source`);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
      `testsrc2=size=1280x720:rate=25:duration=${pushSeconds + 5}`, '-f', 'lavfi', '-i',
      `sine=frequency=440:sample_rate=48000:duration=${pushSeconds + 5}`, '-c:v', 'libx264',
      '-preset', 'veryfast', '-b:v', '2500k', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
      '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '2', '-b:a', '128k', source],
    { timeout: pushSeconds * 1500, killSignal: 'SIGKILL' });

    // 2. The servers: one lectern per part target, and nginx-rtmp.
    const configs = [];
    for (const pt of partTargets) {
      const l = await startLectern(dir, pt);
      cleanup.push(() => l.stop());
      configs.push({ ...l, lectern: true });
    }
    const nginx = await startNginxRtmp(join(dir, 'nginx'), { cors: true });
    cleanup.push(() => nginx.stop());
    configs.push({ name: 'nginx-rtmp, 2 s fragments', lectern: false,
      rtmpUrl: `${nginx.rtmpBase}/g2g`, masterUrl: nginx.playlistUrl('g2g') });
    const page = await startStatic();
    cleanup.push(() => page.close());

    // 3. The push, to all of them at once.
    const tee = configs.map((c) => `[f=flv:onfail=abort]${c.rtmpUrl}`).join('|');
    const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i',
      source, '-t', String(pushSeconds), '-map', '0', '-c', 'copy', '-progress', 'pipe:1',
      '-stats_period', '0.1', '-f', 'tee', tee], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => ff.kill('SIGKILL'));
    let ffErr = '';
    ff.stderr.on('data', (d) => { ffErr += d; });
    const clockSamples = []; // report arrival (wall ms) − media time written (ms)
    const earlyClock = []; // the same for the first reports (the burst after connecting)
    let progressText = '';
    ff.stdout.on('data', (d) => {
      const now = wall();
      progressText += d;
      const re = /out_time_us=(\d+)[\s\S]*?progress=(continue|end)\n/g;
      let m, consumed = 0;
      while ((m = re.exec(progressText))) {
        const mediaMs = Number(m[1]) / 1000;
        if (mediaMs > 2000) clockSamples.push(now - mediaMs); // past the initial burst
        else if (mediaMs > 0) earlyClock.push({ media_ms: mediaMs, at: now });
        consumed = re.lastIndex;
      }
      progressText = progressText.slice(consumed);
    });
    let ffExited = false;
    ff.once('exit', () => { ffExited = true; });
    const pushBegan = wall();

    // 4. Playlists, polled from the start (every segment's EXTINF), and lectern's parts as a
    //    blocking client sees them.
    const stops = [];
    for (const c of configs) {
      c.mediaUrl = c.lectern ? await mediaUrlOf(c.masterUrl, pushBegan + 20000) : c.masterUrl;
      c.seen = { segments: new Map(), parts: new Map() };
      stops.push(pollPlaylist(c.mediaUrl, c.seen));
      if (c.lectern) {
        c.listed = { segments: new Map(), parts: new Map() };
        stops.push(followBlocking(c.mediaUrl, c.listed));
      }
    }

    // 5. One page per server, in one browser: one after the other (each alone with the
    //    machine, whose two cores four software-decoded 720p players would share), or all at
    //    once with --concurrent; `joins` rounds, so that each configuration is joined at
    //    several moments (where a viewer joins in the part cycle moves hls.js's start, and it
    //    keeps that latency). All against the same push and the same push clock.
    browser = await chromium.launch({ executablePath: chromiumBin, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run',
        '--autoplay-policy=no-user-gesture-required'] });
    cleanup.push(() => browser?.close());
    const groups = [];
    for (let round = 0; round < joins; round++)
      groups.push(...(concurrent ? [configs] : configs.map((c) => [c])));
    for (const c of configs) c.joins = [];
    for (const [g, group] of groups.entries()) {
      console.error(`glass-to-glass: ${g + 1}/${groups.length}: playing ` +
        `${group.map((c) => c.name).join('; ')}`);
      const js = [];
      for (const c of group) {
        const j = { problems: [] };
        j.context = await browser.newContext();
        j.page = await j.context.newPage();
        j.page.on('pageerror', (e) => j.problems.push(`page error: ${e.message}`));
        j.page.on('console', (m) => { if (m.type() === 'error') j.problems.push(m.text()); });
        j.context.on('request', (r) => {
          const u = new URL(r.url()); // blob: is hls.js's own worker
          if (u.protocol !== 'blob:' && u.protocol !== 'data:' && u.hostname !== '127.0.0.1')
            j.problems.push(`request off loopback: ${r.url()}`);
        });
        js.push([c, j]);
      }
      await sleep(Math.max(0, pushBegan + joinAfter * 1000 - wall()));
      await Promise.all(js.map(async ([c, j]) => {
        j.joinedAt = wall();
        await j.page.goto(`${page.base}/player.html?src=${encodeURIComponent(c.masterUrl)}` +
          `&config=${encodeURIComponent(JSON.stringify(hlsConfig))}`);
      }));
      const startDeadline = wall() + START_TIMEOUT_MS;
      for (const [c, j] of js) {
        for (;;) {
          if (ffExited) throw new Error(`ffmpeg exited early: ${ffErr}`);
          const x = await j.page.evaluate(() => g2g.sample());
          if (x.ct > 0 && x.rs >= 3 && !x.paused && x.sn !== null) break;
          if (wall() > startDeadline) {
            const errors = await j.page.evaluate(() => g2g.errors);
            throw new Error(`${c.name}: not playing after ${START_TIMEOUT_MS / 1000} s ` +
              `(${JSON.stringify(x)}; errors ${JSON.stringify(errors)}; ${j.problems})`);
          }
          await sleep(200);
        }
        j.playingAt = wall();
      }

      // 6. Warm-up, then the group's pages sample the same window.
      await sleep(warmup * 1000);
      const windowFrom = wall();
      const cpuFrom = cpuTimes();
      await Promise.all(js.map(([, j]) => j.page.evaluate(([ms, every]) =>
        g2g.startSampling(ms, every), [seconds * 1000, SAMPLE_MS])));
      await sleep(seconds * 1000 + 500);
      const windowTo = wall();
      const cpuTo = cpuTimes();
      if (ffExited) throw new Error(`ffmpeg exited before the window ended: ${ffErr}`);
      for (const [c, j] of js) {
        const r = await j.page.evaluate(() => ({ samples: g2g.samples, events: g2g.events,
          errors: g2g.errors, trace: g2g.trace }));
        // Share of all cores busy in the window: this bench and anything else on the machine.
        Object.assign(j, r, { windowFrom, windowTo, loadavg: loadavg(),
          cpuBusy: (cpuTo.busy - cpuFrom.busy) / (cpuTo.total - cpuFrom.total) });
        await j.context.close();
        delete j.context;
        delete j.page;
        c.joins.push(j);
      }
    }
    for (const stop of stops) await stop();
    const chromiumVersion = browser.version();
    await browser.close();
    browser = null;
    ff.kill('SIGKILL');

    const sorted = [...clockSamples].sort((a, b) => a - b);
    const pushStart = quantile(sorted, 0.5);
    const results = configs.map((c) => analyze(c, pushStart, pushBegan));
    const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1];
    const result = {
      date: new Date().toISOString(),
      machine: { cpu, nproc: cpus().length, kernel: release(),
        debian: readFileSync('/etc/debian_version', 'utf8').trim(), loadavg_at_start: loadAtStart },
      method: { seconds, warmup, joins, join_after: joinAfter, concurrent,
        hls_config: hlsConfig, sample_ms: SAMPLE_MS, push_seconds: pushSeconds },
      push_clock: { samples: sorted.length,
        p5_p95_ms: [quantile(sorted, 0.05) - pushStart, quantile(sorted, 0.95) - pushStart],
        // When ffmpeg's first reports came, against the clock: the connections are made
        // while -re's clock already runs, and what was read meanwhile leaves in a burst.
        first_reports: earlyClock.slice(0, 5).map((e) => ({ media_ms: e.media_ms,
          late_ms: e.at - (pushStart + e.media_ms) })) },
      results,
      versions: {
        lectern: execFileSync(lecternBin, ['--version']).toString().trim(),
        nginx: spawnSync('nginx', ['-v']).stderr.toString().trim(),
        ffmpeg: execFileSync('ffmpeg', ['-version']).toString().split('\n')[0],
        hlsjs: JSON.parse(readFileSync(join(hlsDist, '..', 'package.json'), 'utf8')).version,
        chromium: chromiumVersion,
        node: process.version,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
    if (args.trace)
      writeFileSync(args.trace, JSON.stringify({ pushStart, pushBegan,
        configs: configs.map((c) => ({ name: c.name, joins: c.joins,
          parts: c.listed && [...c.listed.parts.values()],
          segments: [...c.seen.segments.values()] })) }));
    const f = (x) => (Number.isFinite(x) ? x.toFixed(2) + ' s' : '–');
    const list = (v) => v.map((x) => (Number.isFinite(x) ? x.toFixed(2) : '–')).join(', ');
    console.log('\n| configuration | samples | median | p95 | median of each join | ' +
      'PDT-based median / p95 | hls.latency median | hls.targetLatency median | ' +
      'stalls in windows | CPU busy |\n' +
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results) {
      console.log(`| ${r.name} | ${r.latency.n} | ${f(r.latency.median)} | ${f(r.latency.p95)} | ` +
        `${list(r.latency_per_join)} s | ` +
        `${r.pdt_latency ? `${f(r.pdt_latency.median)} / ${f(r.pdt_latency.p95)}` : '–'} | ` +
        `${f(r.hls_latency.median)} | ${f(r.hls_target_latency.median)} | ` +
        `${r.stalls_in_window.count} (${r.stalls_in_window.total_s.toFixed(2)} s) | ` +
        `${r.window_cpu_busy.map((x) => (100 * x).toFixed(0)).join(', ')} % |`);
    }
  } finally {
    clearTimeout(hardLimit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const fn of cleanup.reverse()) { try { await fn(); } catch { /* already gone */ } }
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
