// RTMP ingest against real presenters and hostile bytes: stream keys are enforced, webinars are
// independent, one publisher per webinar, a bad connection only ever hurts itself, and audio-only
// and video-only pushes are packaged and recorded correctly.
import { before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import {
  test, startServer, stopAndCheck, createWebinar, push, pushExit, waitLive, waitAdvance, liveMsn,
  waitEnded, checkReplay, getPlaylist, apiWebinar, withTimeout,
} from '../lib/harness.mjs';

let server;

before(async () => {
  server = await startServer();
});

/* A refused presenter: ffmpeg must give up with an error, quickly. */
async function expectRefused(p, what) {
  const code = await pushExit(p, 8000, `${what}: ffmpeg to be refused`);
  assert.notEqual(code, 0, `${what}: ffmpeg exit code`);
  assert.ok(Date.now() - p.startedAt < 8000);
}

/* A presenter that must finish normally; returns the session it made (API). */
async function expectFinished(p, slug, what) {
  const code = await pushExit(p, 60000, `${what}: ffmpeg to finish`);
  assert.equal(code, 0, `${what}: ffmpeg exit code; stderr: ${p.stderrText()}`);
  return (await waitEnded(server, slug)).session;
}

test('a wrong stream key or RTMP application is refused; others are served', async () => {
  const a = await createWebinar(server, 'Ingest A');
  const b = await createWebinar(server, 'Ingest B');
  const pa = push(server.publishUrl(a.stream_key), { seconds: 10 });
  const wrongKey = crypto.randomBytes(24).toString('base64url');
  const pw = push(server.publishUrl(wrongKey), { seconds: 10 });
  const wrongApp = server.publishUrl(b.stream_key).replace('/live/', '/notlive/');
  const pApp = push(wrongApp, { seconds: 10 });
  await expectRefused(pw, 'unknown key');
  await expectRefused(pApp, 'wrong application');

  const live = await waitLive(server, a.slug);
  await waitAdvance(server, a.slug, await liveMsn(server, a.slug));
  const session = await expectFinished(pa, a.slug, 'A');
  assert.equal(session.id, live.session.id);
  await checkReplay(server, session.id, { seconds: 10 });
  const wb = await apiWebinar(server, b.slug);
  assert.equal(wb.state, 'scheduled', 'a refused push does not start a session');
  assert.deepEqual(wb.sessions, []);
});

test('two presenters at once; a second publisher with the same key is refused', async () => {
  const b = await createWebinar(server, 'Ingest B2');
  const c = await createWebinar(server, 'Ingest C2');
  const PUSH_S = 14;
  const pb = push(server.publishUrl(b.stream_key), { seconds: PUSH_S });
  const pc = push(server.publishUrl(c.stream_key), { seconds: PUSH_S });
  const [lb, lc] = await Promise.all([waitLive(server, b.slug), waitLive(server, c.slug)]);
  assert.notEqual(lb.session.id, lc.session.id);

  const dup = push(server.publishUrl(b.stream_key), { seconds: 10 });
  await expectRefused(dup, 'second publisher with the same key');
  const wb = await apiWebinar(server, b.slug);
  assert.equal(wb.live, 'running', 'the first publisher is still on air');
  assert.equal(wb.sessions.length, 1);

  // Both advance after the refusal.
  const [mb, mc] = await Promise.all([liveMsn(server, b.slug), liveMsn(server, c.slug)]);
  await Promise.all([waitAdvance(server, b.slug, mb), waitAdvance(server, c.slug, mc)]);

  const [sb, sc] = await Promise.all([expectFinished(pb, b.slug, 'B'),
    expectFinished(pc, c.slug, 'C')]);
  assert.equal(sb.id, lb.session.id, 'B kept its session');
  assert.equal(sc.id, lc.session.id);
  assert.equal((await apiWebinar(server, b.slug)).sessions.length, 1);
  await Promise.all([checkReplay(server, sb.id, { seconds: PUSH_S, what: 'replay of B' }),
    checkReplay(server, sc.id, { seconds: PUSH_S, what: 'replay of C' })]);
});

/* ---- hostile connections ------------------------------------------------------------------- */

function rawConnect() {
  const i = server.rtmpAddr.lastIndexOf(':');
  const sock = net.connect({ host: server.rtmpAddr.slice(0, i),
    port: Number(server.rtmpAddr.slice(i + 1)) });
  let buf = Buffer.alloc(0);
  const waiters = [];
  const closed = new Promise((resolve) => sock.once('close', () => resolve(Date.now())));
  sock.on('error', () => { /* a reset is one way of being closed */ });
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (const w of waiters.splice(0)) w();
  });
  return {
    sock,
    closed,
    ready: new Promise((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    }),
    /* Resolves with the first n received bytes (and consumes them). */
    async read(n, timeoutMs = 5000) {
      await withTimeout((async () => {
        while (buf.length < n) await new Promise((r) => waiters.push(r));
      })(), timeoutMs, `${n} bytes from the RTMP server`);
      const out = buf.subarray(0, n);
      buf = buf.subarray(n);
      return out;
    },
    write(bytes) { if (!sock.destroyed) sock.write(bytes); },
  };
}

