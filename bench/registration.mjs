#!/usr/bin/env node
// Registration throughput, latency and durability: a release lectern on a fresh data directory
// per run, one webinar, and registration-load (bench/registration-load.c) posting distinct
// registrations from N concurrent keep-alive clients, for a fixed time each.
//
// Throughput runs: for every N in --clients, --repeat runs of --seconds (the first --warmup not
// measured), closed loop (each client sends its next registration when the last is answered:
// the most lectern completes), and, for every R in --rates, open loop at R registrations/s (the
// latency at that rate, counted from when each registration was due). The tables give medians of
// the repeats. Alongside: lectern's CPU (/proc/PID/stat, once a second) and per thread
// (/proc/PID/task/*/stat at the start and end of the measured window: libmicrohttpd's workers
// are named MHD-worker; the busiest other thread is the group-commit writer), the generator's
// CPU, the machine's busy time and load average, and — when `perf` can count syscall
// tracepoints — lectern's fdatasync and pwrite64 calls in the window: with synchronous=FULL in
// WAL mode every commit syncs the WAL once (a checkpoint syncs twice more), so registrations per
// fdatasync is a lower bound of the writer's rows per commit.
// After each run lectern is stopped (SIGTERM) and the database is checked with the sqlite3 CLI:
// every acknowledged email must be in registrations.
//
// Durability runs (--kill-runs, N = --kill-clients): lectern is killed with SIGKILL at a random
// moment while the load runs (acknowledgements are flowing then), the generator is stopped, and
// the database is opened afterwards: acknowledged ≤ rows, and no acknowledged email missing.
// A SIGKILL loses what the process held, not what the kernel held: this checks that lectern
// answers 201 only after COMMIT, not that the disk honoured the fsync (a power cut would).
//
// Usage: node bench/registration.mjs [--clients 64,256,1024] [--rates 10000] [--seconds 20]
//        [--warmup 3] [--repeat 3] [--threads 1] [--kill-runs 3] [--kill-clients 256]
//        [--lectern path | --no-build] [--keep] [--out file.json]
//        node bench/registration.mjs --report file.json   (the tables again, from a saved run)
// --rates none: closed loop only. --kill-runs 0: no durability runs.
// Needs: cmake and a C toolchain (it builds build-release/ and build-bench/ itself),
// libhttp-parser-dev, the sqlite3 CLI; perf optional (scripts/setup --test installs the rest).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLectern, machine, repoRoot, defaultLecternBin } from './lib/lectern.mjs';
import { sampleProcs, summarizeSamples, median } from './lib/procstat.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []));
const list = (v, dflt) => (String(v ?? dflt) === 'none' ? [] : String(v ?? dflt).split(',').map(Number));
const clientCounts = list(args.clients, '64,256,1024');
const rates = list(args.rates, '10000');
const seconds = Number(args.seconds || 20);
const warmup = Number(args.warmup || 3);
const repeat = Number(args.repeat || 3);
const threads = Number(args.threads || 1);
const killRuns = Number(args['kill-runs'] ?? 3);
const killClients = Number(args['kill-clients'] || 256);
const lecternBin = args.lectern || defaultLecternBin;
const loadBin = join(repoRoot, 'build-bench', 'registration-load');
const dataRoot = join(repoRoot, 'build-bench', 'registration-data');
const GOAL = { per_s: 10000, p99_ms: 50 };
const TICKS = 100; // USER_HZ

