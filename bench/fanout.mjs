#!/usr/bin/env node
// Fan-out, side by side: wrk against lectern and against nginx serving the same bytes, in the
// same run on the same machine, one after the other: (a) the live media playlist, (b) one 2 s
// segment, at 100 and 1,000 connections, 20 s each. Requests/s, p99 latency (wrk --latency),
// and the server's CPU and RSS sampled from /proc once a second during each run.
//
// lectern serves its live window while one ffmpeg presenter pushes the pre-encoded 720p25
// source (-re -c copy), so its playlist changes with every part during the run. nginx (Debian's,
// worker_processes 2, access_log off, sendfile on, keep-alive) serves a snapshot: the very
// playlist and segment bytes lectern served just before, under the same paths, with the same
// Content-Type, Cache-Control and Access-Control-Allow-Origin headers. The segment URL on lectern
// is the newest complete segment at the start of each run; lectern runs with
// --window-segments 8 so that it stays downloadable for the whole 20 s (with the default 6 it is
// dropped about 20 s after it completes). Neither sends gzip (wrk does not ask for it).
//
// Each (target, connections) pair runs on both servers back to back, --repeat times (default 3);
// which goes first alternates from one pair to the next (with the default two connection counts:
// lectern first at 100, nginx first at 1,000). The table gives medians and lectern/nginx ratios.
//
// Usage: node bench/fanout.mjs [--seconds 20] [--repeat 3] [--connections 100,1000]
//        [--threads 2] [--lectern path] [--out file.json]
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLectern, encodeSource, startPush, mediaPlaylistUrl, waitForParts, versions, machine,
  defaultLecternBin } from './lib/lectern.mjs';
import { startNginxStatic } from './lib/nginx-static.mjs';
import { sampleProcs, summarizeSamples, median } from './lib/procstat.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []));
const seconds = Number(args.seconds || 20);
const repeat = Number(args.repeat || 3);
const connections = String(args.connections || '100,1000').split(',').map(Number);
const wrkThreads = Number(args.threads || 2);
const lecternBin = args.lectern || defaultLecternBin;

