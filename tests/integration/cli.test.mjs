// The command line: help texts, option errors, the config file, the webinar tools, and
// `serve --demo`, which must go live by itself and end cleanly.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  test, startServer, stopAndCheck, assertCleanLog, runLectern, lecternJSON, showWebinar,
  createWebinar, makeTempDir, waitFor, waitEnded, push, pushExit, getPlaylist, variantUrl,
  checkMediaPlaylist, ffprobeJSON, apiWebinar, HLS,
} from '../lib/harness.mjs';

const SERVE_OPTIONS = ['--http', '--rtmp', '--data-dir', '--log-level', '--config',
  '--public-url', '--rtmp-url', '--part-target', '--segment-target', '--window-segments',
  '--grace', '--demo'];

test('lectern --help and lectern serve --help', async () => {
  const top = await runLectern(['--help']);
  assert.equal(top.code, 0);
  for (const cmd of ['lectern serve', 'lectern webinar create', 'lectern webinar show'])
    assert.ok(top.stdout.includes(cmd), `--help mentions ${cmd}:\n${top.stdout}`);

  const serve = await runLectern(['serve', '--help']);
  assert.equal(serve.code, 0);
  for (const opt of SERVE_OPTIONS) {
    // Each option on a line of its own, with a description after it.
    const line = serve.stdout.split('\n').find((l) => new RegExp(`^\\s+${opt}\\b`).test(l));
    assert.ok(line, `serve --help documents ${opt}:\n${serve.stdout}`);
    assert.match(line, new RegExp(`${opt}(\\s+[A-Z:-]+)?\\s{2,}\\S`), `${opt} has a description`);
  }

  const none = await runLectern([]);
  assert.equal(none.code, 2, 'no command: usage, exit 2');
  assert.match(none.stderr, /Usage/);
});

test('unknown options and commands: exit 2 with a message', async () => {
  const r1 = await runLectern(['serve', '--no-such-option']);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /no-such-option/);
  const r2 = await runLectern(['frobnicate']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /frobnicate/);
  const r3 = await runLectern(['serve', '--grace', 'soon']);
  assert.equal(r3.code, 2, 'a bad value is an error');
  assert.match(r3.stderr, /--grace/);
  const r4 = await runLectern(['webinar', 'create', '--data-dir', await makeTempDir('cli')]);
  assert.equal(r4.code, 2, 'create without --title');
  assert.match(r4.stderr, /--title/);
});

test('webinar show of an unknown id or slug fails with a message', async () => {
  const dir = await makeTempDir('cli');
  for (const what of ['424242', 'no-such-slug']) {
    const r = await runLectern(['webinar', 'show', what, '--data-dir', dir, '--json']);
    assert.notEqual(r.code, 0, `show ${what}: exit code`);
    assert.match(r.stderr, new RegExp(what), `show ${what}: message names it`);
    assert.equal(r.stdout, '', 'nothing on stdout');
  }
});

test('webinar list and show, as text and as JSON', async () => {
  const dir = await makeTempDir('cli');
  const a = await lecternJSON(['webinar', 'create', '--title', 'First', '--data-dir', dir]);
  const b = await lecternJSON(['webinar', 'create', '--title', 'Second', '--data-dir', dir]);
  const text = await runLectern(['webinar', 'list', '--data-dir', dir]);
  assert.equal(text.code, 0);
  assert.ok(text.stdout.includes(a.slug) && text.stdout.includes(b.slug), text.stdout);
  assert.ok(!text.stdout.includes(a.stream_key), 'list never shows a stream key');
  const list = await lecternJSON(['webinar', 'list', '--data-dir', dir]);
  assert.deepEqual(list.webinars.map((w) => w.slug).sort(), [a.slug, b.slug].sort());
  assert.ok(list.webinars.every((w) => w.stream_key === undefined), 'no keys in the list');
  const bySlug = await lecternJSON(['webinar', 'show', b.slug, '--data-dir', dir]);
  assert.equal(bySlug.id, b.id);
  assert.equal(bySlug.stream_key, undefined, 'show never shows the key');
});

test('webinar rotate-key: the old key stops working, the new one publishes', async () => {
  const server = await startServer();
  const w = await createWebinar(server, 'Rotated');
  const r = await lecternJSON(['webinar', 'rotate-key', w.slug, '--data-dir', server.dataDir]);
  assert.match(r.stream_key, /^[A-Za-z0-9_-]{22,}$/);
  assert.notEqual(r.stream_key, w.stream_key);
  const old = push(server.publishUrl(w.stream_key), { seconds: 4 });
  assert.notEqual(await pushExit(old, 8000, 'the old key to be refused'), 0);
  const fresh = push(server.publishUrl(r.stream_key), { seconds: 4 });
  assert.equal(await pushExit(fresh, 20000), 0, `new key: ${fresh.stderrText()}`);
  const { session } = await waitEnded(server, w.slug);
  assert.ok(session.duration_s > 3, `a session of ${session.duration_s} s was recorded`);
  await stopAndCheck(server);
});

