#!/usr/bin/env node
// Live interaction at scale (issue 5): N attendees of one registration webinar (state
// "scheduled": in the room without a stream) each hold their event stream
// (GET /api/join/{token}/events) in interaction-load (bench/interaction-load.c, one epoll loop);
// a moderator logged in through the API drives polls. In order, on one release lectern with a
// fresh data directory:
//
// 1. Held streams: the server's memory (VmRSS, RssAnon, and Pss from smaps_rollup) before the
//    streams connect and after all of them have been held --hold seconds: (after − before) / N
//    is the cost of one idle stream. --ping-check seconds after the last snapshot, every open
//    stream must have had a ": ping" comment (sent every 15 s).
// 2. Delivery: --rounds times, a new poll is created open ({"open": true}) and then closed; for
//    each, the time from just before the moderator's request is sent (CLOCK_MONOTONIC, which
//    node's hrtime and the C client share) until each stream has the `poll` event. Quantiles per
//    round, and the median of the rounds.
// 3. Vote burst: a new open poll; every attendee votes once, due at even intervals over
//    --vote-seconds (open loop, latency from the moment each vote was due), over a pool of
//    --vote-conns keep-alive connections. Then the count is checked three ways: the 200 answers,
//    the moderator's results (GET /api/admin/webinars/{id}/polls) and the database
//    (poll_votes, with the sqlite3 CLI), in total and per option. (Votes are not events: the
//    answer tells the voter; docs/api.md.)
// 4. Durability (--kill-run 1): the same burst on an attributed poll, and lectern is SIGKILLed by
//    the load generator the moment the last vote is answered; restarted on the same data
//    directory, every attendee whose vote was acknowledged must have it in poll_votes, and the
//    moderator's results must say the same.
//
// Usage: node bench/interaction.mjs [--attendees 10000] [--rounds 5] [--hold 30]
//        [--ping-check 20] [--ramp 2] [--vote-seconds 2] [--vote-conns 2000] [--kill-run 1]
//        [--timeout 1200] [--lectern path | --no-build] [--keep] [--out file.json]
// Everything ends by itself: a hard --timeout (seconds) for the whole run, after which lectern
// and the load generator are killed and the data directory removed (kept with --keep, under
// build-bench/interaction-data/). Needs cmake and a C toolchain (it builds build-release/ and
// build-bench/ itself), libhttp-parser-dev and the sqlite3 CLI (scripts/setup --test).
// Descriptors: lectern and the generator each need about N + 1,000; both raise their soft limit
// to the hard one (run under `prlimit --nofile=…` or `ulimit -n` when that is too low).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLectern, buildForBench, machine, repoRoot, defaultLecternBin } from './lib/lectern.mjs';
import { median, cpuSeconds, memoryKiB } from './lib/procstat.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []));
const num = (name, dflt) => Number(args[name] ?? dflt);
const N = num('attendees', 10000);
const rounds = num('rounds', 5);
const holdS = num('hold', 30);
const pingCheckS = num('ping-check', 20);
const rampS = num('ramp', 2);
const voteSeconds = num('vote-seconds', 2);
const voteConns = num('vote-conns', 2000);
const killRun = num('kill-run', 1) > 0;
const timeoutS = num('timeout', 1200);
const lecternBin = args.lectern || defaultLecternBin;
const loadBin = join(repoRoot, 'build-bench', 'interaction-load');
const dataRoot = join(repoRoot, 'build-bench', 'interaction-data');
const GOAL = { delivery_p99_ms: 500, vote_p99_ms: 200, bytes_per_stream: 16 * 1024 };
const log = (...a) => console.error('interaction:', ...a);

// ---- HTTP to lectern (moderator and set-up requests) ----------------------------------------

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