// "12.34ms" → 12.34; wrk prints us, ms, s (and m for minutes).
function ms(text) {
  const m = /^([0-9.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { us: 1e-3, ms: 1, s: 1e3, m: 60e3 }[m[2]];
}

function parseWrk(out) {
  const num = (re) => { const m = re.exec(out); return m ? Number(m[1]) : 0; };
  const lat = (p) => { const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out); return m ? ms(m[1]) : NaN; };
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const total = /(\d+) requests in ([0-9.]+)(\w+), ([0-9.]+)(\w+) read/.exec(out);
  return {
    requests_per_s: num(/Requests\/sec:\s+([0-9.]+)/),
    requests: total ? Number(total[1]) : 0,
    p50_ms: lat(50), p90_ms: lat(90), p99_ms: lat(99),
    non_2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socket_errors: errs ? { connect: +errs[1], read: +errs[2], write: +errs[3], timeout: +errs[4] } : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

// Runs wrk against `url` while sampling `pids` ({server: pid | [pids]}).
async function wrk(url, conns, pids) {
  const sampler = sampleProcs(pids);
  const p = spawn('wrk', ['-t', String(wrkThreads), '-c', String(conns), '-d', `${seconds}s`, '--latency', url],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => p.once('exit', resolve));
  const samples = sampler.stop();
  if (code !== 0) throw new Error(`wrk exited ${code}: ${out}`);
  const r = parseWrk(out);
  // Skip the first second (connections being opened) and whatever came after wrk's end.
  const s = summarizeSamples(samples, 'server', 1, seconds);
  return { ...r, server_cpu_pct: s.cpu_pct_mean, server_rss_mib: s.rss_mib_median, machine_busy_pct: s.machine_busy_pct_mean, raw: out };
}

async function get(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return { body: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

// The newest complete segment (the last URI line of the media playlist).
async function newestSegment(playlistUrl) {
  const text = (await get(playlistUrl)).body.toString();
  const uris = text.split('\n').filter((l) => l && !l.startsWith('#'));
  return new URL(uris[uris.length - 1], playlistUrl).href;
}

// Waits for a segment newer than the current newest, so a run starts with a fresh one.
async function freshSegment(playlistUrl) {
  const before = await newestSegment(playlistUrl);
  for (let i = 0; i < 60; i++) {
    await sleep(100);
    const now = await newestSegment(playlistUrl);
    if (now !== before) return now;
  }
  return before;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'lectern-fanout-'));
  chmodSync(dir, 0o755); // nginx's workers run as www-data and read the snapshot from here
  const cleanup = [];
  try {
    const source = encodeSource(join(dir, 'source.flv'), 60);
    const lectern = await startLectern({ bin: lecternBin, dataDir: join(dir, 'lectern'), serveArgs: ['--window-segments', '8'] });
    cleanup.push(() => lectern.stop());
    const webinar = lectern.createWebinar('fanout');
    const runCount = 2 * connections.length * 2 * repeat;
    const push = startPush({ source, target: `${lectern.rtmpBase}/${webinar.stream_key}`,
      seconds: 60 + runCount * (seconds + 6), loop: true });
    cleanup.push(() => push.stop());
    const playlistUrl = await mediaPlaylistUrl(webinar.hls_url);
    const lowLatency = await waitForParts(playlistUrl);
    await sleep(4000);

    // The snapshot nginx serves: the same paths, bytes and headers as lectern's.
    const root = join(dir, 'www');
    const segUrl0 = await freshSegment(playlistUrl);
    const pl = await get(playlistUrl), seg = await get(segUrl0);
    const plPath = new URL(playlistUrl).pathname, segPath = new URL(segUrl0).pathname;
    for (const [p, b] of [[plPath, pl.body], [segPath, seg.body]]) {
      mkdirSync(join(root, dirname(p)), { recursive: true });
      writeFileSync(join(root, p), b);
    }
    const same = (h) => ({ 'Cache-Control': h.get('cache-control'), 'Access-Control-Allow-Origin': h.get('access-control-allow-origin') });
    const nginx = await startNginxStatic(join(dir, 'nginx'), { root, files: {
      m3u8: { type: pl.headers.get('content-type'), headers: same(pl.headers) },
      m4s: { type: seg.headers.get('content-type'), headers: same(seg.headers) },
    } });
    cleanup.push(() => nginx.stop());
    const nginxPids = nginx.pids();
    console.error(`fanout: lectern ${playlistUrl} (${lowLatency ? 'LL-HLS' : 'plain HLS'}), nginx ${nginx.base}; ` +
      `playlist ${pl.body.length} B, segment ${seg.body.length} B`);

    const results = [];
    let round = 0;
    for (let rep = 0; rep < repeat; rep++) {
      for (const target of ['playlist', 'segment']) {
        for (const conns of connections) {
          const order = round++ % 2 === 0 ? ['lectern', 'nginx'] : ['nginx', 'lectern'];
          for (const server of order) {
            let url;
            if (server === 'lectern') url = target === 'playlist' ? playlistUrl : await freshSegment(playlistUrl);
            else url = nginx.base + (target === 'playlist' ? plPath : segPath);
            const pids = { server: server === 'lectern' ? lectern.proc.pid : nginxPids };
            const r = await wrk(url, conns, pids);
            results.push({ rep, target, connections: conns, server, url, ...r });
            console.error(`fanout: ${target} c=${conns} ${server}: ${r.requests_per_s.toFixed(0)} req/s, p99 ${r.p99_ms.toFixed(1)} ms, ` +
              `non-2xx ${r.non_2xx}, socket errors ${JSON.stringify(r.socket_errors)}, CPU ${r.server_cpu_pct.toFixed(0)} %, RSS ${r.server_rss_mib.toFixed(0)} MiB`);
            await sleep(2000);
          }
        }
      }
    }

    const table = [];
    for (const target of ['playlist', 'segment']) {
      for (const conns of connections) {
        const row = { target, connections: conns };
        for (const server of ['lectern', 'nginx']) {
          const rs = results.filter((r) => r.target === target && r.connections === conns && r.server === server);
          row[server] = {
            runs: rs.length,
            requests_per_s: median(rs.map((r) => r.requests_per_s)),
            p99_ms: median(rs.map((r) => r.p99_ms)),
            cpu_pct: median(rs.map((r) => r.server_cpu_pct)),
            rss_mib: median(rs.map((r) => r.server_rss_mib)),
            errors: rs.reduce((n, r) => n + r.non_2xx + Object.values(r.socket_errors).reduce((a, b) => a + b, 0), 0),
          };
        }
        row.ratio_rps = row.lectern.requests_per_s / row.nginx.requests_per_s;
        row.ratio_p99 = row.lectern.p99_ms / row.nginx.p99_ms;
        table.push(row);
      }
    }
    const result = {
      date: new Date().toISOString(), machine: machine(), versions: versions(lecternBin),
      settings: { seconds, repeat, wrk_threads: wrkThreads, connections, lectern_args: ['--window-segments', '8'], low_latency: lowLatency },
      bytes: { playlist: pl.body.length, segment: seg.body.length },
      content_types: { playlist: pl.headers.get('content-type'), segment: seg.headers.get('content-type') },
      nginx_conf: nginx.conf,
      table,
      runs: results.map(({ raw, ...r }) => r),
    };
    const out = JSON.stringify(result, null, 2);
    if (args.out) writeFileSync(args.out, out); else console.log(out);

    const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
    const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
    const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
    console.log(`\n| target | connections | lectern req/s | nginx req/s | ratio | lectern p99 | nginx p99 | lectern CPU | nginx CPU | lectern RSS | nginx RSS | errors (l / n) |`);
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of table) {
      console.log(`| ${r.target} | ${r.connections} | ${f0(r.lectern.requests_per_s)} | ${f0(r.nginx.requests_per_s)} | ${f2(r.ratio_rps)} | ` +
        `${f1(r.lectern.p99_ms)} ms | ${f1(r.nginx.p99_ms)} ms | ${f0(r.lectern.cpu_pct)} % | ${f0(r.nginx.cpu_pct)} % | ` +
        `${f0(r.lectern.rss_mib)} MiB | ${f0(r.nginx.rss_mib)} MiB | ${r.lectern.errors} / ${r.nginx.errors} |`);
    }
  } finally {
    for (const fn of cleanup.reverse()) { try { fn(); } catch { /* already gone */ } }
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
