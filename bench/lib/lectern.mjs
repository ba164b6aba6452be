// Shared pieces of the benchmarks that run a real lectern: the pre-encoded presenter source, a
// release lectern on free loopback ports in a private data directory, the ffmpeg push, the live
// media playlist's URL, and the versions and machine a result was measured on.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './nginx-rtmp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const defaultLecternBin = join(repoRoot, 'build-release', 'lectern');

// The presenter's stream, encoded once so that the push is a copy (no encoder in the loop):
// 720p25, 2.5 Mbit/s H.264 with a 2 s GOP (videoKbps to change the rate), AAC stereo 128 kbit/s,
// in FLV (copied into RTMP as is).
export function encodeSource(path, seconds, { videoKbps = 2500 } = {}) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
    `testsrc2=size=1280x720:rate=25:duration=${seconds}`, '-f', 'lavfi', '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`, '-c:v', 'libx264',
    '-preset', 'veryfast', '-b:v', `${videoKbps}k`, '-g', '50', '-keyint_min', '50', '-sc_threshold', '0',
    '-c:a', 'aac', '-ac', '2', '-b:a', '128k', path]);
  return path;
}

// Builds what a benchmark needs: the release server in build-release/ (configured once, then
// incrementally; skipped with `release: false`, e.g. when the caller was given a binary) and the
// C load generators (make -C bench). Throws with the tool's output when a step fails.
export function buildForBench({ release = true } = {}) {
  const run = (cmd, argv, what) => {
    const r = spawnSync(cmd, argv, { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${what} failed:\n${r.stdout}${r.stderr}`);
  };
  if (release) {
    if (!existsSync(join(repoRoot, 'build-release', 'CMakeCache.txt')))
      run('cmake', ['-S', '.', '-B', 'build-release', '-DCMAKE_BUILD_TYPE=Release', '-DLECTERN_TESTS=OFF'], 'cmake');
    run('cmake', ['--build', 'build-release', '--parallel', String(cpus().length)], 'cmake --build');
  }
  run('make', ['-s', '-C', 'bench'], 'make -C bench (libhttp-parser-dev installed? scripts/setup --test)');
}

// Starts `lectern serve` on free loopback ports with its data in `dataDir`; resolves once it
// printed "lectern: ready". stop() sends SIGTERM.
export async function startLectern({ bin = defaultLecternBin, dataDir, serveArgs = [],
  logLevel = 'warn' }) {
  if (!existsSync(bin)) throw new Error(`no lectern binary at ${bin}: run scripts/run once, or pass --lectern`);
  const httpPort = await freePort(), rtmpPort = await freePort();
  const common = ['--data-dir', dataDir, '--http', `127.0.0.1:${httpPort}`, '--rtmp', `127.0.0.1:${rtmpPort}`];
  const proc = spawn(bin, ['serve', ...common, '--log-level', logLevel, ...serveArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; if (out.includes('lectern: ready')) resolve(); });
    proc.once('exit', (c) => reject(new Error('lectern exited ' + c)));
  });
  return {
    proc, bin, httpPort, rtmpPort, dataDir,
    httpBase: `http://127.0.0.1:${httpPort}`,
    rtmpBase: `rtmp://127.0.0.1:${rtmpPort}/live`,
    // { slug, stream_key, hls_url, ... } from `lectern webinar create --json`: a public webinar,
    // watched without registering (hls_url is the organiser's URL of its live stream)
    createWebinar(title = 'bench') {
      return JSON.parse(execFileSync(bin, ['webinar', 'create', '--title', title, '--public', '--json',
        ...common]));
    },
    stop() { proc.kill('SIGTERM'); },
  };
}

// Pushes `source` with -re -c copy to `target` (an RTMP URL, or a tee muxer spec with tee: true),
// looping the file when `loop` (for runs longer than the source), for `seconds`.
export function startPush({ source, target, seconds, loop = false, tee = false, progress = false }) {
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
    ...(loop ? ['-stream_loop', '-1'] : []), '-i', source, '-t', String(seconds), '-map', '0',
    '-c', 'copy', ...(progress ? ['-progress', 'pipe:1', '-stats_period', '0.1'] : []),
    '-f', tee ? 'tee' : 'flv', target];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', progress ? 'pipe' : 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const done = new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stderr })));
  return { proc, done, stderr: () => stderr, stop() { proc.kill('SIGKILL'); } };
}

// The current session's media playlist URL, from the webinar's multivariant playlist (its hls_url,
// e.g. from createWebinar); waits for the stream to be playable (up to `timeoutMs`).
export async function mediaPlaylistUrl(masterUrl, timeoutMs = 15000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const res = await fetch(masterUrl).catch(() => null);
    if (res && res.ok) {
      const uri = (await res.text()).split('\n').find((l) => l && !l.startsWith('#'));
      if (uri) return new URL(uri, res.url).href;
    }
    await sleep(50);
  }
  throw new Error('lectern never published a playlist');
}

// Waits until the media playlist lists `minParts` EXT-X-PART lines (LL-HLS) and returns true, or
// returns false after `timeoutMs` if it never does (a server without Low-Latency HLS).
export async function waitForParts(url, { minParts = 4, timeoutMs = 10000 } = {}) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const res = await fetch(url).catch(() => null);
    if (res && res.ok) {
      const text = await res.text();
      if ((text.match(/^#EXT-X-PART:/gm) || []).length >= minParts) return true;
    }
    await sleep(200);
  }
  return false;
}

function firstLine(cmd, args, fromStderr = false) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return ((fromStderr ? r.stderr : r.stdout) || r.stderr || r.stdout).split('\n')[0].trim();
}

// Versions of everything a figure depends on, as the tools report them.
export function versions(lecternBin = defaultLecternBin) {
  return {
    lectern: existsSync(lecternBin) ? firstLine(lecternBin, ['--version']) : 'not built',
    lectern_commit: firstLine('git', ['-C', repoRoot, 'log', '-1', '--format=%h %s']),
    lectern_worktree_changes: spawnSync('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no', '--', 'server'],
      { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).length,
    nginx: firstLine('nginx', ['-v'], true),
    ffmpeg: firstLine('ffmpeg', ['-version']),
    wrk: firstLine('wrk', ['-v']),
    curl: firstLine('curl', ['--version']),
    node: process.version,
  };
}

export function machine() {
  let os = '';
  try { os = 'Debian ' + readFileSync('/etc/debian_version', 'utf8').trim(); } catch { /* not Debian */ }
  return {
    nproc: Number(execFileSync('nproc').toString().trim()),
    cpu: cpus()[0].model,
    kernel: execFileSync('uname', ['-r']).toString().trim(),
    os,
    memory_gib: Math.round(Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)[1]) / 1048576),
    nofile: { soft: Number(execFileSync('sh', ['-c', 'ulimit -Sn']).toString()), hard: Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString()) },
  };
}