function run(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${what} failed:\n${r.stdout}${r.stderr}`);
}

// The release server as the other benchmarks use it, and the generator.
function build() {
  if (!args.lectern && !args['no-build']) {
    if (!existsSync(join(repoRoot, 'build-release', 'CMakeCache.txt')))
      run('cmake', ['-S', '.', '-B', 'build-release', '-DCMAKE_BUILD_TYPE=Release', '-DLECTERN_TESTS=OFF'], 'cmake');
    run('cmake', ['--build', 'build-release', '--parallel', String(cpus().length)], 'cmake --build');
  }
  run('make', ['-s', '-C', 'bench'], 'make -C bench (libhttp-parser-dev installed? scripts/setup --test)');
}

// Per-thread CPU seconds of a process, by thread id: {tid: {comm, cpu_s}}.
function threadTimes(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[tid] = { comm, cpu_s: (Number(f[11]) + Number(f[12])) / TICKS };
    } catch { /* the thread ended */ }
  }
  return out;
}

// CPU % of one core per thread group over [a, b]: MHD workers, the busiest other thread (the
// writer, under this load), and the rest.
function threadSplit(a, b, secs) {
  const groups = { http_workers: 0, writer: 0, other: 0 };
  const others = [];
  for (const [tid, t] of Object.entries(b)) {
    const d = t.cpu_s - (a[tid]?.cpu_s ?? 0);
    if (t.comm === 'MHD-worker') groups.http_workers += d;
    else others.push(d);
  }
  others.sort((x, y) => y - x);
  groups.writer = others[0] ?? 0;
  groups.other = others.slice(1).reduce((x, y) => x + y, 0);
  for (const k of Object.keys(groups)) groups[k] = (100 * groups[k]) / secs;
  return groups;
}

// Counts syscalls of `pid` for `secs` with perf's tracepoints; null when perf cannot.
let perfWorks;
function perfSyscalls(pid, secs) {
  if (perfWorks === false) return Promise.resolve(null);
  const events = ['fdatasync', 'fsync', 'pwrite64', 'pread64'].map((s) => `syscalls:sys_enter_${s}`);
  const p = spawn('perf', ['stat', '-x', ',', '-e', events.join(','), '-p', String(pid), '--', 'sleep', String(secs)],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve) => {
    p.once('error', () => { perfWorks = false; resolve(null); });
    p.once('exit', (code) => {
      const counts = {};
      for (const line of err.split('\n')) {
        const [value, , event] = line.split(',');
        const m = event && event.match(/sys_enter_(\w+)/);
        if (m && /^\d+$/.test(value)) counts[m[1]] = Number(value);
      }
      perfWorks = code === 0 && Object.keys(counts).length > 0;
      resolve(perfWorks ? counts : null);
    });
  });
}

// Rows and acknowledged emails in the database of a stopped (or killed) lectern.
function checkDb(dataDir, webinarId, ackedFile) {
  const sql = [
    'CREATE TEMP TABLE acked(email TEXT PRIMARY KEY);',
    `.import --csv "${ackedFile}" acked`,
    `SELECT (SELECT count(*) FROM acked),
            (SELECT count(*) FROM registrations WHERE webinar_id = ${webinarId}),
            (SELECT count(*) FROM acked a WHERE NOT EXISTS
               (SELECT 1 FROM registrations r WHERE r.webinar_id = ${webinarId} AND r.email = a.email)),
            (SELECT count(*) FROM registrations r WHERE r.webinar_id = ${webinarId} AND NOT EXISTS
               (SELECT 1 FROM join_links l WHERE l.registration_id = r.id));`,
  ].join('\n');
  const out = execFileSync('sqlite3', ['-batch', '-separator', ' ', join(dataDir, 'lectern.db')],
    { input: sql, encoding: 'utf8' }).trim().split('\n').pop();
  const [acked, rows, missing, withoutLink] = out.split(' ').map(Number);
  return { acked, rows, missing, rows_without_link: withoutLink, ok: missing === 0 && withoutLink === 0 && rows >= acked };
}

function startLoad(url, { clients, rate, secs, json, acked, prefix }) {
  const argv = ['--url', url, '--clients', String(clients), '--seconds', String(secs), '--warmup', String(warmup),
    '--threads', String(threads), '--json', json, '--acked', acked, '--prefix', prefix];
  if (rate) argv.push('--rate', String(rate));
  const p = spawn(loadBin, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve, reject) => p.once('exit', (code) => {
    if (!existsSync(json)) return reject(new Error(`registration-load exited ${code}: ${stderr}`));
    const report = JSON.parse(readFileSync(json, 'utf8'));
    report.summary = stderr.trim().split('\n').pop();
    resolve(report);
  }));
  return { proc: p, done };
}

function fsType(dir) {
  const r = spawnSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', dir], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

// A fresh data directory and lectern with one webinar.
async function freshLectern() {
  mkdirSync(dataRoot, { recursive: true });
  const dataDir = mkdtempSync(join(dataRoot, 'run-'));
  const lectern = await startLectern({ bin: lecternBin, dataDir });
  const webinar = lectern.createWebinar('registration bench');
  return { lectern, webinar, dataDir, url: `${lectern.httpBase}/api/webinars/${webinar.slug}` };
}

async function stopLectern(lectern, signal = 'SIGTERM') {
  if (lectern.proc.exitCode !== null || lectern.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => lectern.proc.once('exit', resolve));
  lectern.proc.kill(signal);
  await exited;
}

let runIndex = 0;
async function throughputRun(clients, rate) {
  const { lectern, webinar, dataDir, url } = await freshLectern();
  const pid = lectern.proc.pid;
  const json = join(dataDir, 'load.json'), acked = join(dataDir, 'acked.txt');
  const load0 = loadavg()[0];
  const pids = { lectern: pid };
  const sampler = sampleProcs(pids);
  const load = startLoad(url, { clients, rate, secs: seconds, json, acked, prefix: `r${runIndex++}` });
  pids.load = load.proc.pid;
  await sleep(warmup * 1000);
  const t0 = threadTimes(pid), w0 = performance.now();
  const measured = seconds - warmup - 0.5; // perf stat ends a little before the load does
  const perfDone = perfSyscalls(pid, measured);
  await sleep(measured * 1000);
  const t1 = threadTimes(pid), w1 = performance.now();
  const [report, syscalls] = await Promise.all([load.done, perfDone]);
  const samples = sampler.stop();
  await stopLectern(lectern);
  const check = checkDb(dataDir, webinar.id, acked);
  const server = summarizeSamples(samples, 'lectern', warmup, seconds);
  const client = summarizeSamples(samples, 'load', warmup, seconds);
  const perS = report.registrations_per_s;
  const r = {
    clients, mode: report.mode, rate: rate || null,
    registrations_per_s: perS, offered_per_s: report.offered_per_s ?? null,
    latency_ms: report.latency_ms, errors: report.errors, counts: report.counts,
    lectern_cpu_pct: server.cpu_pct_mean, lectern_rss_mib: server.rss_mib_median,
    threads_cpu_pct: threadSplit(t0, t1, (w1 - w0) / 1000),
    load_cpu_pct: client.cpu_pct_mean, load_cpu_us_per_request: report.client_cpu_us_per_request,
    machine_busy_pct: server.machine_busy_pct_mean, loadavg: [load0, loadavg()[0]],
    syscalls: syscalls && { ...syscalls, seconds: measured,
      // rates over perf's window, against the generator's rate over its (nearly the same) window
      fdatasync_per_s: syscalls.fdatasync / measured,
      registrations_per_fdatasync: syscalls.fdatasync ? (perS * measured) / syscalls.fdatasync : null,
      pwrite_per_registration: (syscalls.pwrite64 / measured) / perS,
      pread_per_registration: (syscalls.pread64 / measured) / perS },
    db: check,
  };
  r.lectern_cpu_us_per_registration = (r.lectern_cpu_pct / 100) * 1e6 / perS;
  r.goal_met = report.errors.total === 0 && report.latency_ms.p99 < GOAL.p99_ms &&
    (rate ? rate >= GOAL.per_s && perS >= 0.99 * rate : perS >= GOAL.per_s);
  console.error(`registration: N=${clients} ${rate ? `rate ${rate}/s` : 'closed loop'}: ${report.summary}`);
  console.error(`registration:   lectern ${r.lectern_cpu_pct.toFixed(0)} % CPU (${r.lectern_cpu_us_per_registration.toFixed(0)} µs/registration; ` +
    `writer ${r.threads_cpu_pct.writer.toFixed(0)} %, http ${r.threads_cpu_pct.http_workers.toFixed(0)} %), machine ${r.machine_busy_pct.toFixed(0)} % busy, ` +
    `load average ${load0.toFixed(2)}; db: ${check.acked} acknowledged, ${check.rows} rows, ${check.missing} missing` +
    (syscalls ? `; ${r.syscalls.fdatasync_per_s.toFixed(0)} fdatasync/s, ${r.syscalls.registrations_per_fdatasync?.toFixed(1)} registrations per fdatasync` : ''));
  if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  return r;
}

async function killRun(i) {
  const { lectern, webinar, dataDir, url } = await freshLectern();
  const json = join(dataDir, 'load.json'), acked = join(dataDir, 'acked.txt');
  const load = startLoad(url, { clients: killClients, secs: seconds, json, acked, prefix: `k${i}` });
  // at a random moment of the measured part: registrations are being acknowledged then
  const killAt = warmup + 1 + Math.random() * Math.max(1, seconds - warmup - 3);
  await sleep(killAt * 1000);
  await stopLectern(lectern, 'SIGKILL');
  await sleep(300); // the generator sees the connections fail
  load.proc.kill('SIGTERM');
  const report = await load.done;
  const check = checkDb(dataDir, webinar.id, acked);
  const r = { clients: killClients, killed_at_s: killAt, acknowledged: report.acked.count, ...check,
    in_flight: check.rows - check.acked, errors: report.errors };
  console.error(`registration: kill -9 at ${killAt.toFixed(1)} s with ${killClients} clients: ${check.acked} acknowledged, ` +
    `${check.rows} rows, ${check.missing} acknowledged missing, ${check.rows_without_link} rows without a join link: ${check.ok ? 'ok' : 'LOST DATA'}`);
  if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  return r;
}

// Medians over the repeats of one cell.
function cells(result) {
  const groups = new Map();
  for (const r of result.runs) {
    const key = `${r.clients}/${r.rate ?? 'closed'}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  return [...groups.values()].map((rs) => {
    const m = (f) => median(rs.map(f).filter((x) => x !== null && x !== undefined && Number.isFinite(x)));
    return {
      clients: rs[0].clients, rate: rs[0].rate, runs: rs.length,
      per_s: m((r) => r.registrations_per_s), each: rs.map((r) => r.registrations_per_s),
      p50: m((r) => r.latency_ms.p50), p90: m((r) => r.latency_ms.p90), p99: m((r) => r.latency_ms.p99),
      max: m((r) => r.latency_ms.max), errors: rs.reduce((s, r) => s + r.errors.total, 0),
      lectern: m((r) => r.lectern_cpu_pct), us: m((r) => r.lectern_cpu_us_per_registration),
      writer: m((r) => r.threads_cpu_pct.writer), http: m((r) => r.threads_cpu_pct.http_workers),
      load: m((r) => r.load_cpu_pct), busy: m((r) => r.machine_busy_pct),
      loadavg: m((r) => r.loadavg[0]),
      per_sync: m((r) => r.syscalls?.registrations_per_fdatasync), syncs: m((r) => r.syscalls?.fdatasync_per_s),
      pwrites: m((r) => r.syscalls?.pwrite_per_registration),
      db_ok: rs.every((r) => r.db.ok), goal: rs.filter((r) => r.goal_met).length,
    };
  });
}

