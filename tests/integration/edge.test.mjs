// lectern behind two nginx caching edges configured exactly as docs/http-cache.md shows
// (nginx-edge.conf.template), a real ffmpeg presenter, and 100 simulated HLS players, 50 per
// edge. A counting proxy between each edge and lectern sees every request that reaches the
// origin. Checked: every player gets every object with the origin's bytes, and per edge the
// origin sees one request per object and per blocking playlist URL, not one per player.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  test, startServer, stopAndCheck, createWebinar, push, pushExit, waitLive, getText, makeTempDir,
  sleep, waitFor, fatal,
} from '../lib/harness.mjs';

const TEMPLATE_PATH = new URL('./nginx-edge.conf.template', import.meta.url);
const DOC_PATH = new URL('../../docs/http-cache.md', import.meta.url);
const EDGES = ['a', 'b'];
const PLAYERS_PER_EDGE = 50;
const LEGACY_PER_EDGE = 5; // with LL-HLS on: players that poll the playlist and load segments
const PUSH_S = 16;         // players watch until the presenter stops (EXT-X-ENDLIST)
const REQUEST_TIMEOUT_MS = 15000;
const READY_PATH = '/edge-test-ready'; // asked once per edge to see that nginx answers
// What browsers send, and nothing at all (ffmpeg, curl): one cached copy must serve them all.
const ACCEPT_ENCODINGS = ['gzip, deflate, br, zstd', 'gzip, deflate, br', ''];
// Every tenth player asks like a CDN in front of the edge would: with a Via header.
const viaCdn = (i) => i % 10 === 9;

/* ---- the configuration under test --------------------------------------------------------- */

/* The template with the three values an operator edits replaced. Each must occur exactly once,
 * so that a change to the template cannot leave the test silently running something else. */
function renderEdgeConf(template, { listen, origin, cacheDir }) {
  const edits = [
    ['listen 80;', `listen ${listen};`],
    ['server 127.0.0.1:8080;', `server ${origin};`],
    ['proxy_cache_path /var/cache/nginx/lectern ', `proxy_cache_path ${cacheDir} `],
  ];
  let conf = template;
  for (const [from, to] of edits) {
    assert.equal(conf.split(from).length - 1, 1, `the template has "${from}" exactly once`);
    conf = conf.replace(from, to);
  }
  return conf;
}

/* What Debian's /etc/nginx/nginx.conf puts around conf.d/*.conf (a master and workers, sendfile,
 * `gzip on` for text/html), with every path in `dir`. */
function mainConf(dir) {
  const root = process.getuid?.() === 0;
  return `daemon off;
master_process on;
worker_processes 2;
${root ? 'user root;  # the test directories are private to the user running the tests' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 1024; }
http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format edge '$request_uri $status $upstream_cache_status $request_time';
    access_log ${dir}/access.log edge;
    gzip on;
    client_body_temp_path ${dir}/tmp/body;
    proxy_temp_path ${dir}/tmp/proxy;
    fastcgi_temp_path ${dir}/tmp/fastcgi;
    uwsgi_temp_path ${dir}/tmp/uwsgi;
    scgi_temp_path ${dir}/tmp/scgi;
    include ${dir}/lectern-edge.conf;
}
`;
}

/* ---- nginx -------------------------------------------------------------------------------- */

