// Shared by the integration and browser suites: starts the real `lectern` binary on free ports in
// a fresh data directory, runs its command-line tools, pushes real ffmpeg presenters over RTMP,
// probes with the real ffprobe, and cleans every process and temporary directory up — also when
// a test fails or times out.
//
// Cleanup: `test` below (use it instead of node:test's) kills every process started during the
// test when it ends, passes, fails or times out; what a `before` hook starts (a server shared by
// a suite) is killed by a module-level `after` hook; temporary directories go at the end; an exit
// or signal handler kills whatever is left if the runner itself dies.
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { AsyncLocalStorage } from 'node:async_hooks';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test as nodeTest, after } from 'node:test';
import assert from 'node:assert/strict';
import HLS from 'hls-parser';

// Spec violations in a playlist make the independent parser throw instead of warning.
HLS.setOptions({ strictMode: true });
export { HLS };

export const LECTERN_BIN = process.env.LECTERN_BIN;
export const TEST_TMP = process.env.LECTERN_TEST_TMP || path.join(os.tmpdir(), 'lectern-tests');
const KEEP = process.env.LECTERN_TEST_KEEP === '1';
const DEFAULT_TEST_TIMEOUT_MS = 150e3;

/* ---- cleanup registry -------------------------------------------------------------------- */

const children = new Set(); // every process spawned here that has not exited yet
const tempDirs = new Set();
// Secrets seen by this process (stream keys, setup links, session and CSRF tokens, passwords):
// none may ever reach a server log.
const knownKeys = new Set();

/* Remembers a secret for assertCleanLog. Returns it. */
export function rememberSecret(value) {
  if (typeof value === 'string' && value.length >= 8) knownKeys.add(value);
  return value;
}
const testScope = new AsyncLocalStorage(); // the processes of the running test

function track(proc) {
  children.add(proc);
  testScope.getStore()?.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/* SIGKILLs the processes that are still running and waits (bounded) until they are gone. */
async function killAll(procs) {
  const waits = [];
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      waits.push(once(p, 'exit').catch(() => {}));
      try { p.kill('SIGKILL'); } catch { /* already gone */ }
    }
  }
  await Promise.race([Promise.all(waits), sleep(5000)]);
}

function removeTempDirsSync() {
  if (KEEP) return;
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

after(async () => {
  await killAll(children);
  removeTempDirsSync();
});
// The runner itself dying (an exception outside a test, Ctrl-C) must not leave servers or
// encoders behind either.
process.on('exit', () => {
  for (const p of children) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  removeTempDirsSync();
});
for (const sig of ['SIGINT', 'SIGTERM'])
  process.once(sig, () => process.exit(128 + os.constants.signals[sig]));

/* node:test's `test`, plus: the processes the test starts are killed when it ends, and a test
 * that runs longer than `timeout` (default 150 s) fails with that message and is cleaned up at
 * once (node's own timeout would leave its processes running into the next test). */
export function test(name, opts, fn) {
  if (typeof opts === 'function') [fn, opts] = [opts, {}];
  const { timeout = DEFAULT_TEST_TIMEOUT_MS, ...rest } = opts;
  return nodeTest(name, { ...rest, timeout: timeout + 30e3 }, async (t) => {
    const scope = new Set();
    let timer;
    try {
      await Promise.race([
        testScope.run(scope, () => fn(t)),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`test timed out after ${timeout} ms`)),
            timeout);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await killAll(scope);
    }
  });
}

/* ---- small utilities --------------------------------------------------------------------- */

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* An error that ends a waitFor at once instead of counting as "not yet". */
export function fatal(message) {
  return Object.assign(new Error(message), { fatal: true });
}

/* Calls fn until it returns a truthy value (which is returned). Exceptions count as "not yet";
 * the last one is reported if the deadline passes. An exception from fatal() ends the wait. */