// One request; resolves { status, json, headers, ms } (never rejects for a status).
function request(base, method, path, { body, session, timeoutMs = 30000 } = {}) {
  const headers = { Accept: 'application/json' };
  let data;
  if (body !== undefined) {
    data = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(data);
  }
  if (session) {
    headers.Cookie = `lectern_session=${session.cookie}`;
    headers['X-CSRF-Token'] = session.csrf;
  }
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, json, text, ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

async function expectStatus(promise, status, what) {
  const r = await promise;
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

// An organiser account made with `lectern user add` beside the running server, logged in through
// the API: { email, password, cookie, csrf }.
async function loginOrganiser(server, account) {
  if (!account) {
    account = { email: 'moderator@example.com', password: `pw-${randomBytes(12).toString('base64url')}` };
    const add = spawnSync(server.bin, ['user', 'add', account.email, '--data-dir', server.dataDir],
      { input: `${account.password}\n`, encoding: 'utf8', timeout: 60000 });
    if (add.status !== 0) throw new Error(`lectern user add: ${add.stderr}`);
  }
  const r = await expectStatus(request(server.httpBase, 'POST', '/api/login',
    { body: { email: account.email, password: account.password } }), 200, 'login');
  const cookie = /^lectern_session=([^;]+)/.exec([].concat(r.headers['set-cookie'])[0])[1];
  return { ...account, cookie, csrf: r.json.csrf_token };
}

// N registrations with distinct addresses, `concurrency` at a time; their join tokens in order.
async function register(server, slug, consentVersion, n, concurrency = 128) {
  const tokens = new Array(n);
  let next = 0, retries = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      const body = { email: `attendee-${i}@bench.example.com`, name: `Attendee ${i}`, consent: true,
        consent_version: consentVersion, utm_source: 'bench' };
      for (;;) {
        const r = await request(server.httpBase, 'POST', `/api/webinars/${slug}/registrations`, { body });
        if (r.status === 201) {
          tokens[i] = new URL(r.json.join_url).pathname.split('/').pop();
          break;
        }
        if (r.status !== 503 || ++retries > 100) throw new Error(`registration ${i}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        await sleep(100);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return tokens;
}

// ---- the load generator: commands on its stdin, JSON lines from its stdout -------------------

function startLoad(base, tokensFile) {
  const proc = spawn(loadBin, ['--url', base, '--tokens', tokensFile, '--ramp', String(rampS),
    '--vote-conns', String(voteConns), '--seconds', String(timeoutS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let waiter = null;
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => {
    resolve({ code, signal });
    if (waiter) waiter.check();
  }));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    try { lines.push(JSON.parse(line)); } catch { log(`load generator said: ${line}`); }
    if (waiter) waiter.check();
  });
  // The next line of `type` (an "error" line rejects), within timeoutMs.
  function next(type, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { waiter = null; reject(new Error(`load generator: no "${type}" within ${timeoutMs} ms`)); }, timeoutMs);
      waiter = {
        check() {
          const i = lines.findIndex((l) => l.type === type || l.type === 'error');
          if (i < 0) {
            if (proc.exitCode !== null || proc.signalCode !== null) {
              clearTimeout(timer); waiter = null;
              reject(new Error(`load generator exited (${proc.exitCode ?? proc.signalCode}) before "${type}"`));
            }
            return;
          }
          const [l] = lines.splice(i, 1);
          clearTimeout(timer); waiter = null;
          if (l.type === 'error') reject(new Error(`load generator: ${l.message}`)); else resolve(l);
        },
      };
      waiter.check();
    });
  }
  const send = (cmd) => proc.stdin.write(`${cmd}\n`);
  return {
    proc, next, send, exited,
    async command(cmd, type, timeoutMs = 30000) { send(cmd); return next(type, timeoutMs); },
    async quit() {
      if (proc.exitCode === null && proc.signalCode === null) proc.stdin.end('quit\n');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---- measurements ---------------------------------------------------------------------------

const hrNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, as the C client's clock

// Arms `event`, sends the moderator's request (timed from just before it is sent) and collects
// when each stream got the event.
async function timedDelivery({ load, server }, event, send) {
  const armed = await load.command(`arm ${event}`, 'armed');
  const skew = Number(hrNs() - BigInt(armed.mono_ns)) / 1e6;
  if (skew < 0 || skew > 1000) throw new Error(`clocks disagree: node − interaction-load = ${skew} ms`);
  const cpu0 = cpuSeconds(server.proc.pid);
  const t0 = hrNs();
  const answer = await send();
  const got = await load.command(`collect ${event} t0=${t0} timeout=15`, 'collected', 30000);
  return { answer_ms: answer.ms, got, lectern_cpu_ms: (cpuSeconds(server.proc.pid) - cpu0) * 1e3,
    generator_cpu_ms: (got.cpu_s - armed.cpu_s) * 1e3 };
}

function sqlite(dataDir, sql) {
  return execFileSync('sqlite3', ['-batch', '-separator', ' ', join(dataDir, 'lectern.db')],
    { input: `.timeout 10000\n${sql}`, encoding: 'utf8' }).trim();
}

// Votes stored for a poll: total and per option position (choices is a bit mask of positions).
function dbVotes(dataDir, pollId) {
  const total = Number(sqlite(dataDir, `SELECT count(*) FROM poll_votes WHERE poll_id = ${Number(pollId)};`));
  const byChoices = {};
  for (const line of sqlite(dataDir, `SELECT choices, count(*) FROM poll_votes WHERE poll_id = ${Number(pollId)} GROUP BY choices;`).split('\n').filter(Boolean)) {
    const [choices, count] = line.split(' ').map(Number);
    byChoices[choices] = count;
  }
  return { total, byChoices };
}

// Acknowledged attendees (indices, from the generator's file) whose vote is not in poll_votes;
// needs an attributed poll (registration_id stored).
function dbMissingAcked(dataDir, webinarId, pollId, ackedFile) {
  const emails = join(dataDir, 'acked-emails.csv');
  writeFileSync(emails, readFileSync(ackedFile, 'utf8').split('\n').filter(Boolean)
    .map((i) => `attendee-${i}@bench.example.com\n`).join(''));
  const out = sqlite(dataDir, ['CREATE TEMP TABLE acked(email TEXT PRIMARY KEY);',
    `.import --csv "${emails}" acked`,
    `SELECT (SELECT count(*) FROM acked), (SELECT count(*) FROM acked a WHERE NOT EXISTS
       (SELECT 1 FROM registrations r JOIN poll_votes v ON v.registration_id = r.id AND v.poll_id = ${Number(pollId)}
        WHERE r.webinar_id = ${Number(webinarId)} AND r.email = a.email));`].join('\n'));
  const [acked, missing] = out.split('\n').pop().split(' ').map(Number);
  return { acked, missing };
}

// The moderator's view of a poll's results: total and votes per option id.
async function apiResults(server, session, webinarId, pollId) {
  const r = await expectStatus(request(server.httpBase, 'GET', `/api/admin/webinars/${webinarId}/polls`, { session }), 200, 'GET polls');
  const poll = r.json.polls.find((p) => p.id === pollId);
  if (!poll || !poll.results) throw new Error(`poll ${pollId} or its results missing from GET polls`);
  return { total: poll.results.total, voters: poll.results.voters,
    counts: Object.fromEntries(poll.results.counts.map((c) => [c.option_id, c.votes])) };
}

const createPoll = (server, session, webinarId, question, extra = {}) =>
  request(server.httpBase, 'POST', `/api/admin/webinars/${webinarId}/polls`, { session,
    body: { question, options: ['Yes', 'No', 'Maybe', 'Later'], open: true, ...extra } });

// Opens a poll for a burst (its delivery timed too) and runs the burst; votes are checked
// against the 200 answers by the caller.
async function voteBurst(ctx, label, { anonymous, kill }) {
  const { server, load, session, webinar } = ctx;
  let poll;
  const delivery = await timedDelivery(ctx, 'poll', async () => {
    const r = await expectStatus(createPoll(server, session, webinar.id, label, { anonymous }), 201, 'create poll');
    poll = r.json;
    return r;
  });
  const options = poll.options.map((o) => o.id);
  const acked = join(ctx.dataDir, `acked-${poll.id}.txt`);
  await load.command('arm vote', 'armed');
  const cpu0 = cpuSeconds(server.proc.pid);
  load.send(`vote poll=${poll.id} options=${options.join(',')} seconds=${voteSeconds} conns=${voteConns} timeout=10 acked=${acked}` +
    (kill ? ` kill=${server.proc.pid}` : ''));
  const lastAck = await load.next('last_ack', (voteSeconds + 60) * 1000);
  const cpuS = kill ? null : cpuSeconds(server.proc.pid) - cpu0;
  const report = await load.next('voted', 30000);
  return { poll, options, delivery, report, lastAck, ackedFile: acked, lectern_cpu_s: cpuS };
}

// Counts agree: the 200 answers, per option and in total, against the database (and the API).
function compareCounts(report, options, db, api) {
  const rows = options.map((id, pos) => ({ option_id: id, acked: report.ok_by_option[id] ?? 0,
    db: db.byChoices[1 << pos] ?? 0, api: api ? api.counts[id] : null }));
  const ok = db.total === report.ok && rows.every((r) => r.acked === r.db && (api ? r.api === r.acked : true)) &&
    (api ? api.total === report.ok : true);
  return { rows, ok };
}

// ---- the run --------------------------------------------------------------------------------

const state = { server: null, load: null, dataDir: null };

function cleanupSync() {
  for (const p of [state.load?.proc, state.server?.proc])
    if (p && p.exitCode === null && p.signalCode === null) try { p.kill('SIGKILL'); } catch { /* gone */ }
  if (state.dataDir && !args.keep) rmSync(state.dataDir, { recursive: true, force: true });
}

async function stopServer(server, signal = 'SIGTERM') {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const exited = new Promise((resolve) => server.proc.once('exit', resolve));
  server.proc.kill(signal);
  const t = setTimeout(() => server.proc.kill('SIGKILL'), 15000);
  await exited;
  clearTimeout(t);
}

async function main() {
  if (!args['no-build']) buildForBench({ release: !args.lectern });
  mkdirSync(dataRoot, { recursive: true });
  state.dataDir = mkdtempSync(join(dataRoot, 'run-'));
  const result = {
    date: new Date().toISOString(), machine: machine(), loadavg_at_start: loadavg()[0],
    versions: {
      lectern: execFileSync(lecternBin, ['--version'], { encoding: 'utf8' }).trim(),
      lectern_commit: execFileSync('git', ['-C', repoRoot, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim(),
      node: process.version,
    },
    settings: { attendees: N, rounds, hold_s: holdS, ping_check_s: pingCheckS, ramp_s: rampS,
      vote_seconds: voteSeconds, vote_conns: voteConns, kill_run: killRun },
  };
  let server = state.server = await startLectern({ bin: lecternBin, dataDir: state.dataDir });
  const limit = readFileSync(`/proc/${server.proc.pid}/limits`, 'utf8').match(/Max open files\s+(\d+)/);
  result.lectern_nofile = limit ? Number(limit[1]) : null;
  if (result.lectern_nofile && result.lectern_nofile < N + 1100)
    log(`warning: lectern's descriptor limit ${result.lectern_nofile} is below ${N} streams + votes`);
  let session = await loginOrganiser(server);
  const webinar = (await expectStatus(request(server.httpBase, 'POST', '/api/admin/webinars',
    { session, body: { title: 'Interaction bench' } }), 201, 'create webinar')).json;
  const pub = (await expectStatus(request(server.httpBase, 'GET', `/api/webinars/${webinar.slug}`), 200, 'GET webinar')).json;

  let t = performance.now();
  const tokens = await register(server, webinar.slug, pub.registration.consent_version, N);
  result.registration_s = (performance.now() - t) / 1000;
  log(`${N} attendees registered in ${result.registration_s.toFixed(1)} s`);
  const join0 = await expectStatus(request(server.httpBase, 'GET', `/api/join/${tokens[0]}`), 200, 'GET join');
  if (join0.json.state !== 'scheduled') throw new Error(`join state ${join0.json.state}, not scheduled`);
  const tokensFile = join(state.dataDir, 'tokens.txt');
  writeFileSync(tokensFile, tokens.join('\n') + '\n');

  // 1. Held streams
  await sleep(2000); // the registration burst's buffers settle
  const memBefore = memoryKiB(server.proc.pid);
  const cpuBefore = cpuSeconds(server.proc.pid);
  t = performance.now();
  const load = state.load = startLoad(server.httpBase, tokensFile);
  const ready = await load.next('ready', (rampS + 90) * 1000);
  const readyS = (performance.now() - t) / 1000;
  log(`streams: ${ready.open} open, ${ready.snapshots} snapshots, ${ready.failed} failed after ${readyS.toFixed(1)} s`);
  const tReady = performance.now();
  await sleep(Math.max(0, pingCheckS * 1000 - (performance.now() - tReady)));
  const atPingCheck = await load.command('status', 'status');
  await sleep(Math.max(0, holdS * 1000 - (performance.now() - tReady)));
  const memAfter = memoryKiB(server.proc.pid);
  const atHold = await load.command('status', 'status');
  const cpuHold = cpuSeconds(server.proc.pid) - cpuBefore;
  const perStream = (k) => (memAfter[k] !== null && memBefore[k] !== null ? ((memAfter[k] - memBefore[k]) * 1024) / N : null);
  result.held = {
    streams: N, open: atHold.open, snapshots: ready.snapshots, failed: ready.failed, closed: atHold.closed,
    failed_why: ready.failed_why, closed_why: atHold.closed_why, ready_s: readyS,
    ping_check_s: pingCheckS, open_with_ping: atPingCheck.open_with_ping, open_at_ping_check: atPingCheck.open,
    hold_s: holdS, memory_before_kib: memBefore, memory_after_kib: memAfter,
    bytes_per_stream: { rss: perStream('rss'), rss_anon: perStream('rss_anon'), pss: perStream('pss') },
    lectern_cpu_s: cpuHold,
  };
  result.held.goal_met = ready.snapshots === N && atHold.open === N && atPingCheck.open_with_ping === atPingCheck.open &&
    result.held.bytes_per_stream.rss <= GOAL.bytes_per_stream;
  log(`held ${atHold.open} streams for ${holdS} s: RSS ${memBefore.rss} → ${memAfter.rss} KiB ` +
    `(${result.held.bytes_per_stream.rss.toFixed(0)} B per stream), ${atPingCheck.open_with_ping}/${atPingCheck.open} had a ping by ${pingCheckS} s`);

  // 2. Delivery
  const ctx = { server, load, session, webinar, dataDir: state.dataDir };
  result.delivery = [];
  for (let r = 1; r <= rounds; r++) {
    let poll;
    const opened = await timedDelivery(ctx, 'poll', async () => {
      const a = await expectStatus(createPoll(server, session, webinar.id, `Round ${r}?`), 201, 'create poll');
      poll = a.json;
      return a;
    });
    await sleep(300);
    const closed = await timedDelivery(ctx, 'poll', () =>
      expectStatus(request(server.httpBase, 'POST', `/api/admin/webinars/${webinar.id}/polls/${poll.id}/close`, { session }), 200, 'close poll'));
    for (const [action, d] of [['open', opened], ['close', closed]]) {
      result.delivery.push({ round: r, action, poll_id: poll.id, answer_ms: d.answer_ms, open: d.got.open,
        lectern_cpu_ms: d.lectern_cpu_ms, generator_cpu_ms: d.generator_cpu_ms,
        got: d.got.got, missing: d.got.missing_open, more_than_one: d.got.more_than_one, ms: d.got.ms });
      log(`round ${r} ${action}: ${d.got.got}/${d.got.open} got the poll, p50 ${d.got.ms.p50?.toFixed(1)} ` +
        `p99 ${d.got.ms.p99?.toFixed(1)} max ${d.got.ms.max?.toFixed(1)} ms (answer ${d.answer_ms.toFixed(1)} ms)`);
    }
    await sleep(300);
  }

  // 3. Vote burst
  const burst = await voteBurst(ctx, 'Burst?', { anonymous: true, kill: false });
  await sleep(1000); // results are published at most every 0.5 s
  const api = await apiResults(server, session, webinar.id, burst.poll.id);
  const db = dbVotes(state.dataDir, burst.poll.id);
  const cmp = compareCounts(burst.report, burst.options, db, api);
  result.vote_burst = { poll_id: burst.poll.id, delivery: burst.delivery.got.ms, report: burst.report,
    api_total: api.total, db_total: db.total, per_option: cmp.rows, counts_match: cmp.ok,
    lectern_cpu_s: burst.lectern_cpu_s, lectern_cpu_us_per_vote: (burst.lectern_cpu_s * 1e6) / N };
  result.vote_burst.goal_met = cmp.ok && burst.report.ok === N && burst.report.latency_ms.p99 < GOAL.vote_p99_ms;
  log(`vote burst: ${burst.report.ok}/${N} answered 200 at ${burst.report.ok_per_s.toFixed(0)}/s ` +
    `(offered ${burst.report.offered_per_s.toFixed(0)}/s), p50 ${burst.report.latency_ms.p50?.toFixed(1)} ` +
    `p99 ${burst.report.latency_ms.p99?.toFixed(1)} max ${burst.report.latency_ms.max?.toFixed(1)} ms; ` +
    `API ${api.total}, database ${db.total}: ${cmp.ok ? 'counts match' : 'COUNTS DIFFER'}`);

  // 4. Durability
  if (killRun) {
    const k = await voteBurst(ctx, 'Kill?', { anonymous: false, kill: true });
    await new Promise((resolve) => (server.proc.exitCode !== null || server.proc.signalCode !== null
      ? resolve() : server.proc.once('exit', resolve)));
    await load.quit();
    state.load = null;
    server = state.server = await startLectern({ bin: lecternBin, dataDir: state.dataDir });
    session = await loginOrganiser(server, session);
    const apiK = await apiResults(server, session, webinar.id, k.poll.id);
    const dbK = dbVotes(state.dataDir, k.poll.id);
    const missing = dbMissingAcked(state.dataDir, webinar.id, k.poll.id, k.ackedFile);
    const cmpK = compareCounts(k.report, k.options, dbK, null);
    result.kill = { poll_id: k.poll.id, acknowledged: k.report.ok, killed_after_last_ack_s: k.lastAck.t,
      errors: k.report.errors, latency_ms: k.report.latency_ms, db_total: dbK.total,
      acked_missing: missing.missing, acked_listed: missing.acked, api_total_after_restart: apiK.total,
      per_option: cmpK.rows };
    result.kill.ok = missing.missing === 0 && missing.acked === k.report.ok && dbK.total >= k.report.ok && apiK.total === dbK.total;
    log(`kill -9 after the last of ${k.report.ok} acknowledged votes: ${dbK.total} in the database, ` +
      `${missing.missing} acknowledged missing, API after restart ${apiK.total}: ${result.kill.ok ? 'ok' : 'LOST VOTES'}`);
  } else {
    await load.quit();
    state.load = null;
  }
  await stopServer(server);

  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2));
  printTables(result);
  const failed = !result.held.goal_met || result.delivery.some((d) => d.missing || d.got < d.open) ||
    !result.vote_burst.counts_match ||
    (result.kill && !result.kill.ok);
  if (failed) process.exitCode = 3;
}

function printTables(r) {
  const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const n0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
  const h = r.held;
  console.log(`\n${r.date} — ${r.machine.nproc} × ${r.machine.cpu}, ${r.versions.lectern} (${r.versions.lectern_commit}), ` +
    `${r.settings.attendees.toLocaleString('en-US')} attendees, lectern's descriptor limit ${r.lectern_nofile}, ` +
    `load average ${r.loadavg_at_start.toFixed(2)} at the start`);
  console.log('\nHeld streams');
  console.log('| streams | open after hold | snapshots | all in | ping by ' + `${h.ping_check_s} s` +
    ' | RSS before | RSS after | per stream (RSS) | per stream (RssAnon) | per stream (Pss) | lectern CPU while held | goal ≤ 16 KiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  console.log(`| ${n0(h.streams)} | ${n0(h.open)} | ${n0(h.snapshots)} | ${f1(h.ready_s)} s | ${n0(h.open_with_ping)} / ${n0(h.open_at_ping_check)} | ` +
    `${f1(h.memory_before_kib.rss / 1024)} MiB | ${f1(h.memory_after_kib.rss / 1024)} MiB | ${n0(h.bytes_per_stream.rss)} B | ` +
    `${n0(h.bytes_per_stream.rss_anon)} B | ${n0(h.bytes_per_stream.pss)} B | ${f1(h.lectern_cpu_s)} s in ${f1(h.hold_s + h.ready_s)} s | ${h.goal_met ? 'met' : '**not met**'} |`);

  console.log('\nDelivery of `poll` (from just before the moderator\'s request to each stream)');
  console.log('| round | action | got / open | p50 | p90 | p99 | max | moderator\'s answer | lectern CPU | generator CPU |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const d of r.delivery)
    console.log(`| ${d.round} | ${d.action} | ${n0(d.got)} / ${n0(d.open)}${d.more_than_one ? ` (${d.more_than_one} twice)` : ''} | ` +
      `${f1(d.ms.p50)} ms | ${f1(d.ms.p90)} ms | ${f1(d.ms.p99)} ms | ${f1(d.ms.max)} ms | ${f1(d.answer_ms)} ms | ` +
      `${n0(d.lectern_cpu_ms)} ms | ${n0(d.generator_cpu_ms)} ms |`);
  const m = (k) => median(r.delivery.map((d) => d.ms[k]).filter(Number.isFinite));
  const p99s = r.delivery.map((d) => d.ms.p99);
  console.log(`| median | all | | ${f1(m('p50'))} ms | ${f1(m('p90'))} ms | **${f1(m('p99'))} ms** | ${f1(m('max'))} ms | | | |`);
  console.log(`goal p99 ≤ ${GOAL.delivery_p99_ms} ms: ${p99s.filter((x) => x <= GOAL.delivery_p99_ms).length} of ${p99s.length} deliveries`);

  const v = r.vote_burst, rep = v.report;
  console.log('\nVote burst (open loop, latency from when each vote was due)');
  console.log('| votes | over | connections | offered | achieved | 200 | errors | p50 | p99 | max | sent after due (p99) | due with no connection free (max) | lectern CPU per vote | API total | database | counts match | goal |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const errs = rep.errors, nerr = Object.values(errs.http).reduce((a, b) => a + b, 0) + errs.timeout + errs.connection + errs.other;
  console.log(`| ${n0(rep.votes)} | ${rep.seconds} s | ${rep.conns} | ${n0(rep.offered_per_s)}/s | ${n0(rep.ok_per_s)}/s | ${n0(rep.ok)} | ` +
    `${nerr}${nerr ? ` ${JSON.stringify(errs)}` : ''} | ${f1(rep.latency_ms.p50)} ms | ${f1(rep.latency_ms.p99)} ms | ${f1(rep.latency_ms.max)} ms | ` +
    `${f1(rep.send_lag_ms.p99)} ms | ${n0(rep.queued_max)} | ${n0(v.lectern_cpu_us_per_vote)} µs | ${n0(v.api_total)} | ${n0(v.db_total)} | ${v.counts_match ? 'yes' : '**no**'} | ` +
    `${v.goal_met ? 'met' : '**not met**'} |`);

  if (r.kill) {
    const k = r.kill;
    console.log('\nDurability (SIGKILL the moment the last vote was answered, then restart)');
    console.log('| acknowledged | errors | p50 | p99 | in the database | acknowledged missing | moderator\'s total after restart | |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(`| ${n0(k.acknowledged)} | ${JSON.stringify(k.errors.http)} | ${f1(k.latency_ms.p50)} ms | ${f1(k.latency_ms.p99)} ms | ${n0(k.db_total)} | ${k.acked_missing} | ${n0(k.api_total_after_restart)} | ${k.ok ? 'ok' : '**lost votes**'} |`);
  }
}

const hardTimer = setTimeout(() => {
  log(`the whole run took more than ${timeoutS} s: stopping`);
  cleanupSync();
  process.exit(2);
}, timeoutS * 1000);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanupSync(); process.exit(130); });

main().catch((e) => { console.error(e); process.exitCode = 1; }).finally(async () => {
  clearTimeout(hardTimer);
  if (state.load) await state.load.quit().catch(() => {});
  if (state.server) await stopServer(state.server).catch(() => {});
  cleanupSync();
  agent.destroy();
});