function printTables(result) {
  const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '–');
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const n0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  console.log('\n| clients | load | registrations/s (median; each run) | p50 | p90 | p99 | max | errors | lectern CPU | µs CPU per registration | writer thread | HTTP workers | generator CPU | machine busy | load average | registrations per fdatasync | pwrite per registration | all acknowledged stored | goal |');
  console.log('| ' + Array(19).fill('---').join(' | ') + ' |');
  for (const c of cells(result)) {
    console.log(`| ${c.clients} | ${c.rate ? `${n0(c.rate)}/s` : 'closed loop'} | **${n0(c.per_s)}** (${c.each.map(n0).join(' / ')}) | ` +
      `${f1(c.p50)} ms | ${f1(c.p90)} ms | ${f1(c.p99)} ms | ${f0(c.max)} ms | ${c.errors} | ${f0(c.lectern)} % | ${f0(c.us)} | ` +
      `${f0(c.writer)} % | ${f0(c.http)} % | ${f0(c.load)} % | ${f0(c.busy)} % | ${f1(c.loadavg)} | ${f1(c.per_sync)} | ${f1(c.pwrites)} | ` +
      `${c.db_ok ? 'yes' : '**no**'} | ${c.goal}/${c.runs} |`);
  }
  if (result.kills?.length) {
    console.log('\n| kill -9 at | clients | acknowledged | rows after kill -9 | acknowledged missing | rows without join link | in flight (rows − acknowledged) | |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const k of result.kills)
      console.log(`| ${k.killed_at_s.toFixed(1)} s | ${k.clients} | ${n0(k.acked)} | ${n0(k.rows)} | ${k.missing} | ${k.rows_without_link} | ${k.in_flight} | ${k.ok ? 'ok' : '**lost data**'} |`);
  }
  console.log(`\ngoal: >= ${GOAL.per_s.toLocaleString('en-US')} registrations/s with p99 < ${GOAL.p99_ms} ms and no error ` +
    '(open loop: also >= 99 % of the rate offered); CPU in % of one core; the writer is the busiest thread that is not an MHD-worker.');
}

