// Low-Latency HLS against a real push (draft-pantos-hls-rfc8216bis, Apple's HLS authoring spec):
// the LL tags validated with an independent parser, the part cadence, blocking playlist reload
// and its error rules (400 at once, 503 after three target durations), preload-hinted parts,
// delta updates, gzip, HEAD and byte ranges, and the cache headers an HTTP cache relies on.
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import {
  test, startServer, createWebinar, push, waitPushed, pushExit, waitLive, request, getPlaylist,
  variantUrl, checkMediaPlaylist, fullSegments, stopAndCheck, sleep, HLS,
} from '../lib/harness.mjs';

const PART_TARGET = 0.4;

/* The parts a playlist lists, in order, with the segment each belongs to; and the hinted one. */
function partsOf(text) {
  const parts = [];
  let hint = null;
  for (const line of text.split('\n')) {
    let m = /^#EXT-X-PART:DURATION=([\d.]+),URI="part-(\d+)\.(\d+)\.m4s"(,INDEPENDENT=YES)?$/.exec(line);
    if (m) parts.push({ duration: Number(m[1]), msn: Number(m[2]), index: Number(m[3]),
      independent: !!m[4] });
    m = /^#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)\.(\d+)\.m4s"$/.exec(line);
    if (m) hint = { msn: Number(m[1]), index: Number(m[2]) };
  }
  return { parts, hint };
}

/* GET without any automatic decompression: the bytes as sent. */
function rawGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers,
        body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error(`GET ${url}: timed out`)));
  });
}

