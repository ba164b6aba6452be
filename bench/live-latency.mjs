#!/usr/bin/env node
// Live-edge latency, side by side: one ffmpeg presenter pushes the same pre-encoded stream
// (copy, no encoder in the loop) to lectern and to nginx-rtmp (Debian's libnginx-mod-rtmp, HLS)
// at the same moment through ffmpeg's tee muxer. Both playlists are polled every 10 ms; for each
// segment (and, for lectern with LL-HLS, each part) we note when it first appears, and compare
// with the moment its last media sample was pushed:
//
//   latency = appeared_at − (push_start + media_end_time)
//
// push_start is the origin of ffmpeg's -re clock: media time t leaves ffmpeg at push_start + t.
// It is estimated from ffmpeg's own progress reports (every 100 ms: the media time written so
// far) as the median of (report's arrival − media time written), which also absorbs the burst
// that -re releases at once after the RTMP connections were set up.
//
// Usage: node bench/live-latency.mjs [--seconds 60] [--lectern path/to/lectern]
// Needs: a release build (scripts/run builds one into build-release/), ffmpeg, nginx with the
// rtmp module (scripts/setup --test installs both).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNginxRtmp, freePort } from './lib/nginx-rtmp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const seconds = Number(args.seconds || 60);
const lecternBin = args.lectern || join(here, '..', 'build-release', 'lectern');
const extraServeArgs = (args['serve-args'] || '').split(' ').filter(Boolean);

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function summarize(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), min: s[0], max: s[s.length - 1] };
}

// Parses a media playlist into segments [{uri, duration}] and parts [{uri, duration}] in order.
function parsePlaylist(text) {
  const segments = [], parts = [];
  let pendingDuration = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXTINF:')) pendingDuration = parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-PART:')) {
      const d = /DURATION=([0-9.]+)/.exec(line), u = /URI="([^"]+)"/.exec(line);
      if (d && u) parts.push({ uri: u[1], duration: parseFloat(d[1]) });
    } else if (line && !line.startsWith('#') && pendingDuration !== null) {
      segments.push({ uri: line.trim(), duration: pendingDuration });
      pendingDuration = null;
    }
  }
  return { segments, parts };
}

// Polls a playlist until `stopAt`, recording first-seen times of segments and parts.
// Items already listed in the first playlist seen were not seen appearing: they keep their
// place in the running sum of durations but give no latency figure.
async function watch(url, stopAt, seen) {
  let initial = true;
  while (Date.now() < stopAt) {
    try {
      const res = await fetch(url, { cache: 'no-store' });
      const now = performance.timeOrigin + performance.now();
      if (res.ok) {
        const { segments, parts } = parsePlaylist(await res.text());
        for (const s of segments) if (!seen.segments.has(s.uri)) seen.segments.set(s.uri, { at: now, duration: s.duration, initial });
        for (const p of parts) if (!seen.parts.has(p.uri)) seen.parts.set(p.uri, { at: now, duration: p.duration, initial });
        initial = false;
      }
    } catch { /* not there yet */ }
    await sleep(10);
  }
}

// Media end time of each item = running sum of durations in order of appearance.
function latencies(map, pushStart) {
  let t = 0;
  const out = [];
  for (const { at, duration, initial } of map.values()) {
    t += duration;
    if (!initial) out.push((at - (pushStart + t * 1000)) / 1000);
  }
  return out;
}

