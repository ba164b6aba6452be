#!/usr/bin/env node
// Registrations export: how long the CSV and JSON exports of a webinar with many registrations
// take, and what they cost the server in memory. The exports are streamed from a database
// snapshot row by row, so the server's peak RSS while serving one should not grow with the
// number of rows: the script measures two webinars, one with --small and one with --rows
// registrations (default 10,000 and 100,000), in the same server.
//
// Set-up: a release lectern in a fresh data directory; an organiser account (`lectern user
// add`) and a login over the API; each webinar made over the API with three custom form fields,
// then filled directly with the sqlite3 shell in one transaction (registrations with answers,
// UTM source and referrer, one join link each, live attendance for half, replay for a quarter).
// Each export is downloaded once over one connection (the client counts bytes and records as
// they arrive and checks the count at the end). Memory: the server's peak RSS (VmHWM) is reset
// (echo 5 > /proc/PID/clear_refs) just before each download and read right after it; VmRSS
// before is the baseline.
//
// Usage: node bench/export.mjs [--rows 100000] [--small 10000] [--lectern path] [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLectern, defaultLecternBin, versions, machine } from './lib/lectern.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1] && !all[i + 1].startsWith('--') ? all[i + 1] : true]] : acc), []));
const rows = Number(args.rows || 100000);
const small = Number(args.small || 10000);
const bin = args.lectern || defaultLecternBin;

const kib = (pid, field) => Number(readFileSync(`/proc/${pid}/status`, 'utf8')
  .match(new RegExp(`${field}:\\s+(\\d+)\\s+kB`))[1]);
const mib = (k) => (k / 1024).toFixed(1);

