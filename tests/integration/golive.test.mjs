// Going live end to end: create a webinar with the CLI, push 20 s with ffmpeg, check the live
// LL-HLS output while it runs (playlists with an independent parser, media bytes, headers, byte
// ranges, ffprobe), then the instant replay and the MP4 download once the presenter stops.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  test, startServer, stopAndCheck, createWebinar, showWebinar, push, pushExit, waitFor, waitLive,
  getPlaylist, checkMediaPlaylist, checkReplay, checkDownload, request, getJSON, apiWebinar,
  lastSession, ffprobeJSON, mp4Boxes, makeTempDir,
} from '../lib/harness.mjs';

const PUSH_S = 20;
let server;
let webinar;

before(async () => {
  server = await startServer();
});

test('webinar create --json: id, slug, a strong stream key, and the URLs', async () => {
  webinar = await createWebinar(server, 'Quarterly update: Q3 "numbers" & more');
  const w = webinar;
  assert.ok(Number.isInteger(w.id) && w.id > 0, `id ${w.id}`);
  assert.match(w.slug, /^[a-z0-9][a-z0-9-]{0,62}$/, `slug ${w.slug}`);
  assert.ok(w.slug.startsWith('quarterly-update'), `slug ${w.slug} is made from the title`);
  assert.match(w.stream_key, /^[A-Za-z0-9_-]{22,}$/, 'stream key: >= 22 base64url characters');
  assert.equal(w.title, 'Quarterly update: Q3 "numbers" & more');
  assert.equal(w.state, 'scheduled');
  assert.equal(w.rtmp_url, server.rtmpBase);
  assert.equal(w.watch_url, `${server.httpBase}/watch/${w.slug}`);
  // Live media is named by the webinar's live key (128 random bits), never by its public slug.
  assert.match(w.hls_url, new RegExp(`^${server.httpBase}/live/[0-9a-f]{32}/master\\.m3u8$`),
    'hls_url names a 32-hex live key');
  assert.deepEqual(w.sessions, []);

  // A second webinar gets another key and slug.
  const other = await createWebinar(server, 'Quarterly update: Q3 "numbers" & more');
  assert.notEqual(other.stream_key, w.stream_key);
  assert.notEqual(other.slug, w.slug);
  assert.notEqual(other.hls_url, w.hls_url, 'and another live key');

  // The running server sees what the tool created in the same data directory.
  const api = await apiWebinar(server, w.slug);
  assert.equal(api.id, w.id);
  assert.equal(api.state, 'scheduled');
  assert.equal(api.live, 'offline');

  // The key is stored as a hash only: not in any of the database's files.
  const files = (await fsp.readdir(server.dataDir)).filter((f) => f.startsWith('lectern.db'));
  assert.ok(files.includes('lectern.db'), `database file in ${server.dataDir}: ${files}`);
  for (const f of files) {
    const bytes = await fsp.readFile(path.join(server.dataDir, f));
    for (const key of [w.stream_key, other.stream_key]) {
      assert.equal(bytes.indexOf(Buffer.from(key)), -1, `stream key in plain text in ${f}`);
      assert.equal(bytes.indexOf(Buffer.from(key, 'base64url')), -1, `raw key bytes in ${f}`);
    }
  }
});

test('API errors are JSON with the documented codes', async () => {
  const noKey = '0'.repeat(32);
  for (const url of ['/api/webinars/no-such-webinar', '/api/sessions/999999',
    `/api/replays/${noKey}/999999`, '/live/no-such-webinar/master.m3u8',
    `/live/${noKey}/master.m3u8`, `/live/${noKey}/1/index.m3u8`, '/vod/999999/index.m3u8',
    `/vod/${noKey}/999999/index.m3u8`, `/replay/${noKey}/x`, '/replay/1']) {
    const r = await request(server.url(url));
    assert.equal(r.status, 404, url);
    assert.match(r.headers.get('content-type'), /^application\/json/, url);
    assert.equal(JSON.parse(r.body).error.code, 'not_found', url);
  }
  const r = await request(server.url(`/api/webinars/${webinar.slug}`), { method: 'POST' });
  assert.equal(r.status, 405);
  assert.equal(JSON.parse(r.body).error.code, 'method_not_allowed');
});