export async function waitFor(fn, timeoutMs, what, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let lastErr = null;
  let lastVal;
  for (;;) {
    try {
      lastVal = await fn();
      if (lastVal) return lastVal;
    } catch (e) {
      if (e.fatal) throw e;
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastErr ? `; last error: ${lastErr.message}` :
        `; last value: ${JSON.stringify(lastVal)?.slice(0, 500)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/* Resolves with the promise's value, or rejects naming `what` after ms. */
export async function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, t]);
  } finally {
    clearTimeout(timer);
  }
}

export async function makeTempDir(prefix) {
  await fsp.mkdir(TEST_TMP, { recursive: true });
  const d = await fsp.mkdtemp(path.join(TEST_TMP, prefix + '-'));
  tempDirs.add(d);
  return d;
}

/* Exit code of a process, or the name of the signal that ended it; resolves once its output
 * has been read to the end too ('close'), so that a log is complete when it is checked. */
function exitPromise(proc) {
  return once(proc, 'close').then(([code, signal]) => code ?? signal);
}

/* ---- HTTP --------------------------------------------------------------------------------- */

/* One HTTP request; never throws for a status. Returns { status, headers, body: Buffer }. */
export async function request(url, { headers = {}, method = 'GET', timeoutMs = 10000 } = {}) {
  const res = await fetch(url, { method, headers, redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

function httpError(url, r) {
  const e = new Error(`GET ${url}: HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`);
  e.status = r.status;
  return e;
}

/* One HTTP request over node:http, which sends exactly the headers and body bytes it is given
 * (fetch would add or refuse some, e.g. Origin). `body`: a Buffer, a string, or an object sent
 * as JSON (with Content-Type: application/json unless headers say otherwise). Never throws for
 * a status. Returns { status, headers (lower-case names; set-cookie is an array), body: Buffer,
 * json (parsed when the answer is JSON), ms (time to the whole answer) }. */
export function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 15000 } = {}) {
  const h = { ...headers };
  let data = body;
  if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') {
    data = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
      h['Content-Type'] = 'application/json';
  }
  if (data !== undefined && !Object.keys(h).some((k) => /^(content-length|transfer-encoding)$/i
    .test(k)))
    h['Content-Length'] = Buffer.byteLength(data);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: h, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json;
        if (/^application\/json/.test(res.headers['content-type'] || '') && buf.length)
          json = JSON.parse(buf.toString('utf8'));
        resolve({ status: res.statusCode, headers: res.headers, body: buf, json,
          ms: Date.now() - started });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/* A JSON API call. `session` ({cookie, csrf}) adds the cookie and, unless csrf is false, the
 * X-CSRF-Token header. */
export function api(server, method, path, { body, session, csrf = true, headers = {} } = {}) {
  const h = { ...headers };
  if (session) {
    h.Cookie = `lectern_session=${session.cookie}`;
    if (csrf) h['X-CSRF-Token'] = session.csrf;
  }
  return httpRequest(server.url(path), { method, headers: h, body });
}

/* An API error answer: status, stable code, a message, the field when given, never cached. */
export function assertError(res, status, code, field) {
  assert.equal(res.status, status, `HTTP ${res.status} ${res.body.toString().slice(0, 300)}`);
  assert.equal(res.json?.error?.code, code, JSON.stringify(res.json));
  assert.equal(typeof res.json.error.message, 'string');
  if (field !== undefined) assert.equal(res.json.error.field, field, JSON.stringify(res.json));
  assert.equal(res.headers['cache-control'], 'no-store');
}

/* A logged-in organiser: `lectern user add` beside the running server, then POST /api/login.
 * Returns { id, email, password, cookie, csrf } (the secrets are remembered for assertCleanLog;
 * the password lets a browser test log in through the login page as well). */
export async function loginOrganiser(server, email = 'organiser@example.com') {
  const password = rememberSecret(`pw-${crypto.randomBytes(12).toString('base64url')}`);
  const add = await runLectern(['user', 'add', email, '--data-dir', server.dataDir],
    { input: `${password}\n`, timeoutMs: 30000 });
  assert.equal(add.code, 0, `lectern user add: ${add.stderr}`);
  const res = await api(server, 'POST', '/api/login', { body: { email, password } });
  assert.equal(res.status, 200, `login: ${res.body}`);
  const cookie = /^lectern_session=([^;]+)/.exec(res.headers['set-cookie'][0])[1];
  return { id: res.json.user.id, email, password, cookie: rememberSecret(cookie),
    csrf: rememberSecret(res.json.csrf_token) };
}

/* GET that must answer 200; returns the body as text. */
export async function getText(url, opts) {
  const r = await request(url, opts);
  if (r.status !== 200) throw httpError(url, r);
  return r.body.toString('utf8');
}

/* GET that must answer 200 with JSON; returns the parsed body. */
export async function getJSON(url, opts) {
  const r = await request(url, opts);
  if (r.status !== 200) throw httpError(url, r);
  const type = r.headers.get('content-type') || '';
  assert.match(type, /^application\/json/, `${url}: Content-Type of JSON`);
  return JSON.parse(r.body.toString('utf8'));
}

/* A strict RFC 4180 reader: records end with CRLF (the last one too); a field is either quoted
 * ("" for a quote inside; CR, LF and commas allowed) or free of quotes, commas, CR and LF.
 * `sameWidth` (default): every record has as many fields as the first (one table); false for a
 * file of several tables one after the other. Returns the records as arrays of strings;
 * anything else throws. */
export function parseCsv(text, { sameWidth = true } = {}) {
  const rows = [];
  let row = [];
  let i = 0;
  const endRecord = () => {
    if (sameWidth && rows.length && row.length !== rows[0].length)
      throw new Error(`CSV: record ${rows.length + 1} has ${row.length} fields, not ` +
        `${rows[0].length}`);
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      // The closing quote is the first one not followed by another quote, skipping pairs.
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) throw new Error('CSV: a quoted field is not closed');
        if (text[q + 1] === '"') { j = q + 2; continue; }
        field = text.slice(i + 1, q).replaceAll('""', '"');
        i = q + 1;
        break;
      }
    } else {
      const m = /[^,\r\n"]*/y;
      m.lastIndex = i;
      field = m.exec(text)[0];
      i += field.length;
      if (text[i] === '"' || text[i] === '\n')
        throw new Error(`CSV: bare ${JSON.stringify(text[i])} at ${i}`);
    }
    row.push(field);
    if (text[i] === ',') { i++; continue; }
    if (text.startsWith('\r\n', i)) { i += 2; endRecord(); continue; }
    throw new Error(i >= text.length ? 'CSV: the last record does not end with CRLF'
      : `CSV: ${JSON.stringify(text[i])} after a field at ${i}`);
  }
  if (row.length) throw new Error('CSV: the last record does not end with CRLF');
  return rows;
}

/* ---- the server --------------------------------------------------------------------------- */

function requireBin() {
  if (!LECTERN_BIN) throw new Error('LECTERN_BIN is not set (run the suites through ctest)');
  if (!fs.existsSync(LECTERN_BIN)) throw new Error(`LECTERN_BIN ${LECTERN_BIN} does not exist`);
  return LECTERN_BIN;
}

let serverCount = 0;

/* Starts `lectern serve` on free loopback ports. Options: dataDir (reuse one, e.g. after a
 * crash), dataDirFlag (false: do not pass --data-dir, e.g. it comes from a --config file),
 * args (extra flags), readyTimeoutMs. Resolves once the ready line is printed. */
export async function startServer({ dataDir, dataDirFlag = true, args = [],
  readyTimeoutMs = 20000 } = {}) {
  const bin = requireBin();
  dataDir ??= await makeTempDir('data');
  const logDir = path.join(TEST_TMP, 'logs');
  await fsp.mkdir(logDir, { recursive: true });
  const suite = path.basename(process.argv[1] || 'suite').replace(/\.test\.mjs$/, '');
  const logPath = path.join(logDir, `${suite}-${process.pid}-${++serverCount}.log`);
  const log = fs.createWriteStream(logPath);
  const argv = ['serve', '--http', '127.0.0.1:0', '--rtmp', '127.0.0.1:0',
    ...(dataDirFlag ? ['--data-dir', dataDir] : []), ...args];
  const proc = track(spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; log.write(d); });
  const exited = exitPromise(proc);
  exited.then(() => log.end());

  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('no ready line')), readyTimeoutMs);
    const onData = () => {
      const m = /^lectern: ready http=(\S+) rtmp=(\S+)$/m.exec(stdout);
      if (m) finish(null, { http: m[1], rtmp: m[2] });
    };
    const onExit = (code, sig) => finish(new Error(`exited (${code ?? sig}) before it was ready`));
    function finish(err, val) {
      clearTimeout(timer);
      proc.stdout.off('data', onData);
      proc.off('exit', onExit);
      if (!err) return resolve(val);
      try { proc.kill('SIGKILL'); } catch { /* gone */ }
      reject(new Error(`lectern serve ${argv.join(' ')}: ${err.message} within ` +
        `${readyTimeoutMs} ms.\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`));
    }
    proc.stdout.on('data', onData);
    proc.on('exit', onExit);
    onData();
  });

  const server = {
    proc,
    dataDir,
    logPath,
    httpAddr: ready.http,
    rtmpAddr: ready.rtmp,
    httpBase: `http://${ready.http}`,
    rtmpBase: `rtmp://${ready.rtmp}/live`,
    exited,
    stdoutText: () => stdout,
    stderrText: () => stderr,
    running: () => proc.exitCode === null && proc.signalCode === null,
    /* Sends `signal` and resolves with the exit code (or the signal name when killed by one).
     * A server that does not exit within timeoutMs is killed and the call throws. */
    async stop(signal = 'SIGTERM', timeoutMs = 30000) {
      if (!server.running()) return exited;
      proc.kill(signal);
      try {
        return await withTimeout(exited, timeoutMs, `lectern to exit after ${signal}`);
      } catch (e) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`${e.message}\n--- stderr ---\n${stderr.slice(-4000)}`);
      }
    },
    async kill9() {
      if (server.running()) proc.kill('SIGKILL');
      return exited;
    },
    slugs: new Set(), // webinars made with createWebinar (see waitExportsDone)
    webinars: new Map(), // slug → the organiser's view of it (trackWebinar)
    url: (p) => `http://${ready.http}${p}`,
    publishUrl: (key) => `rtmp://${ready.rtmp}/live/${key}`,
  };
  return server;
}