async function main() {
  if (args.report) {
    printTables(JSON.parse(readFileSync(args.report, 'utf8')));
    return;
  }
  build();
  mkdirSync(dataRoot, { recursive: true });
  const fs = fsType(dataRoot);
  if (/tmpfs|ramfs/.test(fs)) console.error(`registration: warning: ${dataRoot} is on ${fs}: fsync costs nothing there`);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    versions: {
      lectern: execFileSync(lecternBin, ['--version'], { encoding: 'utf8' }).trim(),
      lectern_commit: execFileSync('git', ['-C', repoRoot, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim(),
      sqlite3_cli: spawnSync('sqlite3', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[0],
      node: process.version,
    },
    data_fs: fs,
    settings: { clients: clientCounts, rates, seconds, warmup, repeat, threads, kill_runs: killRuns, kill_clients: killClients },
    runs: [],
    kills: [],
  };
  for (const clients of clientCounts)
    for (const rate of [0, ...rates])
      for (let i = 0; i < repeat; i++)
        result.runs.push(await throughputRun(clients, rate));
  for (let i = 0; i < killRuns; i++) result.kills.push(await killRun(i));
  const out = JSON.stringify(result, null, 2);
  if (args.out) writeFileSync(args.out, out); else console.log(out);
  printTables(result);
  if (result.runs.some((r) => !r.db.ok) || result.kills.some((k) => !k.ok)) process.exitCode = 3;
}

main().catch((e) => { console.error(e); process.exit(1); });