test('--config file is honoured by serve and by the tools; flags win over it', async () => {
  const dir = await makeTempDir('cfg');
  const dataDir = path.join(dir, 'from-config');
  const conf = path.join(dir, 'lectern.conf');
  await fsp.writeFile(conf, [
    '# lectern test configuration',
    `data-dir = ${dataDir}`,
    'public-url = http://webinars.example.test',
    'http = 127.0.0.1:1', // overridden by the harness's --http flag
    '',
    'window-segments = 4',
  ].join('\n'));
  // The tool reads the data directory from the file.
  const w = await lecternJSON(['webinar', 'create', '--title', 'Configured', '--config', conf]);
  assert.equal(w.watch_url, `http://webinars.example.test/watch/${w.slug}`);
  await fsp.access(path.join(dataDir, 'lectern.db'));

  // serve: the file's data directory (no --data-dir flag), the flags' addresses.
  const server = await startServer({ dataDir, dataDirFlag: false, args: ['--config', conf] });
  assert.match(server.stdoutText(), /http:\/\/webinars\.example\.test\//, 'public-url printed');
  assert.doesNotMatch(server.httpAddr, /:1$/, 'the --http flag wins over the file');
  const api = await apiWebinar(server, w.slug);
  assert.equal(api.id, w.id, 'the server uses the data directory of the config file');
  await stopAndCheck(server);

  const bad = path.join(dir, 'bad.conf');
  await fsp.writeFile(bad, 'grace = 5\nthis line has no equals sign\n');
  const r = await runLectern(['serve', '--config', bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.conf:2/, 'the message names the file and line');
  const missing = await runLectern(['serve', '--config', path.join(dir, 'nope.conf')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope\.conf/);
});

test('serve on port 0 prints and serves the ports it actually bound', async () => {
  const server = await startServer();
  const rtmpPort = server.rtmpAddr.slice(server.rtmpAddr.lastIndexOf(':') + 1);
  const httpPort = server.httpAddr.slice(server.httpAddr.lastIndexOf(':') + 1);
  assert.notEqual(rtmpPort, '0');
  const out = server.stdoutText();
  assert.match(out, new RegExp(`RTMP:\\s+rtmp://[^\\s/]+:${rtmpPort}/live\\s`),
    `the banner's RTMP URL names the bound port:\n${out}`);
  assert.match(out, new RegExp(`Web:\\s+http://[^\\s/]+:${httpPort}/`),
    `the banner's web URL names the bound port:\n${out}`);
  const w = await lecternJSON(['webinar', 'create', '--title', 'Ports', '--data-dir',
    server.dataDir]);
  const api = await apiWebinar(server, w.slug);
  assert.match(api.rtmp_url, new RegExp(`:${rtmpPort}/live$`),
    `the API's rtmp_url (${api.rtmp_url}) names the bound RTMP port`);
  await stopAndCheck(server);
});

test('serve --demo goes live by itself and SIGTERM ends it with a replay',
  async () => {
    const server = await startServer({ args: ['--demo'] });
    // The demo is open to anyone: the public API hands out its live URL.
    const masterUrl = server.url((await apiWebinar(server, 'demo')).hls_url);
    const mediaUrl = await waitFor(async () => {
      const { playlist } = await getPlaylist(masterUrl);
      const url = variantUrl(masterUrl, playlist);
      const r = await getPlaylist(url);
      checkMediaPlaylist(r.playlist, r.text, 'demo live playlist');
      return url;
    }, 15000, 'the demo to be live', 250);
    const probe = await ffprobeJSON(masterUrl, { timeoutMs: 30000 });
    const types = probe.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort();
    assert.deepEqual(types, ['audio:aac', 'video:h264'], 'the demo has H.264 video and AAC audio');
    const api = await apiWebinar(server, 'demo');
    assert.equal(api.live, 'running');

    assert.equal(await server.stop('SIGTERM'), 0, 'exit code after SIGTERM');
    const shown = await showWebinar(server, 'demo');
    assert.equal(shown.state, 'ended');
    const s = shown.sessions[shown.sessions.length - 1];
    assert.equal(s.state, 'ended');
    assert.equal(s.recovered, false);
    assert.ok(s.replay_url, 'the demo session has a replay');
    assert.ok(s.duration_s > 2, `demo duration ${s.duration_s} s`);
    const text = await fsp.readFile(path.join(server.dataDir, 'recordings', String(s.id),
      'index.m3u8'), 'utf8');
    const pl = HLS.parse(text);
    assert.equal(pl.endlist, true, 'the demo replay is final (EXT-X-ENDLIST)');
    assert.equal(mediaUrl, new URL(`${s.id}/index.m3u8`, masterUrl).href, `session ${s.id}`);
    assertCleanLog(server);
  });