/* What a server may never write to its log: an IP address (personal data; only its own listen
 * addresses, with their port, are allowed), an email address, a secret (stream keys and what
 * rememberSecret was given), and what a sanitizer build writes when it finds a bug. ERROR lines fail too, unless allowErrors is true or a RegExp that the
 * line matches. */
export function assertCleanLog(server, { allowErrors = false } = {}) {
  // The server may name its own listening sockets; any other address would be a client's.
  const text = server.stderrText().replaceAll(server.httpAddr, '<http-listen>')
    .replaceAll(server.rtmpAddr, '<rtmp-listen>');
  const where = `server log (${server.logPath})`;
  const ipv4 = text.match(/(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/);
  assert.equal(ipv4, null, `${where} contains an IP address: ${ipv4?.[0]}`);
  const ipv6 = text.match(/\[?::(?:1|ffff:[\d.]+)\]?|(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}/i);
  assert.equal(ipv6, null, `${where} contains an IPv6 address: ${ipv6?.[0]}`);
  for (const key of knownKeys)
    assert.ok(!text.includes(key), `${where} contains the secret ${key}`);
  const email = text.match(/[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/);
  assert.equal(email, null, `${where} contains an email address: ${email?.[0]}`);
  assert.doesNotMatch(text, /AddressSanitizer|LeakSanitizer|runtime error:/,
    `${where} has a sanitizer report`);
  if (allowErrors === true) return;
  const errors = text.split('\n').filter((l) => / ERROR /.test(l) &&
    !(allowErrors instanceof RegExp && allowErrors.test(l)));
  assert.deepEqual(errors, [], `${where} has ERROR lines`);
}

/* Waits until every ended session of the webinars made with createWebinar has its MP4
 * download, so that a shutdown that is not itself under test does not interrupt an export. Asks
 * the organiser's view (`lectern webinar list`): the public one hides the URLs of webinars that
 * are not open to anyone. */
export async function waitExportsDone(server, timeoutMs = 30000) {
  await waitFor(async () => {
    const { webinars } = await lecternJSON(['webinar', 'list', ...toolArgs(server)]);
    for (const w of webinars.filter((x) => server.slugs.has(x.slug))) {
      rememberMediaKeys(w);
      const pending = w.sessions.filter((s) => s.state === 'ended' && !s.download_url);
      if (pending.length) throw new Error(`sessions ${pending.map((s) => s.id)} have no MP4`);
    }
    return true;
  }, timeoutMs, 'the MP4 export of every ended session', 300);
}

/* SIGTERM, then: exit code 0 and a clean log. The normal end of every test's server. Exports
 * of ended sessions are waited for first (a session still live is ended by the shutdown, and
 * its export then runs into the shutdown: that case is part of what is checked). */
export async function stopAndCheck(server, opts) {
  if (server.running()) await waitExportsDone(server);
  const code = await server.stop('SIGTERM');
  assert.equal(code, 0,
    `lectern exit code after SIGTERM; log:\n${server.stderrText().slice(-3000)}`);
  assertCleanLog(server, opts);
  // Only the logs of servers that failed a check stay in TEST_TMP/logs.
  if (!KEEP) await fsp.rm(server.logPath, { force: true });
}

/* ---- command-line tools ------------------------------------------------------------------- */

/* Runs `lectern ARGS`, with `input` (if given) on its stdin; resolves { code, stdout, stderr }
 * (never rejects on a non-zero exit). */
export function runLectern(args, { timeoutMs = 10000, input } = {}) {
  const bin = requireBin();
  return new Promise((resolve, reject) => {
    const p = track(execFile(bin, args, { timeout: timeoutMs, killSignal: 'SIGKILL',
      maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && err.killed) {
        reject(new Error(`lectern ${args.join(' ')} timed out after ${timeoutMs} ms; ` +
          `stderr: ${stderr}`));
        return;
      }
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
    }));
    p.stdin?.end(input);
  });
}

/* Runs SQL on a data directory's database with the sqlite3 shell, beside a running server (WAL;
 * it waits up to 5 s for the server's write lock). For what no API makes or shows: rows with old
 * timestamps for retention, attendance without a live stream, what is left after a deletion.
 * Returns the rows of the statements' output as objects (JSON mode). The shell's foreign keys
 * are off: use it to insert and update, not to delete. */
export function sqlite(dataDir, sql) {
  return new Promise((resolve, reject) => {
    const p = track(execFile('sqlite3', ['-bail', '-json', '-cmd', '.timeout 5000',
      path.join(dataDir, 'lectern.db'), sql], { timeout: 15000, maxBuffer: 64 << 20 },
    (err, stdout, stderr) => {
      if (err) return reject(new Error(`sqlite3: ${err.message}; ${stderr}\nSQL: ${sql}`));
      // One JSON array per statement that returned rows, each starting a line (a row starts
      // its line with '{'; strings never hold a raw newline): all their rows in order.
      resolve(stdout.split(/\n(?=\[)/).filter((t) => t.trim())
        .flatMap((t) => JSON.parse(t)));
    }));
    p.stdin?.end();
  });
}

/* Runs a lectern command that must succeed with --json; returns the parsed object. */
export async function lecternJSON(args) {
  const r = await runLectern([...args, '--json']);
  assert.equal(r.code, 0, `lectern ${args.join(' ')} --json: exit ${r.code}; stderr: ${r.stderr}`);
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`lectern ${args.join(' ')} --json printed no JSON: ${e.message}\n${r.stdout}`);
  }
}

