// Who can reach a webinar's media: live HLS only under the webinar's live key, recordings only
// under its replay key, and the URLs handed out by the public API only as the webinar's settings
// allow (docs/api.md); organisers always get them. Guessing from what is public (the slug, the
// sequential session ids, another webinar's key) gives 404.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  test, startServer, stopAndCheck, api, assertError, loginOrganiser, httpRequest, createWebinar,
  showWebinar, push, pushExit, waitLive, waitEnded, waitExportsDone, getPlaylist, variantUrl,
  apiWebinar, getJSON, lastSession,
} from '../lib/harness.mjs';

const PUSH_S = 8;
let server;
let org;
let closed; // a registration-only webinar, with one ended session
let open; // a public webinar, with one ended session

before(async () => {
  server = await startServer();
  org = await loginOrganiser(server);
});

const ADMIN = '/api/admin/webinars';
const as = (method, p, opts = {}) => api(server, method, p, { session: org, ...opts });
const abs = (u) => new URL(u, server.httpBase).href;
const pathOf = (u) => new URL(u, server.httpBase).pathname;

/* A media URL must answer 404 with the JSON error, whatever part of it was guessed. */
async function assertGone(url, what) {
  const r = await httpRequest(abs(url));
  assert.equal(r.status, 404, `${what}: ${url} answers ${r.status}`);
  assertError(r, 404, 'not_found');
}

/* A playlist URL that plays: 200 and a valid playlist; its first media object too. */
async function assertPlays(url, what) {
  const { playlist } = await getPlaylist(abs(url));
  const media = playlist.isMasterPlaylist
    ? (await getPlaylist(variantUrl(abs(url), playlist))).playlist : playlist;
  const seg = media.segments.find((s) => s.uri);
  assert.ok(seg, `${what}: ${url} lists a segment`);
  const base = playlist.isMasterPlaylist ? variantUrl(abs(url), playlist) : abs(url);
  const r = await httpRequest(new URL(seg.uri, base).href);
  assert.equal(r.status, 200, `${what}: its segment ${seg.uri}`);
}

const keyOf = (url, kind) => new RegExp(`/${kind}/([0-9a-f]{32})/`).exec(url)?.[1];

test('a registration-only webinar that is live: only the organiser\'s hls_url reaches it; a ' +
  'public one hands out its hls_url', async () => {
  closed = await createWebinar(server, 'Members only', { access: 'registration' });
  open = await createWebinar(server, 'Open to all');
  assert.equal(closed.access, 'registration');
  assert.equal(open.access, 'public');
  const pc = push(server.publishUrl(closed.stream_key), { seconds: PUSH_S });
  const po = push(server.publishUrl(open.stream_key), { seconds: PUSH_S });
  const [lc, lo] = await Promise.all([waitLive(server, closed.slug), waitLive(server, open.slug)]);

  // Registration only: the public API says it is live, but gives no way to watch.
  const pubC = await apiWebinar(server, closed.slug);
  assert.equal(pubC.live, 'running');
  assert.equal(pubC.playable, true);
  assert.equal(pubC.hls_url, null, 'no hls_url for a registration-only webinar');
  assert.equal(lastSession(pubC).replay_url, null, 'nor a replay_url');
  assert.equal((await getJSON(server.url(`/api/sessions/${lc.session.id}`))).replay_url, null);
  // What is public does not name its media.
  await assertGone(`/live/${closed.slug}/master.m3u8`, 'the slug as live key');
  await assertGone(`/live/${closed.slug}/${lc.session.id}/index.m3u8`, 'slug and session');
  await assertGone(`/live/${crypto.randomBytes(16).toString('hex')}/master.m3u8`, 'a random key');
  // The organiser's URL (CLI and admin API alike) plays.
  assert.match(closed.hls_url, /\/live\/[0-9a-f]{32}\/master\.m3u8$/);
  await assertPlays(closed.hls_url, 'the organiser\'s hls_url');
  const adm = await as('GET', `${ADMIN}/${closed.id}`);
  assert.equal(adm.status, 200);
  assert.equal(adm.json.hls_url, pathOf(closed.hls_url), 'the admin API gives the same URL');
  assert.ok(!closed.hls_url.includes(closed.slug), 'the live key is not the slug');
  // The live key of one webinar does not reach another's session.
  await assertGone(new URL(`${lo.session.id}/index.m3u8`, lc.masterUrl).pathname,
    'the closed webinar\'s key with the open one\'s session');

  // Public: the public API's hls_url is the organiser's, and plays.
  const pubO = await apiWebinar(server, open.slug);
  assert.equal(pubO.hls_url, pathOf(open.hls_url), 'a public webinar hands out its hls_url');
  await assertPlays(pubO.hls_url, 'the public hls_url');
  await assertGone(`/live/${open.slug}/master.m3u8`, 'the slug of a public webinar');

  assert.equal(await pushExit(pc, 30000), 0, pc.stderrText());
  assert.equal(await pushExit(po, 30000), 0, po.stderrText());
  await Promise.all([waitEnded(server, closed.slug), waitEnded(server, open.slug)]);
  await waitExportsDone(server);
});