// Each nginx is its own process group (master and workers): a test stops its edges in a
// finally, and whatever still runs when the runner exits is killed here.
const edgeGroups = new Set();
process.on('exit', () => {
  for (const pid of edgeGroups) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/* Starts one edge in its own prefix directory with its own cache, on a free loopback port,
 * proxying to `origin` (HOST:PORT). The port is free when chosen but another process may take
 * it before nginx binds it: that case is retried. Returns { name, base, stop(), errorLog() }. */
async function startEdge(name, origin, template) {
  const dir = await makeTempDir(`edge-${name}`);
  for (const d of ['tmp', 'cache']) await fsp.mkdir(path.join(dir, d));
  const errorLogPath = path.join(dir, 'error.log');
  const errorLog = () => (fs.existsSync(errorLogPath) ? fs.readFileSync(errorLogPath, 'utf8') : '');
  const args = ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), '-e', errorLogPath];
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await fsp.writeFile(path.join(dir, 'lectern-edge.conf'), renderEdgeConf(template,
      { listen: `127.0.0.1:${port}`, origin, cacheDir: path.join(dir, 'cache') }));
    await fsp.writeFile(path.join(dir, 'nginx.conf'), mainConf(dir));
    await promisify(execFile)('nginx', ['-t', '-q', ...args], { timeout: 10000 }).catch((e) => {
      throw new Error(e.code === 'ENOENT' ? 'nginx is not installed (scripts/setup --test)'
        : `nginx -t rejects the edge configuration: ${e.stderr || e.message}`);
    });
    const proc = spawn('nginx', args, { detached: true, stdio: 'ignore' });
    edgeGroups.add(proc.pid);
    const exited = once(proc, 'exit').then(() => edgeGroups.delete(proc.pid));
    const edge = {
      name,
      base: `http://127.0.0.1:${port}`,
      errorLog,
      async stop() {
        if (!edgeGroups.has(proc.pid)) return;
        try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
        const t = setTimeout(() => {
          try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ }
        }, 5000);
        await exited;
        clearTimeout(t);
      },
    };
    try {
      await waitFor(async () => {
        if (!edgeGroups.has(proc.pid)) throw fatal('nginx exited');
        const r = await fetch(edge.base + READY_PATH, { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        return true;
      }, 10000, `nginx edge ${name} to answer`, 50);
      return edge;
    } catch (e) {
      await edge.stop();
      if (attempt < 3 && /Address already in use/.test(errorLog())) continue;
      throw new Error(`nginx edge ${name} did not start: ${e.message}\n${errorLog()}`);
    }
  }
}

/* ---- the counting proxy between an edge and lectern --------------------------------------- */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding',
  'te', 'trailer', 'upgrade']);
const endToEnd = (headers) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
const decode = (body, encoding) => (encoding === 'gzip' ? zlib.gunzipSync(body) : body);

/* A proxy on a free loopback port that forwards everything to `origin` (HOST:PORT) unchanged,
 * streaming (a held request stays held), and records every response the origin gave, per
 * request URL: [{ status, encoding, vary, identity (the decoded body), tEnd }]. */