/* The URLs printed by the tools are made from these, so they match the running server. */
function toolArgs(server) {
  return ['--data-dir', server.dataDir, '--public-url', server.httpBase,
    '--rtmp-url', server.rtmpBase];
}

/* The media keys in a webinar's URLs (its live key in hls_url, its replay key in the sessions'
 * URLs), remembered as secrets: no log may show them (assertCleanLog). Returns `w`. */
export function rememberMediaKeys(w) {
  const urls = [w.hls_url, ...(w.sessions ?? []).flatMap((s) => [s.replay_url,
    s.replay_page_url, s.download_url])];
  for (const u of urls) {
    const m = /\/(?:live|vod|replay)\/([0-9a-f]{32})\//.exec(u ?? '');
    if (m) knownKeys.add(m[1]);
  }
  return w;
}

/* Keeps a webinar the test made (the organiser's view of it: the CLI's or the admin API's
 * answer): its stream key and media keys are secrets for assertCleanLog, its exports are waited
 * for (waitExportsDone), and its hls_url is what the live helpers below play. Returns `w`. */
export function trackWebinar(server, w) {
  if (w.stream_key) knownKeys.add(w.stream_key);
  server.slugs.add(w.slug);
  server.webinars.set(w.slug, rememberMediaKeys(w));
  return w;
}