/* Fetches one media object of a live stream and checks the headers every one of them carries. */
async function getMedia(url, type, headers = {}) {
  const r = await request(url, { headers });
  assert.ok(r.status === 200 || r.status === 206, `${url}: HTTP ${r.status}`);
  assert.equal(r.headers.get('content-type'), type, `${url}: Content-Type`);
  assert.match(r.headers.get('cache-control') || '', /\bimmutable\b/, `${url}: Cache-Control`);
  assert.match(r.headers.get('cache-control') || '', /max-age=31536000/, `${url}: Cache-Control`);
  assert.equal(r.headers.get('access-control-allow-origin'), '*', `${url}: CORS`);
  return r;
}

/* The first video packet of init+segment is a keyframe (segments start on keyframes). */
async function firstVideoPacketIsKey(init, seg) {
  const dir = await makeTempDir('seg');
  const file = path.join(dir, 'probe.mp4');
  await fsp.writeFile(file, Buffer.concat([init, seg]));
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-select_streams', 'v:0',
    '-show_entries', 'packet=flags', '-read_intervals', '%+#1', '-of', 'json', file],
  { timeout: 20000 });
  const pk = JSON.parse(stdout).packets;
  assert.ok(pk.length > 0, 'segment has a video packet');
  return pk[0].flags.startsWith('K');
}

let sessionId;

