#!/usr/bin/env node
// How many Low-Latency HLS viewers one lectern serves on this machine: a release lectern and one
// ffmpeg presenter (the pre-encoded 720p25 source, -re -c copy, looped), then llhls-load at
// increasing N for a fixed time each, with lectern's CPU (/proc/PID/stat) and RSS
// (/proc/PID/status) sampled once a second.
//
// Two views of latency per N:
//   load   what the N simulated viewers saw. One process serves them all, so when thousands of
//          responses arrive at once its own queue adds to their lag: an upper bound.
//   probe  a second llhls-load with a few viewers (--probe, default 10) run alongside: what one
//          more viewer sees while the server carries N others. This is the figure "stable" uses.
// lag = arrival of a playlist − (PROGRAM-DATE-TIME + durations up to the end of its last part).
//
// Stable: no error (load and probe), probe p99 lag within --stable-ms (default 1000) of the first
// (smallest) N's, and the load really offered: requests per viewer per second within 10 % of the
// first N's and no part skipped by a viewer that fell behind. Past that point the load generator,
// not the server, is what ran out (its CPU and the machine's are in the table). The answer is the
// largest N up to which every run was stable.
//
// Usage: node bench/llhls-capacity.mjs [--viewers 500,1000,2000,5000,8000] [--seconds 60]
//        [--threads 2] [--probe 10] [--no-media] [--video-kbps 2500] [--lectern path]
//        [--out file.json]
//        node bench/llhls-capacity.mjs --report file.json   (the tables again, from a saved run)
// Needs: a release build (build-release/), ffmpeg, libhttp-parser-dev and zlib (bench/Makefile;
// scripts/setup --test installs them).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLectern, encodeSource, startPush, mediaPlaylistUrl, waitForParts, versions, machine,
  repoRoot, defaultLecternBin } from './lib/lectern.mjs';
import { sampleProcs, summarizeSamples } from './lib/procstat.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []));
const counts = String(args.viewers || '500,1000,2000,5000,8000').split(',').map(Number);
const seconds = Number(args.seconds || 60);
const threads = Number(args.threads || 2);
const probeViewers = Number(args.probe ?? 10);
const stableMs = Number(args['stable-ms'] || 1000);
const lecternBin = args.lectern || defaultLecternBin;
const ramp = Number(args.ramp || 5), warmup = Number(args.warmup || 5);
// The presenter's video bit rate: 2500 by default; a webinar's slides and speaker often need less.
const videoKbps = Number(args['video-kbps'] || 2500);
const gapSeconds = 8; // between runs: connections close, the server settles
const loadBin = join(repoRoot, 'build-bench', 'llhls-load');