/* Creates a webinar with the CLI while the server runs; returns the CLI's JSON (with
 * stream_key, and the organiser's URLs). `access`: 'public' (the default here: most tests watch
 * without registering, with the URLs of the public API) or 'registration'. The secrets are
 * remembered: assertCleanLog checks that no log ever shows them. */
export async function createWebinar(server, title, { access = 'public' } = {}) {
  const w = await lecternJSON(['webinar', 'create', '--title', title,
    ...(access === 'public' ? ['--public'] : []), ...toolArgs(server)]);
  assert.equal(typeof w.stream_key, 'string', 'webinar create --json gives stream_key');
  assert.equal(w.access, access, 'webinar create --json: access');
  return trackWebinar(server, w);
}

/* The organiser's view of a webinar (`lectern webinar show --json`): every media URL. */
export async function showWebinar(server, idOrSlug) {
  return rememberMediaKeys(await lecternJSON(['webinar', 'show', String(idOrSlug),
    ...toolArgs(server)]));
}

/* ---- presenters (real ffmpeg) ------------------------------------------------------------- */

export const FPS = 25;

/* Pushes a generated test picture and/or tone to `rtmpUrl` like a presenter would, in real time
 * (-re), for `seconds` of media. Returns { proc, exited: Promise<exit code | signal name>,
 * exitedAt(), pushedSeconds() (media time written so far, from -progress), stderrText(),
 * kill(signal) }. */