test(`push ${PUSH_S} s: live HLS, then an instant replay and an MP4 download`, async () => {
  const p = push(server.publishUrl(webinar.stream_key), { seconds: PUSH_S });
  const live = await waitLive(server, webinar.slug);
  assert.equal(live.webinar.state, 'live');
  assert.equal(live.webinar.sessions.length, 1);
  assert.equal(live.session.state, 'live');
  sessionId = live.session.id;
  assert.equal(live.masterUrl, webinar.hls_url, 'the live stream is at the organiser\'s hls_url');
  assert.equal(live.mediaUrl, new URL(`${sessionId}/index.m3u8`, webinar.hls_url).href,
    'the master names the session\'s media playlist');
  const s = await getJSON(server.url(`/api/sessions/${sessionId}`));
  assert.equal(s.state, 'live');
  assert.equal(s.webinar.slug, webinar.slug);

  // ffprobe reads the live stream like a player would (in the background while we check more).
  const liveProbe = ffprobeJSON(live.masterUrl, { timeoutMs: 30000 });

  // Multivariant playlist.
  const m = await getPlaylist(live.masterUrl);
  assert.equal(m.headers.get('cache-control'), 'public, max-age=1', 'master Cache-Control');
  const v = m.playlist.variants[0];
  assert.match(v.codecs, /\bavc1\.[0-9A-Fa-f]{6}\b/, `CODECS ${v.codecs}`);
  assert.match(v.codecs, /\bmp4a\.40\.\d+\b/, `CODECS ${v.codecs}`);
  assert.ok(v.bandwidth > 100e3 && v.bandwidth < 20e6, `BANDWIDTH ${v.bandwidth}`);
  assert.deepEqual(v.resolution, { width: 640, height: 360 });

  // Media playlist.
  const first = await getPlaylist(live.mediaUrl);
  assert.equal(first.headers.get('cache-control'), 'public, max-age=1', 'media Cache-Control');
  assert.equal(first.playlist.endlist, false, 'a live playlist has no ENDLIST yet');
  const segs = checkMediaPlaylist(first.playlist, first.text, 'live playlist');
  const lastSeg = segs[segs.length - 1];
  // The newest segment ended a moment ago by its PROGRAM-DATE-TIME (the last tag, plus the
  // EXTINFs after it): the clock of the stream is the wall clock.
  const k = segs.findLastIndex((x) => x.programDateTime);
  const endMs = segs[k].programDateTime.getTime() +
    segs.slice(k).reduce((n, x) => n + x.duration * 1000, 0);
  const lag = Date.now() - endMs;
  assert.ok(lag > -1000 && lag < 10000, `the newest segment ended ${lag} ms ago by its PDT`);

  // Init segment, the newest complete segment, its parts, a byte range.
  const initR = await getMedia(new URL(lastSeg.map.uri, live.mediaUrl).href, 'video/mp4');
  const initBoxes = mp4Boxes(initR.body).map((b) => b.type);
  assert.equal(initBoxes[0], 'ftyp', `init boxes ${initBoxes}`);
  assert.ok(initBoxes.includes('moov') && !initBoxes.includes('mdat'), `init boxes ${initBoxes}`);
  const segUrl = new URL(lastSeg.uri, live.mediaUrl).href;
  const segR = await getMedia(segUrl, 'video/iso.segment');
  const segBoxes = mp4Boxes(segR.body);
  assert.ok(segBoxes.some((b) => b.type === 'moof') && segBoxes.some((b) => b.type === 'mdat'),
    `segment boxes ${segBoxes.map((b) => b.type)}`);
  assert.equal(segBoxes.reduce((n, b) => n + b.size, 0), segR.body.length,
    'segment is made of whole boxes');
  assert.ok(await firstVideoPacketIsKey(initR.body, segR.body), 'segment starts on a keyframe');
  // Its parts, by their documented names (part-{msn}.{i}.m4s, i = 0, 1, … until 404).
  const parts = [];
  for (let i = 0; i < 64; i++) {
    const url = new URL(`part-${lastSeg.mediaSequenceNumber}.${i}.m4s`, live.mediaUrl).href;
    if (i > 0 && (await request(url)).status === 404) break;
    parts.push((await getMedia(url, 'video/iso.segment')).body);
  }
  assert.ok(parts.length >= 2, `a 2 s segment has several ~0.5 s parts: ${parts.length}`);
  assert.ok(Buffer.concat(parts).equals(segR.body), 'a segment is the concatenation of its parts');
  for (const pt of lastSeg.parts) // when the playlist lists parts (LL-HLS), the same names
    assert.match(pt.uri, new RegExp(`^part-${lastSeg.mediaSequenceNumber}\\.\\d+\\.m4s$`));
  const ranged = await getMedia(segUrl, 'video/iso.segment', { Range: 'bytes=10-109' });
  assert.equal(ranged.status, 206, 'byte range → 206');
  assert.equal(ranged.headers.get('content-range'), `bytes 10-109/${segR.body.length}`);
  assert.ok(ranged.body.equals(segR.body.subarray(10, 110)), 'the range has the right bytes');
  const suffix = await getMedia(segUrl, 'video/iso.segment', { Range: 'bytes=-16' });
  assert.equal(suffix.status, 206);
  assert.ok(suffix.body.equals(segR.body.subarray(segR.body.length - 16)), 'suffix range');
  const beyond = await request(segUrl, { headers: { Range: `bytes=${segR.body.length}-` } });
  assert.equal(beyond.status, 416, 'a range past the end → 416');

  const probe = await liveProbe;
  const pv = probe.streams.find((x) => x.codec_type === 'video');
  const pa = probe.streams.find((x) => x.codec_type === 'audio');
  assert.ok(pv && pa, `live streams: ${probe.streams.map((x) => x.codec_type)}`);
  assert.equal(pv.codec_name, 'h264');
  assert.equal(`${pv.width}x${pv.height}`, '640x360');
  assert.equal(pa.codec_name, 'aac');

  // The window slides: the media sequence advances, and what stays listed does not change.
  const base0 = first.playlist.mediaSequenceBase ?? 0;
  const later = await waitFor(async () => {
    const r = await getPlaylist(live.mediaUrl);
    return (r.playlist.mediaSequenceBase ?? 0) > base0 ? r : null;
  }, (PUSH_S + 3) * 1000 - (Date.now() - p.startedAt), 'the live window to slide');
  const laterSegs = checkMediaPlaylist(later.playlist, later.text, 'live playlist (later)');
  for (const a of laterSegs) {
    const b = segs.find((x) => x.mediaSequenceNumber === a.mediaSequenceNumber);
    if (!b) continue;
    assert.equal(a.uri, b.uri, `segment ${a.mediaSequenceNumber} keeps its name`);
    assert.equal(a.duration, b.duration, `segment ${a.mediaSequenceNumber} keeps its EXTINF`);
  }

  // The presenter stops.
  const code = await pushExit(p, (PUSH_S + 20) * 1000);
  assert.equal(code, 0, `ffmpeg exit code; stderr: ${p.stderrText()}`);
  const exitedAt = p.exitedAt();
  const ended = await waitFor(async () => {
    const w = await apiWebinar(server, webinar.slug);
    const last = lastSession(w);
    if (w.state !== 'ended' || last.state !== 'ended' || !last.replay_url) return null;
    const vod = await getPlaylist(server.url(last.replay_url));
    return vod.playlist.endlist ? { w, last } : null;
  }, Math.max(1, 1000 - (Date.now() - exitedAt)), 'state ended + replay with ENDLIST within 1 s',
  25);
  assert.equal(ended.w.live, 'offline');
  assert.equal(ended.w.sessions.length, 1);
  assert.equal(ended.last.id, sessionId);
  // Recordings are named by the webinar's replay key, another secret than the live key.
  const [, replayKey] = new RegExp(`^/vod/([0-9a-f]{32})/${sessionId}/index\\.m3u8$`)
    .exec(ended.last.replay_url) ?? [];
  assert.ok(replayKey, `replay_url ${ended.last.replay_url} names a replay key and the session`);
  assert.ok(!webinar.hls_url.includes(replayKey), 'the replay key is not the live key');

  // The live playlist of the ended session says so too.
  const liveEnd = await getPlaylist(live.mediaUrl);
  assert.equal(liveEnd.playlist.endlist, true, 'live playlist gets EXT-X-ENDLIST at the end');

  // The replay.
  const vod = await getPlaylist(server.url(ended.last.replay_url));
  assert.equal(vod.headers.get('cache-control'), 'public, max-age=3600', 'replay Cache-Control');
  const { probe: vp } = await checkReplay(server, sessionId, { seconds: PUSH_S });
  const rv = vp.streams.find((x) => x.codec_type === 'video');
  const ra = vp.streams.find((x) => x.codec_type === 'audio');
  assert.equal(`${rv.codec_name} ${rv.width}x${rv.height}`, 'h264 640x360');
  assert.equal(`${ra.codec_name} ${ra.sample_rate} ${ra.channels}`, 'aac 48000 2');

  const api = await getJSON(server.url(`/api/sessions/${sessionId}`));
  assert.equal(api.state, 'ended');
  assert.equal(api.recovered, false);
  assert.ok(Math.abs(api.duration_s - PUSH_S) <= 1, `duration_s ${api.duration_s}`);
  const wall = (Date.parse(api.ended_at) - Date.parse(api.started_at)) / 1000;
  assert.ok(Math.abs(wall - PUSH_S) <= 2.5, `ended_at - started_at = ${wall} s`);
  assert.equal(api.replay_url, ended.last.replay_url);
  assert.equal(api.replay_page_url, `/replay/${replayKey}/${sessionId}`);
  const page = await request(server.url(api.replay_page_url));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);

  // The CLI shows the session; the MP4 download appears in the background.
  const shown = await showWebinar(server, webinar.id);
  assert.equal(shown.state, 'ended');
  assert.equal(shown.sessions.length, 1);
  assert.equal(shown.sessions[0].replay_url, `${server.httpBase}${ended.last.replay_url}`);
  const withMp4 = await waitFor(async () => {
    const w = await showWebinar(server, webinar.id);
    return w.sessions[0].download_url ? w : null;
  }, 30000, 'the MP4 download (webinar show --json download_url)', 500);
  const mp4Url = withMp4.sessions[0].download_url;
  assert.equal(mp4Url, `${server.httpBase}/vod/${replayKey}/${sessionId}/download.mp4`);
  const mp = await checkDownload(server, sessionId, { seconds: PUSH_S, url: mp4Url });
  assert.deepEqual(mp.streams.map((x) => x.codec_name).sort(), ['aac', 'h264']);
});

test('the server shuts down cleanly; its log has no IP address and no stream key', async () => {
  await stopAndCheck(server);
});