async function main() {
  if (!existsSync(lecternBin)) throw new Error(`no lectern binary at ${lecternBin}: run scripts/run once, or pass --lectern`);
  const dir = mkdtempSync(join(tmpdir(), 'lectern-bench-'));
  const cleanup = [];
  try {
    // 1. The source: 720p25, 2 s GOP, AAC stereo, encoded once so the push itself is a copy.
    const source = join(dir, 'source.flv'); // FLV: copied into RTMP as it is
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i',
      `testsrc2=size=1280x720:rate=25:duration=${seconds + 5}`, '-f', 'lavfi', '-i',
      `sine=frequency=440:sample_rate=48000:duration=${seconds + 5}`, '-c:v', 'libx264',
      '-preset', 'veryfast', '-b:v', '2500k', '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
      '-c:a', 'aac', '-ac', '2', '-b:a', '128k', source]);

    // 2. lectern
    const httpPort = await freePort(), rtmpPort = await freePort();
    const dataDir = join(dir, 'lectern');
    const lectern = spawn(lecternBin, ['serve', '--http', `127.0.0.1:${httpPort}`, '--rtmp',
      `127.0.0.1:${rtmpPort}`, '--data-dir', dataDir, '--log-level', 'warn', ...extraServeArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => lectern.kill('SIGTERM'));
    await new Promise((resolve, reject) => {
      let out = '';
      lectern.stdout.on('data', (d) => { out += d; if (out.includes('lectern: ready')) resolve(); });
      lectern.once('exit', (c) => reject(new Error('lectern exited ' + c)));
    });
    const webinar = JSON.parse(execFileSync(lecternBin, ['webinar', 'create', '--title', 'bench',
      '--public', '--json', '--data-dir', dataDir, '--http', `127.0.0.1:${httpPort}`, '--rtmp', `127.0.0.1:${rtmpPort}`]));

    // 3. nginx-rtmp
    const nginx = await startNginxRtmp(join(dir, 'nginx'));
    cleanup.push(() => nginx.stop());

    // 4. The push, to both at once.
    const tee = `[f=flv:onfail=abort]rtmp://127.0.0.1:${rtmpPort}/live/${webinar.stream_key}|` +
      `[f=flv:onfail=abort]${nginx.rtmpBase}/bench`;
    const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-i', source,
      '-t', String(seconds), '-map', '0', '-c', 'copy', '-progress', 'pipe:1', '-stats_period', '0.1',
      '-f', 'tee', tee], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(() => ff.kill('SIGKILL'));
    let ffErr = '';
    ff.stderr.on('data', (d) => { ffErr += d; });
    const clockSamples = []; // arrival wall time − media time written, ms
    let progressText = '';
    ff.stdout.on('data', (d) => {
      const now = performance.timeOrigin + performance.now();
      progressText += d;
      let m;
      const re = /out_time_us=(\d+)[\s\S]*?progress=(continue|end)\n/g;
      let consumed = 0;
      while ((m = re.exec(progressText))) {
        const mediaMs = Number(m[1]) / 1000;
        if (mediaMs > 2000) clockSamples.push(now - mediaMs); // past the initial burst
        consumed = re.lastIndex;
      }
      progressText = progressText.slice(consumed);
    });
    const ffDone = new Promise((resolve) => ff.once('exit', resolve));
    await new Promise((resolve, reject) => {
      const t = setInterval(() => { if (clockSamples.length) { clearInterval(t); resolve(); } }, 20);
      ff.once('exit', (c) => { clearInterval(t); reject(new Error('ffmpeg exited ' + c + ': ' + ffErr)); });
    });
    const stopAt = Date.now() + seconds * 1000 - 3000;

    // lectern's media playlist URL comes from its multivariant playlist.
    let lecternMedia = null;
    for (let i = 0; i < 300 && !lecternMedia; i++) {
      const res = await fetch(webinar.hls_url).catch(() => null); // under the live key
      if (res && res.ok) {
        const uri = (await res.text()).split('\n').find((l) => l && !l.startsWith('#'));
        lecternMedia = new URL(uri, res.url).href;
      } else await sleep(10);
    }
    if (!lecternMedia) throw new Error('lectern never published a playlist');
    const seenL = { segments: new Map(), parts: new Map() };
    const seenN = { segments: new Map(), parts: new Map() };
    await Promise.all([watch(lecternMedia, stopAt, seenL), watch(nginx.playlistUrl('bench'), stopAt, seenN)]);
    await ffDone;
    const pushStart = [...clockSamples].sort((a, b) => a - b)[Math.floor(clockSamples.length / 2)];
    const spread = summarize(clockSamples.map((x) => x - pushStart));

    const result = {
      date: new Date().toISOString(),
      machine: `${cpus().length} × ${cpus()[0].model}`,
      seconds,
      push_clock: { samples: spread.n, p5_to_p95_ms: [quantile([...clockSamples].sort((a, b) => a - b), 0.05) - pushStart,
        quantile([...clockSamples].sort((a, b) => a - b), 0.95) - pushStart] },
      lectern: { segments: summarize(latencies(seenL.segments, pushStart)), parts: summarize(latencies(seenL.parts, pushStart)) },
      nginx_rtmp: { segments: summarize(latencies(seenN.segments, pushStart)) },
      versions: {
        lectern: execFileSync(lecternBin, ['--version']).toString().trim(),
        nginx: spawnSync('nginx', ['-v']).stderr.toString().trim(),
        ffmpeg: execFileSync('ffmpeg', ['-version']).toString().split('\n')[0],
        node: process.version,
      },
    };
    console.log(JSON.stringify(result, null, 2));
    const f = (x) => (Number.isFinite(x) ? x.toFixed(3) + ' s' : '–');
    console.log('\n| server | unit | n | median | p95 | min | max |\n| --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, unit, s] of [['lectern', 'segment', result.lectern.segments],
      ['lectern', 'part', result.lectern.parts], ['nginx-rtmp', 'segment', result.nginx_rtmp.segments]]) {
      if (s.n) console.log(`| ${name} | ${unit} | ${s.n} | ${f(s.median)} | ${f(s.p95)} | ${f(s.min)} | ${f(s.max)} |`);
    }
  } finally {
    for (const fn of cleanup.reverse()) { try { fn(); } catch { /* already gone */ } }
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