async function startCountingProxy(origin) {
  const colon = origin.lastIndexOf(':');
  const host = origin.slice(0, colon);
  const port = Number(origin.slice(colon + 1));
  const agent = new http.Agent({ keepAlive: true });
  const seen = new Map();
  const server = http.createServer((req, res) => {
    const up = http.request({ host, port, method: req.method, path: req.url, agent,
      headers: endToEnd(req.headers) }, (ur) => {
      res.writeHead(ur.statusCode, endToEnd(ur.headers));
      const chunks = [];
      ur.on('data', (c) => { chunks.push(c); res.write(c); });
      ur.on('end', () => {
        res.end();
        const encoding = ur.headers['content-encoding'] || '';
        if (!seen.has(req.url)) seen.set(req.url, []);
        seen.get(req.url).push({ status: ur.statusCode, encoding, vary: ur.headers.vary || '',
          identity: decode(Buffer.concat(chunks), encoding), tEnd: Date.now() });
      });
      ur.on('error', () => res.destroy());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    addr: `127.0.0.1:${server.address().port}`,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}

/* ---- players ------------------------------------------------------------------------------ */

/* What a player needs from a media playlist, full or delta: init segments, segments and parts
 * with their media sequence numbers (and part index), server control, ENDLIST. */
function parseMedia(text) {
  const pl = { ended: false, canBlock: false, canSkip: false, maps: [], segments: [], parts: [] };
  let seq = 0, skipped = 0, msn = null, idx = 0;
  for (const line of text.split('\n').map((l) => l.trim())) {
    const attr = (name) => {
      const m = new RegExp(`[:,]${name}=(?:"([^"]*)"|([^,]*))`).exec(line);
      return m ? m[1] ?? m[2] : undefined;
    };
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) seq = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-SKIP:')) skipped = Number(attr('SKIPPED-SEGMENTS'));
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) {
      pl.canBlock = attr('CAN-BLOCK-RELOAD') === 'YES';
      pl.canSkip = attr('CAN-SKIP-UNTIL') !== undefined;
    } else if (line.startsWith('#EXT-X-MAP:')) pl.maps.push(attr('URI'));
    else if (line.startsWith('#EXT-X-PART:')) {
      msn ??= seq + skipped;
      pl.parts.push({ msn, idx: idx++, uri: attr('URI') });
    } else if (line === '#EXT-X-ENDLIST') pl.ended = true;
    else if (line && !line.startsWith('#')) {
      msn ??= seq + skipped;
      pl.segments.push({ msn: msn++, uri: line });
      idx = 0;
    }
  }
  return pl;
}

const isAfter = (a, b) => a.msn > b.msn || (a.msn === b.msn && (a.idx ?? 0) > (b.idx ?? 0));

/* One viewer on one edge. Loads the watch page, its script and the API like a browser, then
 * plays: kind 'll' like an LL-HLS player (hls.js: blocking reload for the part after the last
 * one listed, delta updates when offered, each new part), kind 'legacy' like a classic one
 * (plain reload every 0.5 s, each new segment; `ranges`: in two byte ranges, like AVPlayer);
 * `via`: asks like a CDN in front of the edge (a Via header).
 * Both start three parts or segments behind the live edge, and stop at ENDLIST or the
 * deadline. Every response goes to `out`. */
async function runPlayer({ id, edge, kind, acceptEncoding, via, ranges, slug, deadline, out }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 6 }); // as many as a browser
  const get = (p, what, range) => new Promise((resolve) => {
    const rec = { edge: edge.name, player: id, path: p, what, range, ae: acceptEncoding,
      t0: Date.now() };
    const headers = {};
    if (acceptEncoding) headers['accept-encoding'] = acceptEncoding;
    if (range) headers.range = range;
    if (via) headers.via = '1.1 cdn.example';
    const done = (fields) => {
      Object.assign(rec, { t1: Date.now() }, fields);
      out.push(rec);
      resolve(rec);
    };
    const req = http.get(edge.base + p, { agent, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => done({ status: `error: ${e.message}` }));
      res.on('end', () => done({ status: res.statusCode, body: Buffer.concat(chunks),
        encoding: res.headers['content-encoding'] || '', vary: res.headers.vary || '',
        contentRange: res.headers['content-range'], cacheStatus: res.headers['x-cache-status'],
        cors: res.headers['access-control-allow-origin'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => done({ status: `error: ${e.message}` }));
  });
  const text = (r) => decode(r.body, r.encoding).toString('utf8');
  const pending = [];
  const load = (items, base, what) => {
    for (const { uri } of items) {
      const p = new URL(uri, edge.base + base);
      const target = p.pathname + p.search;
      pending.push(what === 'segment' && ranges
        ? get(target, what, 'bytes=0-999').then(() => get(target, what, 'bytes=1000-'))
        : get(target, what));
    }
  };

  try {
    let api;
    for (const [p, what] of [[`/watch/${slug}`, 'page'], ['/static/player.js', 'static'],
      [`/api/webinars/${slug}`, 'api']])
      api = await get(p, what);
    if (api.status !== 200) return;
    // The live URL, as the watch page takes it: from the webinar's (public) API answer.
    const masterPath = new URL(JSON.parse(text(api)).hls_url, edge.base).pathname;
    const master = await get(masterPath, 'master');
    if (master.status !== 200) return;
    const variant = text(master).split('\n').find((l) => l && !l.startsWith('#'));
    const mediaPath = new URL(variant, edge.base + masterPath).pathname;
    let r = await get(mediaPath, 'playlist');
    const inits = new Set();
    let pos = null;
    while (r.status === 200) {
      const pl = parseMedia(text(r));
      const ll = kind === 'll' && pl.canBlock;
      const maps = pl.maps.filter((uri) => !inits.has(uri));
      maps.forEach((uri) => inits.add(uri));
      load(maps.map((uri) => ({ uri })), mediaPath, 'init');
      const list = ll ? pl.parts : pl.segments;
      const fresh = pos ? list.filter((x) => isAfter(x, pos)) : list.slice(-3);
      load(fresh, mediaPath, ll ? 'part' : 'segment');
      pos = fresh.at(-1) ?? pos;
      if (pl.ended || Date.now() > deadline || (ll && !pl.parts.length)) break;
      if (ll) {
        const last = pl.parts.at(-1);
        const skip = pl.canSkip ? '&_HLS_skip=YES' : '';
        r = await get(`${mediaPath}?_HLS_msn=${last.msn}&_HLS_part=${last.idx + 1}${skip}`,
          'blocking');
      } else {
        await sleep(500);
        r = await get(mediaPath, 'playlist');
      }
    }
  } finally {
    await Promise.all(pending);
    agent.destroy();
  }
}

/* ---- checks and report -------------------------------------------------------------------- */

const MEDIA_PREFIXES = { 'init-': 'init', 'part-': 'part', 'seg-': 'segment' };

function kindOf(p) {
  const [pathname, query = ''] = p.split('?');
  if (pathname === READY_PATH) return 'probe';
  if (pathname.startsWith('/api/')) return 'api';
  if (pathname.startsWith('/static/')) return 'static';
  if (pathname.startsWith('/watch/')) return 'page';
  if (pathname.endsWith('/master.m3u8')) return 'master';
  if (pathname.endsWith('.m3u8')) return /(^|&)_HLS_msn=/.test(query) ? 'blocking' : 'playlist';
  const name = pathname.slice(pathname.lastIndexOf('/') + 1);
  const prefix = Object.keys(MEDIA_PREFIXES).find((k) => name.startsWith(k));
  return prefix ? MEDIA_PREFIXES[prefix] : 'other';
}
// Kinds whose every URL names one unchanging response: one origin request per edge, at most.
const ONCE_PER_EDGE = ['init', 'part', 'segment', 'blocking', 'static'];
const HLS_KINDS = ['master', 'playlist', 'blocking', 'init', 'part', 'segment'];

/* Each player response against what the origin sent to that player's edge for the same URL:
 * the same bytes once decoded (the edge may compress text/html itself, and decompresses for
 * players without gzip), a range the matching slice, gzip passed through to players that take
 * it, the origin's Vary, and CORS on HLS. Returns the problems found. */
function compareWithOrigin(out, proxies) {
  const bad = [];
  for (const r of out) {
    const origin = proxies[r.edge].seen.get(r.path);
    const where = `${r.player} ${r.path}${r.range ? ` (${r.range})` : ''}`;
    if (!origin) {
      bad.push(`${where}: never requested from the origin`);
      continue;
    }
    const body = decode(r.body, r.encoding);
    let expect = (o) => o.identity;
    if (r.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.contentRange || '');
      if (!m) {
        bad.push(`${where}: 206 with Content-Range "${r.contentRange}"`);
        continue;
      }
      expect = (o) => (o.identity.length === Number(m[3]) ?
        o.identity.subarray(Number(m[1]), Number(m[2]) + 1) : null);
    }
    if (!origin.some((o) => expect(o)?.equals(body)))
      bad.push(`${where}: bytes differ from the origin's`);
    const gzipped = origin.some((o) => o.encoding === 'gzip');
    if (gzipped && (r.encoding === 'gzip') !== /\bgzip\b/.test(r.ae))
      bad.push(`${where}: Content-Encoding "${r.encoding}" for Accept-Encoding "${r.ae}"`);
    const vary = origin.find((o) => o.vary)?.vary;
    if (vary && r.vary !== vary) bad.push(`${where}: Vary "${r.vary}", the origin's "${vary}"`);
    if (HLS_KINDS.includes(kindOf(r.path)) && r.cors !== '*')
      bad.push(`${where}: Access-Control-Allow-Origin "${r.cors}" (players on other sites)`);
  }
  return bad;
}

/* Per edge and kind of URL: distinct URLs, requests that reached the origin, requests players
 * made, and the most origin requests for one URL. */
function countRequests(out, proxies) {
  const rows = [];
  for (const edge of EDGES) {
    const byKind = {};
    const row = (kind) =>
      (byKind[kind] ??= { edge, kind, distinct: 0, origin: 0, players: 0, max: 0 });
    for (const [p, recs] of proxies[edge].seen) {
      const r = row(kindOf(p));
      r.distinct++;
      r.origin += recs.length;
      r.max = Math.max(r.max, recs.length);
    }
    for (const r of out.filter((x) => x.edge === edge)) row(kindOf(r.path)).players++;
    rows.push(...Object.values(byKind).sort((a, b) => (a.kind < b.kind ? -1 : 1)));
  }
  return rows;
}

const tally = (items, keyOf) => {
  const t = {};
  for (const x of items) t[keyOf(x)] = (t[keyOf(x)] || 0) + 1;
  return t;
};
const pct = (xs, q) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

function report(t, { rows, out, proxies, watchedS }) {
  const col = (v, w) => String(v).padStart(w);
  t.diagnostic(`${EDGES.length} edges x ${PLAYERS_PER_EDGE} players, ` +
    `watched ${watchedS.toFixed(1)} s`);
  t.diagnostic('edge kind     distinct  origin requests  player requests  max per URL');
  for (const r of rows)
    t.diagnostic(`${r.edge}    ${r.kind.padEnd(8)} ${col(r.distinct, 8)} ${col(r.origin, 16)} ` +
      `${col(r.players, 16)} ${col(r.max, 12)}`);
  const hls = rows.filter((r) => HLS_KINDS.includes(r.kind));
  const origin = hls.reduce((n, r) => n + r.origin, 0);
  const players = hls.reduce((n, r) => n + r.players, 0);
  t.diagnostic(`HLS: ${origin} origin requests for ${players} player requests ` +
    `(${(players / origin).toFixed(1)} per origin request)`);
  const cacheStatus = tally(out, (r) => `${r.what}:${r.cacheStatus ?? '-'}`);
  t.diagnostic(`X-Cache-Status: ${JSON.stringify(cacheStatus)}`);
  const fromOrigin = EDGES.flatMap((e) => [...proxies[e].seen]
    .flatMap(([p, recs]) => recs.map((o) => `${kindOf(p)}:${o.encoding || 'identity'}`)));
  t.diagnostic(`origin Content-Encoding: ${JSON.stringify(tally(fromOrigin, (k) => k))}`);
  // A viewer whose blocking request waited on another's (the cache lock): how long after the
  // origin's answer it got its own.
  const waits = out.filter((r) => r.what === 'blocking').map((r) => {
    const o = proxies[r.edge].seen.get(r.path)?.[0];
    return o && r.t0 < o.tEnd ? r.t1 - o.tEnd : null;
  }).filter((x) => x !== null);
  if (waits.length)
    t.diagnostic(`blocking reloads answered after the origin's answer: n=${waits.length} ` +
      `p50=${pct(waits, 0.5)} ms p90=${pct(waits, 0.9)} ms max=${pct(waits, 1)} ms`);
}

/* ---- the scenario ------------------------------------------------------------------------- */

async function scenario(t, { serverArgs = [], expectLL }) {
  const template = await fsp.readFile(TEMPLATE_PATH, 'utf8');
  const server = await startServer({ args: serverArgs });
  const proxies = {};
  const edges = [];
  try {
    for (const name of EDGES) {
      proxies[name] = await startCountingProxy(server.httpAddr);
      edges.push(await startEdge(name, proxies[name].addr, template));
    }
    const webinar = await createWebinar(server, 'Edge cache test');
    const presenter = push(server.publishUrl(webinar.stream_key), { seconds: PUSH_S });
    const live = await waitLive(server, webinar.slug);
    const ll = /^#EXT-X-SERVER-CONTROL:.*CAN-BLOCK-RELOAD=YES/m.test(await getText(live.mediaUrl));
    assert.equal(ll, expectLL, `the origin serves ${expectLL ? 'LL-HLS' : 'plain HLS'}`);

    // Players join over the first second; they stop at ENDLIST (or, if it never comes, later).
    const out = [];
    const deadline = presenter.startedAt + (PUSH_S + 15) * 1000;
    const startedAt = Date.now();
    await Promise.all(edges.flatMap((edge) => Array.from({ length: PLAYERS_PER_EDGE }, (_, i) => {
      const legacy = !ll || i < LEGACY_PER_EDGE;
      return sleep(i * 20).then(() => runPlayer({ id: `${edge.name}${i}`, edge, slug: webinar.slug,
        deadline, out, kind: legacy ? 'legacy' : 'll',
        acceptEncoding: ACCEPT_ENCODINGS[i % ACCEPT_ENCODINGS.length], via: viaCdn(i),
        ranges: legacy && i === 0 }));
    })));
    const watchedS = (Date.now() - startedAt) / 1000;
    assert.equal(await pushExit(presenter, 20000), 0, `ffmpeg: ${presenter.stderrText()}`);
    const rows = countRequests(out, proxies);
    report(t, { rows, out, proxies, watchedS });

    // 1. Every request was answered 200 (or 206 for a range).
    const failed = out.filter((r) => !(r.status === 200 || (r.range && r.status === 206)));
    assert.deepEqual(failed.slice(0, 10).map((r) => `${r.player} ${r.path} ${r.range ?? ''}: ` +
      `${r.status}`), [], `${failed.length} of ${out.length} player requests failed`);

    // 2. With the origin's bytes.
    const bad = compareWithOrigin(out, proxies);
    assert.deepEqual(bad.slice(0, 10), [], `${bad.length} responses differ from the origin's`);

    // 3. The origin saw one request per object and per blocking URL per edge; a playlist
    // without query about one per second (max-age=1; nginx counts whole seconds); every API
    // request (never cached).
    const repeated = EDGES.flatMap((e) => [...proxies[e].seen]
      .filter(([p, recs]) => ONCE_PER_EDGE.includes(kindOf(p)) && recs.length > 1)
      .map(([p, recs]) => `edge ${e}: ${recs.length} origin requests for ${p}`));
    assert.deepEqual(repeated.slice(0, 10), [], `${repeated.length} URLs reached the origin more ` +
      'than once from the same edge');
    for (const r of rows) {
      if (r.kind === 'playlist' || r.kind === 'master')
        assert.ok(r.max <= Math.ceil(watchedS) + 2, `edge ${r.edge}: ${r.max} origin requests ` +
          `for one ${r.kind} URL in ${watchedS.toFixed(1)} s`);
      if (r.kind === 'api')
        assert.equal(r.origin, r.players, `edge ${r.edge}: every API request reaches the origin`);
    }
    assert.ok(out.filter((r) => r.what === 'api').every((r) => r.cacheStatus === undefined),
      'API responses do not go through the cache');

    // The counts mean something only if the players really watched: each loaded at least
    // ~3/4 of the parts (2 per second) or segments (1 per 2 s) published while it watched.
    const loaded = tally(out.filter((r) => r.what === 'part' || r.what === 'segment'),
      (r) => r.player);
    for (const e of EDGES) {
      for (let i = 0; i < PLAYERS_PER_EDGE; i++) {
        const parts = ll && i >= LEGACY_PER_EDGE;
        const want = (parts ? 1.5 : 0.375) * (watchedS - 3) * (!parts && i === 0 ? 2 : 1);
        const n = loaded[`${e}${i}`] ?? 0;
        assert.ok(n >= want, `player ${e}${i} made ${n} ${parts ? 'part' : 'segment'} requests ` +
          `in ${watchedS.toFixed(1)} s, expected >= ${want.toFixed(1)}`);
      }
    }

    // 4. nginx saw nothing wrong, and no viewer gave up waiting on the cache lock (it would then
    // have gone to the origin uncached).
    for (const edge of edges) {
      const log = edge.errorLog();
      const serious = log.split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
      assert.deepEqual(serious.slice(0, 5), [], `nginx edge ${edge.name}: error log`);
      assert.doesNotMatch(log, /cache lock timeout/, `nginx edge ${edge.name}: cache lock timeout`);
    }
    await stopAndCheck(server);
  } finally {
    await Promise.all(edges.map((e) => e.stop()));
    await Promise.all(Object.values(proxies).map((p) => p.close()));
  }
}

nodeTest('docs/http-cache.md shows exactly the configuration this suite runs', async () => {
  const doc = await fsp.readFile(DOC_PATH, 'utf8');
  const template = await fsp.readFile(TEMPLATE_PATH, 'utf8');
  const intro = doc.indexOf('`tests/integration/nginx-edge.conf.template`, shown here verbatim');
  assert.ok(intro >= 0, 'docs/http-cache.md introduces the template as "shown here verbatim"');
  const m = /```nginx\n([\s\S]*?)```/.exec(doc.slice(intro));
  assert.ok(m, 'docs/http-cache.md has an ```nginx block after that');
  assert.equal(m[1], template, 'the block in docs/http-cache.md is the template, verbatim');
});

test('LL-HLS: 100 players via two edges; per edge 1 origin request per part and blocking URL',
  { timeout: 40e3 }, (t) => scenario(t, { expectLL: true }));

test('plain HLS (--low-latency=false): 100 players via two edges; per edge 1 origin request per ' +
  'segment', { timeout: 40e3 },
(t) => scenario(t, { serverArgs: ['--low-latency=false'], expectLL: false }));