test('LL-HLS during a real push: tags, cadence, blocking reload, hints, delta, gzip, ranges',
  { timeout: 120000 }, async () => {
    const server = await startServer({ args: ['--part-target', String(PART_TARGET),
      '--window-segments', '10'] });
    try {
      const w = await createWebinar(server, 'Low latency');
      const p = push(server.publishUrl(w.stream_key), { seconds: 40 });
      const { masterUrl } = await waitLive(server, w.slug);
      const { playlist: master } = await getPlaylist(masterUrl);
      const mediaUrl = variantUrl(masterUrl, master);
      const base = mediaUrl.slice(0, mediaUrl.lastIndexOf('/') + 1);

      // --- the tags, validated by hls-parser in strict mode and read back --------------------
      const { text, playlist: pl } = await getPlaylist(mediaUrl);
      assert.ok(pl.version >= 9, `EXT-X-VERSION ${pl.version} (EXT-X-PART needs 9)`);
      assert.equal(pl.partTargetDuration, PART_TARGET, 'EXT-X-PART-INF:PART-TARGET');
      const llc = pl.lowLatencyCompatibility;
      assert.ok(llc, 'EXT-X-SERVER-CONTROL');
      assert.equal(llc.canBlockReload, true, 'CAN-BLOCK-RELOAD=YES');
      assert.ok(llc.partHoldBack >= 3 * PART_TARGET - 1e-9,
        `PART-HOLD-BACK ${llc.partHoldBack} >= 3 x PART-TARGET (Apple)`);
      assert.ok(llc.holdBack >= 3 * pl.targetDuration, `HOLD-BACK ${llc.holdBack}`);
      assert.ok(llc.canSkipUntil >= 6 * pl.targetDuration, `CAN-SKIP-UNTIL ${llc.canSkipUntil}`);
      assert.match(text, /^#EXT-X-PROGRAM-DATE-TIME:/m);

      // --- part cadence under a real push: follow the live edge with blocking reloads ---------
      // Each answer must list the part asked for; note when each new part became visible.
      const seen = new Map(); // "msn.index" -> ms when first listed
      let { parts, hint } = partsOf(text);
      const t0 = Date.now();
      const blockingWaits = [];
      while (Date.now() - t0 < 12000) {
        assert.ok(hint, 'every live playlist has an EXT-X-PRELOAD-HINT');
        const url = `${mediaUrl}?_HLS_msn=${hint.msn}&_HLS_part=${hint.index}`;
        const started = Date.now();
        const r = await request(url);
        blockingWaits.push(Date.now() - started);
        assert.equal(r.status, 200, `${url}: ${r.body}`);
        assert.match(r.headers.get('cache-control'), /public, max-age=\d+/,
          'a blocking answer is cacheable by its URL');
        const body = r.body.toString('utf8');
        HLS.parse(body); // strict: throws on a spec violation
        ({ parts, hint } = partsOf(body));
        const now = Date.now();
        for (const x of parts) if (!seen.has(`${x.msn}.${x.index}`)) seen.set(`${x.msn}.${x.index}`, { at: now, ...x });
        const last = parts[parts.length - 1];
        const want = url.match(/_HLS_msn=(\d+)&_HLS_part=(\d+)/).slice(1).map(Number);
        assert.ok(last.msn > want[0] || (last.msn === want[0] && last.index >= want[1]),
          `the answer to ${want.join('.')} lists it (last listed: ${last.msn}.${last.index})`);
      }
      const list = [...seen.values()].sort((a, b) => a.at - b.at);
      assert.ok(list.length >= 20, `followed ${list.length} parts`);
      for (const x of list) {
        assert.ok(x.duration <= PART_TARGET + 1e-9, `part ${x.msn}.${x.index}: ${x.duration} s`);
        assert.equal(x.independent, x.index === 0, `INDEPENDENT=YES on exactly the first part ` +
          `of each segment (2 s GOP): ${x.msn}.${x.index}`);
      }
      // New parts appear within one part target of each other (beyond the first few, which the
      // first request saw at once): the spec's cadence rule, with room for scheduling noise.
      const gaps = [];
      for (let i = 4; i < list.length; i++) gaps.push((list[i].at - list[i - 1].at) / 1000);
      gaps.sort((a, b) => a - b);
      const median = gaps[Math.floor(gaps.length / 2)];
      const p90 = gaps[Math.floor(gaps.length * 0.9)];
      assert.ok(median <= PART_TARGET + 0.05, `median gap between new parts ${median} s`);
      assert.ok(p90 <= 1.5 * PART_TARGET + 0.1, `90th percentile gap ${p90} s`);
      // A blocking request waits about one part, never seconds, while the stream flows.
      blockingWaits.sort((a, b) => a - b);
      assert.ok(blockingWaits[Math.floor(blockingWaits.length / 2)] <= 1000 * PART_TARGET + 150,
        `median blocking wait ${blockingWaits[Math.floor(blockingWaits.length / 2)]} ms`);

      // --- a preload-hinted part, requested before it exists, comes when complete -------------
      {
        const { text: now } = await getPlaylist(mediaUrl);
        const h = partsOf(now).hint;
        const partUrl = `${base}part-${h.msn}.${h.index}.m4s`;
        const started = Date.now();
        const r = await request(partUrl);
        assert.equal(r.status, 200, `${partUrl}`);
        assert.ok(Date.now() - started <= 1000 * PART_TARGET + 500, 'answered when complete');
        assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        const again = await request(partUrl);
        assert.deepEqual(again.body, r.body, 'the hinted part is the part');
        const far = await request(`${base}part-${h.msn + 1}.${h.index + 1}.m4s`);
        assert.equal(far.status, 404, 'a part that is not the next one is not waited for');
      }

      // --- error rules -------------------------------------------------------------------------
      {
        let r = await request(`${mediaUrl}?_HLS_part=1`);
        assert.equal(r.status, 400, '_HLS_part without _HLS_msn');
        assert.equal(r.headers.get('cache-control'), 'no-store');
        assert.match(r.body.toString(), /"error":\{"code":"bad_request"/);
        const newest = partsOf((await getPlaylist(mediaUrl)).text).hint.msn;
        let started = Date.now();
        r = await request(`${mediaUrl}?_HLS_msn=${newest + 3}`);
        assert.equal(r.status, 400, 'three segments ahead: 400');
        assert.ok(Date.now() - started < 500, 'answered at once');
        started = Date.now();
        r = await request(`${mediaUrl}?_HLS_msn=${newest}&_HLS_part=999`);
        assert.equal(r.status, 400, 'a part index no segment can reach: 400');
        r = await request(`${mediaUrl}?_HLS_msn=x`);
        assert.equal(r.status, 400);
        r = await request(`${mediaUrl}?_HLS_msn=1&_HLS_skip=NO`);
        assert.equal(r.status, 400);
        // An old part is in the playlist already: answered at once.
        started = Date.now();
        r = await request(`${mediaUrl}?_HLS_msn=${newest - 1}&_HLS_part=0`);
        assert.equal(r.status, 200);
        assert.ok(Date.now() - started < 300, 'a part already listed is answered at once');
      }

      // --- parts leave the playlist after three target durations but stay downloadable ---------
      {
        const { text: now, playlist } = await getPlaylist(mediaUrl);
        const segs = fullSegments(playlist);
        checkMediaPlaylist(playlist, now, 'LL media playlist');
        const withParts = segs.filter((s) => s.parts && s.parts.length > 0);
        const without = segs.filter((s) => !s.parts || s.parts.length === 0);
        assert.ok(without.length > 0, 'old segments are listed without their parts');
        const listedS = withParts.reduce((s, x) => s + x.duration, 0);
        assert.ok(listedS <= 3 * playlist.targetDuration + 1e-6 + segs[segs.length - 1].duration,
          `parts are listed for the last three target durations only (${listedS} s)`);
        const old = without[without.length - 1];
        const r = await request(`${base}part-${old.mediaSequenceNumber}.0.m4s`);
        assert.equal(r.status, 200, 'a part that left the playlist can still be downloaded');
      }

      // --- delta update -------------------------------------------------------------------------
      await waitPushed(p, 28); // longer than CAN-SKIP-UNTIL (12 s) plus a window's worth
      {
        // Fetch full, delta, full until no segment completed in between, so both describe the
        // same moment (a segment completes every ~2 s; a round trip takes milliseconds).
        let full, r, delta;
        for (let attempt = 0; attempt < 5; attempt++) {
          full = await getPlaylist(mediaUrl);
          r = await request(`${mediaUrl}?_HLS_skip=YES`);
          const after = await getPlaylist(mediaUrl);
          if (fullSegments(after.playlist).at(-1).uri === fullSegments(full.playlist).at(-1).uri) break;
        }
        assert.equal(r.status, 200);
        delta = r.body.toString('utf8');
        const m = /^#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)$/m.exec(delta);
        assert.ok(m, `a delta update has EXT-X-SKIP:\n${delta}`);
        const skipped = Number(m[1]);
        assert.ok(skipped > 0);
        const dpl = HLS.parse(delta);
        // What is left lines up with the full playlist's last segments.
        const fullUris = fullSegments(full.playlist).map((s) => s.uri);
        const deltaUris = fullSegments(dpl).map((s) => s.uri);
        assert.deepEqual(deltaUris, fullUris.slice(fullUris.length - deltaUris.length));
        const deltaStart = dpl.mediaSequenceBase + skipped;
        assert.equal(`seg-${deltaStart}.m4s`, deltaUris[0], 'SKIPPED-SEGMENTS counts from MEDIA-SEQUENCE');
        const skippedS = fullSegments(full.playlist).slice(0, skipped).reduce((s, x) => s + x.duration, 0);
        // What the delta keeps, up to the end of the playlist (the parts of the segment in
        // progress count: the Skip Boundary is measured from the end of the last part).
        const inProgress = dpl.segments.filter((x) => !x.uri)
          .flatMap((x) => x.parts || []).filter((p) => !p.hint).reduce((s, p) => s + p.duration, 0);
        const keptS = fullSegments(dpl).reduce((s, x) => s + x.duration, 0) + inProgress;
        const canSkipUntil = full.playlist.lowLatencyCompatibility.canSkipUntil;
        assert.ok(skippedS > 0);
        assert.ok(keptS >= canSkipUntil - 1e-6, `the delta keeps at least CAN-SKIP-UNTIL (${keptS} s)`);
        // ... and skips everything that ends before the Skip Boundary.
        const firstKept = fullSegments(dpl)[0].duration;
        assert.ok(keptS - firstKept < canSkipUntil + 1e-6,
          `the delta skips every segment that ends before the Skip Boundary (${keptS} s kept)`);
      }

      // --- gzip ----------------------------------------------------------------------------------
      {
        const plain = await rawGet(mediaUrl, {});
        assert.equal(plain.headers['content-encoding'], undefined);
        assert.equal(plain.headers.vary, 'Accept-Encoding');
        const gz = await rawGet(mediaUrl, { 'Accept-Encoding': 'gzip' });
        assert.equal(gz.headers['content-encoding'], 'gzip');
        assert.equal(gz.headers.vary, 'Accept-Encoding');
        const unzipped = zlib.gunzipSync(gz.body).toString('utf8');
        assert.match(unzipped, /^#EXTM3U\n/);
        assert.ok(gz.body.length < unzipped.length / 2, `compressed ${gz.body.length} of ${unzipped.length}`);
        HLS.parse(unzipped);
      }

      // --- HEAD and byte ranges on media (Safari uses both) ----------------------------------
      {
        const seg = fullSegments((await getPlaylist(mediaUrl)).playlist).at(-1);
        const segUrl = `${base}${seg.uri}`;
        const full = await request(segUrl);
        const head = await request(segUrl, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body.length, 0, 'HEAD has no body');
        assert.equal(Number(head.headers.get('content-length')), full.body.length);
        assert.equal(head.headers.get('accept-ranges'), 'bytes');
        assert.equal(head.headers.get('access-control-allow-origin'), '*');
        const range = await request(segUrl, { headers: { Range: 'bytes=100-199' } });
        assert.equal(range.status, 206);
        assert.equal(range.headers.get('content-range'), `bytes 100-199/${full.body.length}`);
        assert.deepEqual(range.body, full.body.subarray(100, 200));
      }

      assert.equal(await pushExit(p, 30000), 0, `ffmpeg: ${p.stderrText()}`);
      // Once ENDLIST is there, delivery directives are ignored: answered at once.
      await sleep(500);
      const started = Date.now();
      const r = await request(`${mediaUrl}?_HLS_msn=99999&_HLS_part=0`);
      const ended = r.body.toString('utf8');
      if (r.status === 200) {
        assert.match(ended, /#EXT-X-ENDLIST/);
        assert.doesNotMatch(ended, /PRELOAD-HINT/, 'no preload hint after ENDLIST');
      } else {
        assert.equal(r.status, 404, 'or the ended window is gone');
      }
      assert.ok(Date.now() - started < 500);
      await stopAndCheck(server);
    } finally {
      await server.kill9();
    }
  });

test('a blocking reload that cannot be answered within three target durations gets 503',
  { timeout: 60000 }, async () => {
    const server = await startServer({ args: ['--part-target', String(PART_TARGET)] });
    try {
      const w = await createWebinar(server, 'Stalled');
      const p = push(server.publishUrl(w.stream_key), { seconds: 30 });
      const { masterUrl } = await waitLive(server, w.slug);
      const mediaUrl = variantUrl(masterUrl, (await getPlaylist(masterUrl)).playlist);
      await waitPushed(p, 3);
      await p.kill('SIGKILL'); // the presenter's connection drops: no new parts (grace period)
      await sleep(500);
      const { text, playlist } = await getPlaylist(mediaUrl);
      const { hint } = partsOf(text);
      const hold = 3 * playlist.targetDuration;
      const started = Date.now();
      const r = await request(`${mediaUrl}?_HLS_msn=${hint.msn}&_HLS_part=${hint.index + 1}`,
        { timeoutMs: 20000 });
      const waited = (Date.now() - started) / 1000;
      assert.equal(r.status, 503, `status after ${waited} s: ${r.body}`);
      assert.equal(r.headers.get('cache-control'), 'no-store', 'a 503 is never cached');
      assert.ok(waited >= hold - 0.2 && waited <= hold + 1.5,
        `held ${waited} s, the limit is 3 x target duration = ${hold} s`);
      await stopAndCheck(server);
    } finally {
      await server.kill9();
    }
  });