function buildLoad() {
  const r = spawnSync('make', ['-s', '-C', join(repoRoot, 'bench')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('make -C bench failed (libhttp-parser-dev installed? scripts/setup --test):\n' + r.stderr);
}

// Runs llhls-load to completion; resolves to its JSON report (and its pid while it ran).
function runLoad(url, { viewers, secs, rampS, warmupS, threadsN = 1, extra = [], json, onStart }) {
  const argv = ['--url', url, '--viewers', String(viewers), '--seconds', String(secs), '--ramp',
    String(rampS), '--warmup', String(warmupS), '--threads', String(threadsN), '--json', json, ...extra];
  const p = spawn(loadBin, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  if (onStart) onStart(p.pid);
  return new Promise((resolve, reject) => p.once('exit', (code) => {
    if (!existsSync(json)) return reject(new Error(`llhls-load exited ${code}: ${stderr}`));
    const report = JSON.parse(readFileSync(json, 'utf8'));
    report.summary = stderr.trim().split('\n').pop();
    resolve(report);
  }));
}

// Marks each run stable or not (see the top of this file) and sets largest_stable_viewers.
function judge(result) {
  const { runs } = result;
  const stableMsOf = result.settings.stable_ms ?? 1000;
  const lagOf = (r) => (r.probe ? r.probe.lag_ms.p99 : r.load.lag_ms.p99);
  const perViewer = (r) => r.load.requests_per_s / r.viewers;
  const base = runs[0];
  result.stable_rule = `no error; probe p99 lag <= ${lagOf(base).toFixed(0)} + ${stableMsOf} ms (the first N's + ` +
    `${stableMsOf}); requests per viewer >= 90 % of the first N's (${perViewer(base).toFixed(2)}/s); no part skipped`;
  for (const r of runs) {
    r.offered_ratio = perViewer(r) / perViewer(base);
    r.stable = r.errors === 0 && Number.isFinite(lagOf(r)) && lagOf(r) <= lagOf(base) + stableMsOf &&
      r.offered_ratio >= 0.9 && r.load.counts.media_dropped === 0;
  }
  result.largest_stable_viewers = null;
  for (const r of runs) { if (r.stable) result.largest_stable_viewers = r.viewers; else break; }
}

function printTables(result) {
  const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
  console.log('\n| viewers | req/s | req/s per viewer | Mbit/s | errors | parts skipped | probe lag p50 / p99 | load lag p50 / p99 | ' +
    'block wait p99 | part fetch p50 / p99 | lectern CPU | lectern RSS | RSS per viewer | load CPU | machine busy | stable |');
  console.log('| ' + Array(16).fill('---').join(' | ') + ' |');
  for (const r of result.runs) {
    const media = r.load.part_ms.n ? r.load.part_ms : r.load.segment_ms;
    console.log(`| ${r.viewers} | ${f0(r.load.requests_per_s)} | ${f2(r.load.requests_per_s / r.viewers)} | ` +
      `${f0(r.load.body_mbit_per_s)} | ${r.errors} | ${r.load.counts.media_dropped} | ` +
      `${r.probe ? `${f0(r.probe.lag_ms.p50)} / ${f0(r.probe.lag_ms.p99)} ms` : '–'} | ` +
      `${f0(r.load.lag_ms.p50)} / ${f0(r.load.lag_ms.p99)} ms | ${f0(r.load.block_wait_ms.p99)} ms | ` +
      `${f0(media.p50)} / ${f0(media.p99)} ms | ${f0(r.server.cpu_pct)} % | ${f0(r.server.rss_mib)} MiB | ` +
      `${f0(r.server.rss_kib_per_viewer)} KiB | ${f0(r.load_process_cpu_pct)} % | ${f0(r.server.machine_busy_pct)} % | ` +
      `${r.stable ? 'yes' : 'no'} |`);
  }
  console.log(`\nmode: ${result.url_mode}; idle: lectern ${f1(result.idle.cpu_pct)} % CPU, RSS ${f1(result.idle.rss_mib)} MiB.`);
  console.log(`stable: ${result.stable_rule}. Largest stable N: ${result.largest_stable_viewers ?? 'none'}`);
  for (const r of result.runs) {
    const errs = { ...r.load.errors.http, timeout: r.load.errors.timeout, connection: r.load.errors.connection };
    if (r.errors) console.log(`N=${r.viewers} errors: load ${JSON.stringify(errs)}, probe ${r.probe ? r.probe.errors.total : 0}`);
  }
}

async function main() {
  if (args.report) {
    const result = JSON.parse(readFileSync(args.report, 'utf8'));
    judge(result);
    printTables(result);
    return;
  }
  buildLoad();
  const dir = mkdtempSync(join(tmpdir(), 'lectern-llcap-'));
  const cleanup = [];
  try {
    const source = encodeSource(join(dir, 'source.flv'), 60, { videoKbps });
    const lectern = await startLectern({ bin: lecternBin, dataDir: join(dir, 'lectern') });
    cleanup.push(() => lectern.stop());
    const webinar = lectern.createWebinar('capacity');
    const total = 60 + counts.length * (seconds + gapSeconds + 5);
    const push = startPush({ source, target: `${lectern.rtmpBase}/${webinar.stream_key}`, seconds: total, loop: true });
    cleanup.push(() => push.stop());
    const url = await mediaPlaylistUrl(webinar.hls_url);
    const lowLatency = await waitForParts(url);
    const firstPlaylist = await (await fetch(url)).text();
    console.error(`llhls-capacity: ${url} (${lowLatency ? 'LL-HLS: EXT-X-PART listed' : 'no EXT-X-PART: plain HLS'})`);

    // Idle: the stream running, nobody watching.
    await sleep(3000);
    let sampler = sampleProcs({ lectern: lectern.proc.pid });
    await sleep(6000);
    const idle = summarizeSamples(sampler.stop(), 'lectern');
    console.error(`llhls-capacity: idle: lectern ${idle.cpu_pct_mean.toFixed(1)} % CPU, RSS ${idle.rss_mib_median.toFixed(1)} MiB`);

    const runs = [];
    for (const n of counts) {
      const pids = { lectern: lectern.proc.pid };
      sampler = sampleProcs(pids);
      const loadJson = join(dir, `load-${n}.json`), probeJson = join(dir, `probe-${n}.json`);
      const extra = args['no-media'] ? ['--no-media'] : [];
      const load = runLoad(url, { viewers: n, secs: seconds, rampS: ramp, warmupS: warmup, threadsN: threads,
        extra, json: loadJson, onStart: (pid) => { pids.load = pid; } });
      // The probe joins once the load's ramp is over and ends with it.
      await sleep(ramp * 1000);
      const probe = probeViewers > 0 ? runLoad(url, { viewers: probeViewers, secs: seconds - ramp, rampS: 1,
        warmupS: warmup - 1, json: probeJson, extra, onStart: (pid) => { pids.probe = pid; } }) : null;
      const [l, p] = await Promise.all([load, probe]);
      const samples = sampler.stop();
      const server = summarizeSamples(samples, 'lectern', ramp + warmup, seconds);
      const client = summarizeSamples(samples, 'load', ramp + warmup, seconds);
      const run = {
        viewers: n,
        mode: l.mode,
        errors: l.errors.total + (p ? p.errors.total : 0),
        load: { requests_per_s: l.requests_per_s, body_mbit_per_s: l.body_mbit_per_s, errors: l.errors,
          lag_ms: l.lag_ms, block_wait_ms: l.block_wait_ms, part_ms: l.part_ms, segment_ms: l.segment_ms,
          playlist_ms: l.playlist_ms, counts: l.counts, client_cpu_pct: l.client_cpu_pct },
        probe: p && { errors: p.errors, lag_ms: p.lag_ms, block_wait_ms: p.block_wait_ms, part_ms: p.part_ms,
          segment_ms: p.segment_ms },
        server: { cpu_pct: server.cpu_pct_mean, rss_mib: server.rss_mib_median, rss_mib_max: server.rss_mib_max,
          rss_kib_per_viewer: ((server.rss_mib_median - idle.rss_mib_median) * 1024) / n,
          machine_busy_pct: server.machine_busy_pct_mean, samples: server.samples },
        load_process_cpu_pct: client.cpu_pct_mean,
      };
      runs.push(run);
      console.error(`llhls-capacity: N=${n}: ${l.summary}`);
      if (p) console.error(`llhls-capacity: N=${n} probe: ${p.summary}`);
      console.error(`llhls-capacity: N=${n}: lectern ${run.server.cpu_pct.toFixed(0)} % CPU, RSS ${run.server.rss_mib.toFixed(0)} MiB, machine ${run.server.machine_busy_pct.toFixed(0)} % busy`);
      const requests = l.counts.requests || 1;
      if (l.errors.total > 0.2 * requests) {
        console.error('llhls-capacity: more than 20 % errors: stopping the sweep here');
        break;
      }
      await sleep(gapSeconds * 1000);
    }

    const result = {
      date: new Date().toISOString(),
      machine: machine(),
      versions: versions(lecternBin),
      url_mode: lowLatency ? 'll-hls' : 'plain-hls',
      first_playlist: firstPlaylist,
      settings: { seconds, ramp, warmup, threads, video_kbps: videoKbps, probe_viewers: probeViewers, media: !args['no-media'], stable_ms: stableMs },
      idle: { cpu_pct: idle.cpu_pct_mean, rss_mib: idle.rss_mib_median },
      runs,
    };
    judge(result);
    const out = JSON.stringify(result, null, 2);
    if (args.out) writeFileSync(args.out, out); else console.log(out);
    printTables(result);
  } finally {
    for (const fn of cleanup.reverse()) { try { fn(); } catch { /* already gone */ } }
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
