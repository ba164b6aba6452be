// Failures on either side: a presenter's connection drops (and comes back, or not), the server is
// killed with SIGKILL mid-stream and restarted, the server is stopped with SIGTERM mid-stream.
// Nothing that was pushed may be lost beyond the last moments, and every session must end with a
// playable replay.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  test, startServer, stopAndCheck, assertCleanLog, createWebinar, showWebinar, push, pushExit,
  waitPushed, waitFor, waitLive, waitEnded, checkReplay, checkDownload, checkMediaPlaylist,
  getPlaylist, apiWebinar, lastSession, getJSON, request, makeTempDir, sumExtinf, HLS, sleep,
} from '../lib/harness.mjs';

const mapUris = (text) => [...new Set([...text.matchAll(/^#EXT-X-MAP:URI="([^"]+)"/gm)]
  .map((m) => m[1]))];

/* The webinar's API state once the server has noticed that its presenter dropped. */
function waitReconnecting(server, slug) {
  return waitFor(async () => {
    const w = await apiWebinar(server, slug);
    return w.live === 'reconnecting' ? w : null;
  }, 5000, `webinar ${slug} to be "reconnecting" after the drop`);
}

test('a presenter who reconnects within the grace period keeps the session', async () => {
  const server = await startServer();
  const w = await createWebinar(server, 'Reconnect');
  const url = server.publishUrl(w.stream_key);
  const p1 = push(url, { seconds: 60 });
  const live = await waitLive(server, w.slug);
  const sessionId = live.session.id;
  await waitPushed(p1, 8);
  const pushed1 = p1.pushedSeconds();
  await p1.kill('SIGKILL'); // the connection drops without an RTMP goodbye
  const g = await waitReconnecting(server, w.slug);
  assert.equal(g.state, 'live', 'the webinar is still live during the grace period');
  assert.equal(lastSession(g).id, sessionId);
  assert.equal(lastSession(g).state, 'live');

  await sleep(1500);
  const p2 = push(url, { seconds: 8 });
  const { mediaUrl } = live; // the session's media playlist: the same URL after the reconnect
  const rejoined = await waitFor(async () => {
    const api = await apiWebinar(server, w.slug);
    if (api.live !== 'running') return null;
    const r = await getPlaylist(mediaUrl);
    const segs = checkMediaPlaylist(r.playlist, r.text, 'live playlist after the reconnect');
    const i = segs.findIndex((s) => s.discontinuity);
    return i >= 0 && i < segs.length - 1 ? { api, ...r, segs, i } : null;
  }, 15000, 'a complete segment after EXT-X-DISCONTINUITY in the live playlist', 250);
  assert.equal(rejoined.api.sessions.length, 1, 'still one session');
  assert.equal(lastSession(rejoined.api).id, sessionId, 'the same session continues');
  assert.equal(mapUris(rejoined.text).length, 2, `two EXT-X-MAP:\n${rejoined.text}`);
  assert.notEqual(rejoined.segs[rejoined.i].map.uri, rejoined.segs[rejoined.i - 1].map.uri,
    'the segment after the discontinuity has the new init segment');
  assert.equal((await request(new URL(rejoined.segs[rejoined.i].map.uri, mediaUrl))).status, 200);

  const code = await pushExit(p2, 30000);
  assert.equal(code, 0, `second push: ffmpeg exit code; stderr: ${p2.stderrText()}`);
  const { webinar, session } = await waitEnded(server, w.slug);
  assert.equal(webinar.sessions.length, 1, 'exactly one session');
  assert.equal(session.id, sessionId);
  const { text } = await checkReplay(server, sessionId, { seconds: pushed1 + 8, tolerance: 1.5 });
  assert.match(text, /^#EXT-X-DISCONTINUITY$/m, 'the replay has the discontinuity');
  assert.equal(mapUris(text).length, 2, 'the replay has both init segments');
  await stopAndCheck(server);
});

test('a presenter who does not come back: the session ends after the grace period',
  async () => {
    const server = await startServer({ args: ['--grace', '3'] });
    const w = await createWebinar(server, 'Dropped');
    const url = server.publishUrl(w.stream_key);
    const p = push(url, { seconds: 60 });
    const live = await waitLive(server, w.slug);
    await waitPushed(p, 5);
    const pushed = p.pushedSeconds();
    await p.kill('SIGKILL');
    const killedAt = Date.now();
    await waitReconnecting(server, w.slug);
    await sleep(Math.max(0, killedAt + 1500 - Date.now()));
    const mid = await apiWebinar(server, w.slug);
    assert.equal(mid.state, 'live', '1.5 s after the drop (grace 3 s) the session is not over');
    assert.equal(mid.live, 'reconnecting');

    const { webinar, session } = await waitEnded(server, w.slug, 3000 + 4000);
    const endedAfter = Date.now() - killedAt;
    assert.ok(endedAfter >= 2500, `ended ${endedAfter} ms after the drop, before the grace period`);
    assert.equal(webinar.live, 'offline');
    assert.equal(session.id, live.session.id);
    const lp = await getPlaylist(live.mediaUrl);
    assert.equal(lp.playlist.endlist, true, 'the live playlist got EXT-X-ENDLIST');
    await checkReplay(server, session.id, { seconds: pushed, tolerance: 1.5 });

    // Going live again later starts a new session.
    const p2 = push(url, { seconds: 4 });
    assert.equal(await pushExit(p2, 30000), 0, `ffmpeg: ${p2.stderrText()}`);
    const again = await waitEnded(server, w.slug);
    assert.equal(again.webinar.sessions.length, 2, 'a new session after the grace period');
    assert.notEqual(again.session.id, session.id);
    await stopAndCheck(server);
  });

test('kill -9 of the server mid-stream: after a restart the session is recovered', async () => {
  const dataDir = await makeTempDir('crash');
  const s1 = await startServer({ dataDir });
  const w = await createWebinar(s1, 'Crash');
  const p = push(s1.publishUrl(w.stream_key), { seconds: 30 });
  const live = await waitLive(s1, w.slug);
  await waitPushed(p, 11); // mid-segment (2 s segments): recovery must cut to a part boundary
  const pushed = p.pushedSeconds();
  assert.equal(await s1.kill9(), 'SIGKILL');
  const code = await pushExit(p, 20000, 'ffmpeg to notice the server is gone');
  assert.notEqual(code, 0, 'ffmpeg fails when the server dies');
  assertCleanLog(s1);

  const s2 = await startServer({ dataDir });
  const api = await apiWebinar(s2, w.slug);
  assert.equal(api.state, 'ended');
  assert.equal(api.live, 'offline');
  assert.equal(api.sessions.length, 1);
  const s = await getJSON(s2.url(`/api/sessions/${live.session.id}`));
  assert.equal(s.state, 'ended');
  assert.equal(s.recovered, true, 'marked recovered');
  assert.match(s.replay_url, new RegExp(`^/vod/[0-9a-f]{32}/${s.id}/index\\.m3u8$`));
  // At most the last moments are lost: [pushed - 1.5 s, pushed + 0.5 s].
  const { playlist } = await checkReplay(s2, s.id, { seconds: pushed - 0.5, tolerance: 1.0 });
  assert.ok(Math.abs(s.duration_s - sumExtinf(playlist)) <= 0.5,
    `duration_s ${s.duration_s} agrees with the replay ${sumExtinf(playlist)}`);
  await checkDownload(s2, s.id, { seconds: sumExtinf(playlist) });
  await stopAndCheck(s2);
});

test('SIGTERM of the server mid-stream: exit 0, the session ends with a final replay',
  async () => {
    const dataDir = await makeTempDir('term');
    const s1 = await startServer({ dataDir });
    const w = await createWebinar(s1, 'Shutdown');
    const p = push(s1.publishUrl(w.stream_key), { seconds: 30 });
    const live = await waitLive(s1, w.slug);
    await waitPushed(p, 6);
    const pushed = p.pushedSeconds();
    assert.equal(await s1.stop('SIGTERM'), 0, 'exit code after SIGTERM');
    await pushExit(p, 20000, 'ffmpeg to notice the server is gone');

    // The data directory says: ended, not recovered, and the recording is final on disk.
    const shown = await showWebinar(s1, w.id);
    assert.equal(shown.state, 'ended');
    assert.equal(shown.sessions.length, 1);
    const s = shown.sessions[0];
    assert.equal(s.id, live.session.id);
    assert.equal(s.state, 'ended');
    assert.equal(s.recovered, false, 'a clean shutdown is not a crash');
    assert.ok(Math.abs(s.duration_s - pushed) <= 1.5, `duration_s ${s.duration_s} ≈ ${pushed}`);
    const text = await fsp.readFile(path.join(dataDir, 'recordings', String(s.id), 'index.m3u8'),
      'utf8');
    const pl = HLS.parse(text);
    assert.equal(pl.endlist, true, 'the replay on disk has EXT-X-ENDLIST');
    assert.ok(Math.abs(sumExtinf(pl) - pushed) <= 1.5, `replay ${sumExtinf(pl)} s ≈ ${pushed} s`);

    // After a restart nothing is "recovered"; the replay plays and the MP4 export completes.
    const s2 = await startServer({ dataDir });
    const again = await getJSON(s2.url(`/api/sessions/${s.id}`));
    assert.equal(again.recovered, false);
    await checkReplay(s2, s.id, { seconds: sumExtinf(pl), tolerance: 0.5 });
    await checkDownload(s2, s.id, { seconds: sumExtinf(pl) });
    await stopAndCheck(s2);
    // Last, so that everything above is checked whatever the shutdown logged.
    assertCleanLog(s1);
  });