function request(base, method, path, { body, cookie, csrf, sink } = {}) {
  return new Promise((resolve, reject) => {
    const data = body ? JSON.stringify(body) : undefined;
    const headers = { ...(data ? { 'Content-Type': 'application/json' } : {}),
      ...(cookie ? { Cookie: `lectern_session=${cookie}` } : {}),
      ...(csrf ? { 'X-CSRF-Token': csrf } : {}) };
    const started = process.hrtime.bigint();
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      let first = null;
      const chunks = [];
      let bytes = 0;
      res.on('data', (c) => {
        first ??= process.hrtime.bigint();
        bytes += c.length;
        if (sink) sink(c); else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes,
        body: Buffer.concat(chunks),
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        firstByte: Number((first ?? process.hrtime.bigint()) - started) / 1e9 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

const FORM = [
  { id: 'company', label: 'Company', type: 'text', required: false },
  { id: 'role', label: 'Role', type: 'select', required: false, options: ['Dev', 'Ops'] },
  { id: 'news', label: 'Newsletter', type: 'checkbox', required: false },
];

function fill(dataDir, webinarId, n) {
  const t = Date.now() - 86400000;
  const sql = `BEGIN;
    WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n})
    INSERT INTO registrations (webinar_id, email, name, answers, consent_version, consent_at,
      utm_source, utm_medium, utm_campaign, referrer, state, decided_at, created_at, last_activity)
    SELECT ${webinarId}, 'lead' || i || '.w${webinarId}@example.com', 'Lead Nummer ' || i || ' Zoë Ångström',
      json_object('company', 'Firma ' || i || ', "GmbH"', 'role', CASE i % 2 WHEN 0 THEN 'Dev' ELSE 'Ops' END,
                  'news', json(CASE i % 3 WHEN 0 THEN 'true' ELSE 'false' END)),
      '1', ${t} + i, 'newsletter', 'email', 'launch', 'https://example.org/blog/post', 'approved',
      ${t} + i, ${t} + i, ${t} + i FROM k;
    INSERT INTO join_links (token_hash, registration_id, created_at)
      SELECT randomblob(32), id, created_at FROM registrations WHERE webinar_id = ${webinarId};
    INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds)
      SELECT id, 'live', created_at, created_at + 1800000, 1800 FROM registrations
      WHERE webinar_id = ${webinarId} AND id % 2 = 0;
    INSERT INTO attendance (registration_id, mode, joined_at, last_seen_at, seconds)
      SELECT id, 'replay', created_at, created_at + 600000, 600 FROM registrations
      WHERE webinar_id = ${webinarId} AND id % 4 = 1;
    COMMIT;`;
  const r = spawnSync('sqlite3', ['-bail', '-cmd', '.timeout 10000', join(dataDir, 'lectern.db')],
    { input: sql, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
}

/* Downloads one export, counting records as they arrive; returns the figures. */
async function measure(server, session, webinar, n, ext) {
  const pid = server.proc.pid;
  const before = kib(pid, 'VmRSS');
  writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := VmRSS
  let records = 0;
  let json = [];
  const sink = ext === 'csv'
    ? (c) => { for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) records++; }
    : (c) => json.push(c);
  const r = await request(server.httpBase, 'GET', `/api/admin/webinars/${webinar.id}/registrations.${ext}`,
    { cookie: session.cookie, sink });
  const peak = kib(pid, 'VmHWM');
  if (r.status !== 200) throw new Error(`${ext}: HTTP ${r.status}`);
  if (ext === 'csv') records -= 1; // the header
  else { records = JSON.parse(Buffer.concat(json).toString('utf8')).registrations.length; json = null; }
  if (records !== n) throw new Error(`${ext}: ${records} records, expected ${n}`);
  return { ext, rows: n, bytes: r.bytes, seconds: r.seconds, firstByte: r.firstByte,
    rssBefore: before, rssPeak: peak };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'lectern-bench-export-'));
  const server = await startLectern({ bin, dataDir });
  try {
    const password = 'bench-password-1234';
    execFileSync(bin, ['user', 'add', 'bench@example.com', '--data-dir', dataDir],
      { input: `${password}\n` });
    const login = await request(server.httpBase, 'POST', '/api/login',
      { body: { email: 'bench@example.com', password } });
    if (login.status !== 200) throw new Error(`login: HTTP ${login.status}`);
    const session = { cookie: /^lectern_session=([^;]+)/.exec(login.headers['set-cookie'][0])[1],
      csrf: JSON.parse(login.body).csrf_token };
    const results = [];
    for (const n of [small, rows]) {
      const made = await request(server.httpBase, 'POST', '/api/admin/webinars',
        { body: { title: `Export ${n}`, form_fields: FORM }, ...session });
      if (made.status !== 201) throw new Error(`create: HTTP ${made.status}`);
      const webinar = JSON.parse(made.body);
      const t0 = Date.now();
      fill(dataDir, webinar.id, n);
      console.error(`filled ${n} registrations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      for (const ext of ['csv', 'json']) results.push(await measure(server, session, webinar, n, ext));
    }
    const m = machine(), v = versions(bin);
    console.log(`\n## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ` +
      `${m.nproc} vCPU ${m.cpu} (${m.os}, kernel ${m.kernel})`);
    console.log(`lectern ${v.lectern} at ${v.lectern_commit}` +
      `${v.lectern_worktree_changes ? ` + ${v.lectern_worktree_changes} changed files` : ''}, ` +
      `node ${v.node}; load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    console.log('| export | rows | size | time | first byte | rate | server RSS before | peak RSS during |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results)
      console.log(`| ${r.ext} | ${r.rows.toLocaleString('en')} | ${(r.bytes / 1048576).toFixed(1)} MiB | ` +
        `${r.seconds.toFixed(2)} s | ${(r.firstByte * 1000).toFixed(0)} ms | ` +
        `${Math.round(r.rows / r.seconds).toLocaleString('en')} rows/s | ${mib(r.rssBefore)} MiB | ` +
        `${mib(r.rssPeak)} MiB (+${mib(r.rssPeak - r.rssBefore)}) |`);
  } finally {
    server.stop();
    await new Promise((r) => server.proc.once('exit', r));
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