export function push(rtmpUrl, { seconds, video = true, audio = true, sampleRate = 48000,
  channels = 2, extraArgs = [] } = {}) {
  assert.ok(seconds > 0, 'push needs seconds');
  knownKeys.add(rtmpUrl.slice(rtmpUrl.lastIndexOf('/') + 1));
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin',
    '-progress', 'pipe:1', '-stats_period', '0.25'];
  if (video) args.push('-re', '-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${FPS}`);
  if (audio) args.push('-re', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${sampleRate}`);
  if (video) args.push('-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
    '-g', '50', '-pix_fmt', 'yuv420p');
  if (audio) args.push('-c:a', 'aac', '-ac', String(channels));
  args.push(...extraArgs, '-t', String(seconds), '-f', 'flv', rtmpUrl);
  const proc = track(spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stderr = '';
  let progress = '';
  let pushedUs = 0;
  let exitedAt = null;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; });
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    progress += d;
    let nl;
    while ((nl = progress.indexOf('\n')) >= 0) {
      const line = progress.slice(0, nl);
      progress = progress.slice(nl + 1);
      const m = /^out_time_us=(\d+)$/.exec(line);
      if (m) pushedUs = Math.max(pushedUs, Number(m[1]));
    }
  });
  const exited = exitPromise(proc).then((code) => { exitedAt = Date.now(); return code; });
  return {
    proc,
    exited,
    startedAt: Date.now(),
    exitedAt: () => exitedAt,
    pushedSeconds: () => pushedUs / 1e6,
    stderrText: () => stderr,
    kill(signal = 'SIGKILL') {
      try { proc.kill(signal); } catch { /* gone */ }
      return exited;
    },
  };
}

/* Waits until a push has written `seconds` of media (and is still running). */
export function waitPushed(p, seconds) {
  return waitFor(() => {
    if (p.exitedAt() !== null) throw fatal(`ffmpeg exited early: ${p.stderrText()}`);
    return p.pushedSeconds() >= seconds;
  }, seconds * 1000 + 15000, `ffmpeg to push ${seconds} s`, 50);
}

/* Waits (bounded) for a push to exit and returns its exit code. */
export function pushExit(p, timeoutMs, what = 'ffmpeg to exit') {
  return withTimeout(p.exited, timeoutMs, what);
}

/* ---- probing (real ffprobe) ---------------------------------------------------------------- */

/* ffprobe's JSON (format and streams) of a URL or file. Throws when ffprobe fails or reports any
 * error. countPackets: also read everything and count packets per stream (nb_read_packets). */
export function ffprobeJSON(url, { countPackets = false, timeoutMs = 60000 } = {}) {
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
  if (countPackets) args.push('-count_packets');
  args.push(url);
  return new Promise((resolve, reject) => {
    track(execFile('ffprobe', args, { timeout: timeoutMs, killSignal: 'SIGKILL',
      maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`ffprobe ${url}: ${err.killed ? 'timed out' :
        'exit ' + err.code}: ${stderr}`));
      if (stderr.trim()) return reject(new Error(`ffprobe ${url} reported errors: ${stderr}`));
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`ffprobe ${url}: bad JSON: ${e.message}`));
      }
    }));
  });
}

/* Durations of a probe made with countPackets, from the number of frames actually read (so
 * independent of timestamps and of what the playlist claims): video at FPS, AAC 1024 samples
 * per frame. Also the container's own duration. */
export function probedDurations(probe) {
  const v = probe.streams.find((s) => s.codec_type === 'video');
  const a = probe.streams.find((s) => s.codec_type === 'audio');
  return {
    format: Number(probe.format?.duration),
    video: v ? Number(v.nb_read_packets) / FPS : null,
    audio: a ? Number(a.nb_read_packets) * 1024 / Number(a.sample_rate) : null,
  };
}

/* ---- HLS and MP4 helpers ------------------------------------------------------------------- */

/* Fetches and parses a playlist; checks status and content type. Returns { text, playlist }. */
export async function getPlaylist(url) {
  const r = await request(url, { headers: { 'Cache-Control': 'no-cache' } });
  if (r.status !== 200) throw httpError(url, r);
  assert.equal(r.headers.get('content-type'), 'application/vnd.apple.mpegurl',
    `${url}: Content-Type`);
  const text = r.body.toString('utf8');
  let playlist;
  try {
    playlist = HLS.parse(text);
  } catch (e) {
    throw new Error(`${url}: invalid playlist (${e.message}):\n${text}`);
  }
  return { text, playlist, headers: r.headers };
}

/* The session's media playlist URL from the webinar's live multivariant playlist. */
export function variantUrl(masterUrl, master) {
  assert.equal(master.isMasterPlaylist, true, `${masterUrl} is a multivariant playlist`);
  assert.equal(master.variants.length, 1, `${masterUrl} has one variant`);
  return new URL(master.variants[0].uri, masterUrl).href;
}

/* Complete segments only: hls-parser also returns the segment under construction (its parts,
 * no URI) as a last entry. */
export const fullSegments = (pl) => pl.segments.filter((s) => s.uri);
export const sumExtinf = (pl) => fullSegments(pl).reduce((s, seg) => s + seg.duration, 0);

/* Invariants of every media playlist lectern serves, live or recorded (docs/urls.md, RFC 8216):
 * EXT-X-INDEPENDENT-SEGMENTS, an EXT-X-MAP, target duration >= every EXTINF, consecutive media
 * sequence numbers, EXT-X-PROGRAM-DATE-TIME on the first segment (and after each
 * discontinuity) that agrees with the durations and the wall clock. Returns the full segments. */
export function checkMediaPlaylist(pl, text, what) {
  assert.equal(pl.isMasterPlaylist, false, `${what}: a media playlist`);
  assert.equal(pl.independentSegments, true, `${what}: EXT-X-INDEPENDENT-SEGMENTS`);
  assert.match(text, /^#EXT-X-MAP:URI="[^"]+"/m, `${what}: EXT-X-MAP`);
  const segs = fullSegments(pl);
  assert.ok(segs.length > 0, `${what}: has segments`);
  const maxDur = Math.max(...segs.map((s) => s.duration));
  // RFC 8216 4.3.3.1: each EXTINF, rounded to the nearest integer, is at most the target.
  assert.ok(pl.targetDuration >= Math.round(maxDur),
    `${what}: EXT-X-TARGETDURATION ${pl.targetDuration} < longest EXTINF ${maxDur} rounded`);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    assert.ok(s.duration > 0, `${what}: EXTINF of ${s.uri} is ${s.duration}`);
    assert.ok(s.map?.uri, `${what}: ${s.uri} has an init segment (EXT-X-MAP)`);
    if (i > 0)
      assert.equal(s.mediaSequenceNumber, segs[i - 1].mediaSequenceNumber + 1,
        `${what}: media sequence numbers are consecutive`);
    if (i === 0 || s.discontinuity)
      assert.ok(s.programDateTime instanceof Date,
        `${what}: EXT-X-PROGRAM-DATE-TIME on ${s.uri} (first, or after a discontinuity)`);
  }
  const dated = segs.map((s, i) => ({ s, i })).filter(({ s }) => s.programDateTime);
  for (const { s } of dated) {
    const skew = Math.abs(s.programDateTime.getTime() - Date.now());
    assert.ok(skew < 3600e3, `${what}: PROGRAM-DATE-TIME ${s.programDateTime.toISOString()} ` +
      'is not near the wall clock');
  }
  for (let k = 1; k < dated.length; k++) {
    const a = dated[k - 1], b = dated[k];
    const gap = (b.s.programDateTime - a.s.programDateTime) / 1000;
    const durs = segs.slice(a.i, b.i).reduce((x, s) => x + s.duration, 0);
    const disc = segs.slice(a.i + 1, b.i + 1).some((s) => s.discontinuity);
    if (disc)
      assert.ok(gap >= durs - 0.2, `${what}: PROGRAM-DATE-TIME goes backwards across a ` +
        `discontinuity (${a.s.uri} → ${b.s.uri})`);
    else
      assert.ok(Math.abs(gap - durs) < 0.2, `${what}: PROGRAM-DATE-TIME of ${b.s.uri} is ` +
        `${gap.toFixed(3)} s after ${a.s.uri}, but the EXTINFs in between sum to ` +
        `${durs.toFixed(3)} s`);
  }
  return segs;
}

/* Top-level ISO BMFF boxes of a buffer: [{ type, offset, size }]. Stops at a malformed size. */
export function mp4Boxes(buf) {
  const boxes = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    let size = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (size === 1 && off + 16 <= buf.length) size = Number(buf.readBigUInt64BE(off + 8));
    else if (size === 0) size = buf.length - off;
    if (size < 8) break;
    boxes.push({ type, offset: off, size });
    off += size;
  }
  return boxes;
}

/* The webinar (API JSON) and its only / newest session. */
export async function apiWebinar(server, slug) {
  return getJSON(server.url(`/api/webinars/${encodeURIComponent(slug)}`));
}

export function lastSession(w) {
  assert.ok(Array.isArray(w.sessions), 'webinar JSON has sessions[]');
  return w.sessions[w.sessions.length - 1];
}

/* The webinar's live multivariant playlist URL as its organiser has it (hls_url: the live key
 * never changes), whatever its access; absolute. */
export async function hlsUrl(server, slug) {
  const w = server.webinars.get(slug) ?? await showWebinar(server, slug);
  server.webinars.set(slug, w);
  return new URL(w.hls_url, server.httpBase).href;
}

/* A session's media URLs (absolute; null until they exist), from the API answers: the public
 * /api/sessions/{id} when it gives them, else the organiser's view (`lectern webinar show`),
 * which always does. Returns the session's JSON with those URLs. */
export async function sessionMedia(server, sessionId) {
  let s = await getJSON(server.url(`/api/sessions/${sessionId}`));
  if (!s.replay_url) {
    const w = await showWebinar(server, s.webinar.slug);
    s = w.sessions.find((x) => x.id === sessionId);
    assert.ok(s, `webinar ${w.slug} lists session ${sessionId}`);
  }
  const abs = (u) => (u ? new URL(u, server.httpBase).href : null);
  rememberMediaKeys({ sessions: [s] });
  return { ...s, replay_url: abs(s.replay_url), replay_page_url: abs(s.replay_page_url),
    download_url: abs(s.download_url) };
}

/* Waits until the webinar is live (API says running) and its live master playlist exists;
 * returns { webinar (the public API's), session, masterUrl, mediaUrl }. */
export async function waitLive(server, slug, timeoutMs = 15000) {
  const masterUrl = await hlsUrl(server, slug);
  return waitFor(async () => {
    const w = await apiWebinar(server, slug);
    if (w.live !== 'running') return null;
    const { playlist } = await getPlaylist(masterUrl);
    const mediaUrl = variantUrl(masterUrl, playlist);
    const { playlist: media } = await getPlaylist(mediaUrl);
    if (fullSegments(media).length === 0) return null;
    return { webinar: w, session: lastSession(w), masterUrl, mediaUrl };
  }, timeoutMs, `webinar ${slug} to be live with a playlist`, 200);
}

/* Number of the newest complete segment of the webinar's live stream (-1 before the first). */
export async function liveMsn(server, slug) {
  const masterUrl = await hlsUrl(server, slug);
  const { playlist } = await getPlaylist(masterUrl);
  const { playlist: media, text } = await getPlaylist(variantUrl(masterUrl, playlist));
  const segs = checkMediaPlaylist(media, text, `live playlist of ${slug}`);
  return segs[segs.length - 1].mediaSequenceNumber;
}

/* Waits (bounded) until the live stream has a complete segment newer than `msn`. */
export function waitAdvance(server, slug, msn, timeoutMs = 10000) {
  return waitFor(async () => {
    const now = await liveMsn(server, slug);
    return now > msn ? now : null;
  }, timeoutMs, `the live playlist of ${slug} to advance past segment ${msn}`, 250);
}

/* Waits until the webinar's newest session has ended and has a replay; returns { webinar (the
 * public API's), session (with its media URLs: sessionMedia) }. */
export function waitEnded(server, slug, timeoutMs = 5000) {
  return waitFor(async () => {
    const w = await apiWebinar(server, slug);
    const s = lastSession(w);
    if (w.state !== 'ended' || s?.state !== 'ended') return null;
    const session = await sessionMedia(server, s.id);
    return session.replay_url ? { webinar: w, session } : null;
  }, timeoutMs, `webinar ${slug} to end with a replay`, 100);
}

/* Checks a finished replay: VOD playlist with ENDLIST and valid tags, and ffprobe reads every
 * packet without error; the durations from the playlist, the container and the frames read
 * are within `tolerance` of `seconds`. `video`/`audio`: which tracks must be there (and no
 * other). Returns { probe, playlist, text }. */
export async function checkReplay(server, sessionId, { seconds, tolerance = 1, video = true,
  audio = true, what = `replay of session ${sessionId}` } = {}) {
  const url = (await sessionMedia(server, sessionId)).replay_url;
  assert.ok(url, `${what}: the session has a replay_url`);
  const { playlist, text } = await getPlaylist(url);
  assert.equal(playlist.endlist, true, `${what}: EXT-X-ENDLIST`);
  assert.equal(playlist.playlistType, 'VOD', `${what}: PLAYLIST-TYPE VOD`);
  checkMediaPlaylist(playlist, text, what);
  const near = (v, k) => assert.ok(Math.abs(v - seconds) <= tolerance,
    `${what}: ${k} duration ${v?.toFixed?.(3) ?? v} s, expected ${seconds} ± ${tolerance} s`);
  near(sumExtinf(playlist), 'EXTINF sum');
  const probe = await ffprobeJSON(url, { countPackets: true });
  const types = probe.streams.map((s) => s.codec_type).sort();
  assert.deepEqual(types, [...(audio ? ['audio'] : []), ...(video ? ['video'] : [])],
    `${what}: tracks`);
  const d = probedDurations(probe);
  near(d.format, 'container');
  if (video) near(d.video, 'video frames');
  if (audio) near(d.audio, 'audio frames');
  return { probe, playlist, text };
}

/* Checks a session's MP4 download: fetched from `url` (default: its download_url, waited for:
 * sessionMedia), served as an attachment, whole boxes with moov before mdat (faststart), and ffprobe
 * reads every packet; durations within `tolerance` of `seconds`. Returns ffprobe's JSON. */
export async function checkDownload(server, sessionId, { seconds, tolerance = 1, url } = {}) {
  url ??= (await waitFor(async () => {
    const s = await sessionMedia(server, sessionId);
    return s.download_url ? s : null;
  }, 30000, `the MP4 download of session ${sessionId}`, 500)).download_url;
  const r = await request(url, { timeoutMs: 30000 });
  assert.equal(r.status, 200, `${url}: HTTP status`);
  assert.equal(r.headers.get('content-type'), 'video/mp4');
  assert.match(r.headers.get('content-disposition') || '',
    /^attachment; filename="[^"/]+\.mp4"$/);
  const boxes = mp4Boxes(r.body);
  assert.equal(boxes.reduce((n, b) => n + b.size, 0), r.body.length, 'the MP4 is whole boxes');
  const types = boxes.map((b) => b.type);
  assert.ok(types.includes('moov') && types.includes('mdat') &&
    types.indexOf('moov') < types.indexOf('mdat'), `faststart: moov before mdat (${types})`);
  const file = path.join(await makeTempDir('mp4'), 'download.mp4');
  await fsp.writeFile(file, r.body);
  const probe = await ffprobeJSON(file, { countPackets: true });
  for (const [k, v] of Object.entries(probedDurations(probe)))
    if (v !== null)
      assert.ok(Math.abs(v - seconds) <= tolerance,
        `MP4 ${k} duration ${v} s, expected ${seconds} ± ${tolerance} s`);
  return probe;
}