/* Asserts the server closes the connection within ms of `since`. */
async function expectClosed(conn, since, ms, what) {
  const at = await withTimeout(conn.closed, ms + 500,
    `${what}: the server to close the connection`);
  assert.ok(at - since <= ms + 500, `${what}: closed after ${at - since} ms`);
}

/* C0+C1, S0+S1+S2, C2: a correct RTMP handshake. */
async function handshake(conn) {
  const c1 = Buffer.concat([Buffer.alloc(8), crypto.randomBytes(1528)]);
  conn.write(Buffer.concat([Buffer.from([3]), c1]));
  const s = await conn.read(1 + 1536 + 1536);
  assert.equal(s[0], 3, 'S0 is RTMP version 3');
  assert.ok(s.subarray(1 + 1536 + 8).equals(c1.subarray(8)), 'S2 echoes C1');
  conn.write(s.subarray(1, 1 + 1536)); // C2 echoes S1
}

/* One RTMP message in a single chunk with a type-0 header. */
function chunk(csid, typeId, payload, declaredLength = payload.length) {
  const h = Buffer.alloc(12);
  h[0] = csid; // fmt 0
  h.writeUIntBE(0, 1, 3); // timestamp
  h.writeUIntBE(declaredLength, 4, 3);
  h[7] = typeId;
  h.writeUInt32LE(0, 8); // message stream id
  return Buffer.concat([h, payload]);
}

test('hostile bytes close only that connection; a live push carries on', async () => {
  const w = await createWebinar(server, 'Ingest hostile');
  const PUSH_S = 22;
  const p = push(server.publishUrl(w.stream_key), { seconds: PUSH_S });
  await waitLive(server, w.slug);
  const msn0 = await liveMsn(server, w.slug);

  const cases = [
    ['garbage (an HTTP request and random bytes)', 3000, async (c) => {
      c.write(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
        crypto.randomBytes(8192)]));
    }],
    // Nothing more arrives: only the handshake deadline (10 s by default) can end it.
    ['truncated handshake', 11000, async (c) => {
      c.write(Buffer.concat([Buffer.from([3]), crypto.randomBytes(700)]));
    }],
    ['valid handshake, then chunk size 0xFFFFFFFF and a 16 MB message', 3000, async (c) => {
      await handshake(c);
      const size = Buffer.alloc(4);
      size.writeUInt32BE(0xFFFFFFFF);
      c.write(chunk(2, 1, size));
      c.write(chunk(3, 20, crypto.randomBytes(65536), 0xFFFFFF));
    }],
    ['valid handshake, then chunk size 0', 3000, async (c) => {
      await handshake(c);
      c.write(chunk(2, 1, Buffer.alloc(4)));
      c.write(chunk(3, 20, crypto.randomBytes(300), 300));
    }],
    ['valid handshake, then an AMF0 command with a string longer than the message', 3000,
      async (c) => {
        await handshake(c);
        // "connect" as AMF0 string, then a string marker claiming 65535 bytes.
        const amf = Buffer.from([0x02, 0x00, 0x07, ...Buffer.from('connect'), 0x00,
          0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x02, 0xff, 0xff, 0x41, 0x41]);
        c.write(chunk(3, 20, amf));
      }],
  ];
  await Promise.all(cases.map(async ([what, ms, act]) => {
    const c = rawConnect();
    await c.ready;
    await act(c);
    const since = Date.now();
    try {
      await expectClosed(c, since, ms, what);
    } finally {
      c.sock.destroy();
    }
  }));

  // The real presenter was not disturbed, and the server still answers.
  const after = await waitAdvance(server, w.slug, await liveMsn(server, w.slug));
  assert.ok(after > msn0);
  const s = await expectFinished(p, w.slug, 'presenter during the attack');
  await checkReplay(server, s.id, { seconds: PUSH_S });
});