test('recordings: only under the webinar\'s replay key; guessed keys and ids give 404',
  async () => {
    const c = (await showWebinar(server, closed.id)).sessions[0];
    const o = (await showWebinar(server, open.id)).sessions[0];
    const replayKey = keyOf(c.replay_url, 'vod');
    const otherKey = keyOf(o.replay_url, 'vod');
    const liveKey = keyOf(closed.hls_url, 'live');
    assert.ok(replayKey && otherKey && liveKey);
    assert.notEqual(replayKey, liveKey, 'the replay key is not the live key');
    assert.equal(c.replay_url, `${server.httpBase}/vod/${replayKey}/${c.id}/index.m3u8`);
    assert.equal(c.download_url, `${server.httpBase}/vod/${replayKey}/${c.id}/download.mp4`);
    assert.equal(c.replay_page_url, `${server.httpBase}/replay/${replayKey}/${c.id}`);

    // The organiser's URLs work: the playlist, its segments (relative names), the MP4.
    const { playlist } = await getPlaylist(c.replay_url);
    assert.equal(playlist.endlist, true);
    await assertPlays(c.replay_url, 'the organiser\'s replay_url');
    const mp4 = await httpRequest(c.download_url);
    assert.equal(mp4.status, 200);
    assert.equal(mp4.headers['content-type'], 'video/mp4');
    const seg = playlist.segments[0].uri;

    // Anything else: 404, for the playlist, a segment and the MP4 alike.
    const random = crypto.randomBytes(16).toString('hex');
    for (const [key, what] of [[random, 'a random key'], [otherKey, 'another webinar\'s key'],
      [liveKey, 'the live key'], [replayKey.toUpperCase(), 'the key in capitals'],
      [replayKey.slice(1), 'a key too short'], [closed.slug, 'the slug']]) {
      for (const file of ['index.m3u8', seg, 'download.mp4'])
        await assertGone(`/vod/${key}/${c.id}/${file}`, `${what}, ${file}`);
    }
    await assertGone(`/vod/${c.id}/index.m3u8`, 'the session id alone (the old URL)');
    await assertGone(`/vod/${otherKey}/${o.id + 1000}/index.m3u8`, 'a session that does not exist');
    // The replay key of one webinar does not open another's sessions.
    await assertGone(`/vod/${otherKey}/${c.id}/index.m3u8`, 'the open webinar\'s key');

    // The replay page and its API: only with the key.
    assert.equal((await httpRequest(c.replay_page_url)).status, 200);
    const r = await getJSON(server.url(`/api/replays/${replayKey}/${c.id}`));
    assert.equal(abs(r.replay_url), c.replay_url);
    assert.equal(abs(r.download_url), c.download_url);
    assert.equal(r.webinar.slug, closed.slug);
    for (const key of [random, otherKey, liveKey])
      await assertGone(`/api/replays/${key}/${c.id}`, 'the replay API with a wrong key');
    await assertGone(`/replay/${c.id}`, 'the replay page by session id');
  });

test('who gets replay and live URLs: the settings decide for the public, organisers always',
  async () => {
    const c = (await showWebinar(server, closed.id)).sessions[0];
    const organiser = { hls: pathOf(closed.hls_url), replay: pathOf(c.replay_url),
      page: pathOf(c.replay_page_url), download: pathOf(c.download_url) };
    // [settings (PATCH), the public hls_url, the public replay URLs] in this order, each from the
    // state the one before left.
    const cases = [
      [{}, false, false], // registration; replay needs registration (the defaults)
      [{ replay_requires_registration: false }, false, true],
      [{ room_password: 'let me in please' }, false, false],
      [{ room_password: null, access: 'public', replay_requires_registration: true }, true, true],
      [{ replay_enabled: false }, true, false],
      [{ replay_enabled: true }, true, true],
    ];
    for (const [patch, live, replay] of cases) {
      const what = JSON.stringify(patch);
      const p = await as('PATCH', `${ADMIN}/${closed.id}`, { body: patch });
      assert.equal(p.status, 200, `${what}: ${p.body}`);
      // Organisers: every URL, whatever the settings.
      const s = lastSession(p.json);
      assert.deepEqual([p.json.hls_url, s.replay_url, s.replay_page_url, s.download_url],
        [organiser.hls, organiser.replay, organiser.page, organiser.download], `${what}: admin`);
      // The public: what the settings allow, the same in both public answers.
      const pub = await apiWebinar(server, closed.slug);
      const one = await getJSON(server.url(`/api/sessions/${c.id}`));
      assert.equal(pub.hls_url, live ? organiser.hls : null, `${what}: public hls_url`);
      for (const got of [lastSession(pub), one])
        assert.deepEqual([got.replay_url, got.replay_page_url, got.download_url],
          replay ? [organiser.replay, organiser.page, organiser.download] : [null, null, null],
          `${what}: public replay URLs`);
      // Replay off or not: the organiser's URL keeps working.
      assert.equal((await httpRequest(c.replay_url)).status, 200, `${what}: organiser replay`);
    }
    // A public webinar cannot have a room password (it is asked through join links).
    assertError(await as('PATCH', `${ADMIN}/${closed.id}`,
      { body: { room_password: 'let me in please' } }), 422, 'invalid_field', 'room_password');
    // The CLI is an organiser's view too.
    const shown = await showWebinar(server, closed.id);
    assert.equal(pathOf(shown.hls_url), organiser.hls);
  });

test('the server shuts down cleanly; its log shows no stream or media key', async () => {
  await stopAndCheck(server);
});