/* ---- single-track presenters --------------------------------------------------------------- */

async function singleTrack(title, opts, expect) {
  const w = await createWebinar(server, title);
  const PUSH_S = 10;
  const p = push(server.publishUrl(w.stream_key), { seconds: PUSH_S, ...opts });
  const live = await waitLive(server, w.slug);
  const { playlist } = await getPlaylist(live.masterUrl);
  const v = playlist.variants[0];
  const codecs = v.codecs.split(',').map((x) => x.trim().replace(/\..*/, '')).sort();
  assert.deepEqual(codecs, expect.codecs, `${title}: CODECS="${v.codecs}"`);
  if (expect.resolution) assert.deepEqual(v.resolution, expect.resolution);
  else assert.equal(v.resolution, undefined, `${title}: no RESOLUTION without video`);
  await waitAdvance(server, w.slug, await liveMsn(server, w.slug));
  const code = await pushExit(p, 40000);
  assert.equal(code, 0, `${title}: ffmpeg exit code; stderr: ${p.stderrText()}`);
  const { session } = await waitEnded(server, w.slug);
  const { probe } = await checkReplay(server, session.id, { seconds: PUSH_S,
    video: opts.video !== false, audio: opts.audio !== false, what: `${title} replay` });
  const a = probe.streams.find((x) => x.codec_type === 'audio');
  if (expect.sampleRate)
    assert.equal(`${a.codec_name} ${a.sample_rate} ${a.channels}`,
      `aac ${expect.sampleRate} ${expect.channels}`, `${title}: replay audio`);
  const vid = probe.streams.find((x) => x.codec_type === 'video');
  if (expect.resolution)
    assert.equal(`${vid.codec_name} ${vid.width}x${vid.height}`, 'h264 640x360');
}

test('audio-only and video-only presenters', { concurrency: 3 }, async (t) => {
  await Promise.all([
    t.test('audio only, mono 44.1 kHz', () => singleTrack('Audio mono',
      { video: false, sampleRate: 44100, channels: 1 },
      { codecs: ['mp4a'], sampleRate: 44100, channels: 1 })),
    t.test('audio only, stereo 48 kHz', () => singleTrack('Audio stereo',
      { video: false, sampleRate: 48000, channels: 2 },
      { codecs: ['mp4a'], sampleRate: 48000, channels: 2 })),
    t.test('video only', () => singleTrack('Video only', { audio: false },
      { codecs: ['avc1'], resolution: { width: 640, height: 360 } })),
  ]);
});

test('the server shuts down cleanly; its log has no IP address and no stream key', async () => {
  // Refused and hostile connections may be logged as errors by the ingest, nothing else.
  await stopAndCheck(server, { allowErrors: / ERROR (rtmp|ingest)\b/ });
});
