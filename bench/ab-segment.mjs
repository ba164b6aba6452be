#!/usr/bin/env node
// A/B of two lectern builds serving one 2 s segment: both run side by side (free loopback ports,
// temporary data), one ffmpeg push feeds both through the tee muxer, and wrk fetches the newest
// segment from A, then B, alternating `reps` times, so that the noise of a shared machine falls
// on both alike. Prints each run and the medians. Loopback only; stops by itself.
//
//   node bench/ab-segment.mjs BIN_A BIN_B [connections 1000] [seconds 10] [reps 3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeSource, startLectern, startPush, mediaPlaylistUrl } from './lib/lectern.mjs';
const [binA, binB] = process.argv.slice(2, 4);
const conns = Number(process.argv[4] || 1000), secs = Number(process.argv[5] || 10), reps = Number(process.argv[6] || 3);
const dir = mkdtempSync(join(tmpdir(), 'ab-'));
const src = encodeSource(join(dir, 's.flv'), 60);
const servers = [];
for (const [i, bin] of [binA, binB].entries())
  servers.push(await startLectern({ bin, dataDir: join(dir, 'd' + i), serveArgs: ['--window-segments', '8'] }));
const ws = servers.map((s) => s.createWebinar('ab'));
const tee = servers.map((s, i) => `[f=flv:onfail=abort]${s.rtmpBase}/${ws[i].stream_key}`).join('|');
const push = startPush({ source: src, target: tee, seconds: 600, loop: true, tee: true });
const urls = [];
for (const w of ws) urls.push(await mediaPlaylistUrl(w.hls_url));
await sleep(8000);
const out = { A: [], B: [] };
for (let r = 0; r < reps; r++) {
  for (const [i, name] of [[0, 'A'], [1, 'B']]) {
    const pl = await (await fetch(urls[i])).text();
    const seg = pl.split('\n').filter((l) => l.startsWith('seg-')).at(-1);
    const u = new URL(seg, urls[i]).href;
    const w = spawnSync('wrk', ['-t2', `-c${conns}`, `-d${secs}s`, u], { encoding: 'utf8' });
    const m = /Requests\/sec:\s+([\d.]+)/.exec(w.stdout);
    out[name].push(m ? Number(m[1]) : NaN);
    console.log(name, seg, m ? m[1] : w.stdout);
  }
}
const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(JSON.stringify({ conns, secs, A: out.A, B: out.B, medianA: med(out.A), medianB: med(out.B), ratioBA: med(out.B) / med(out.A) }));
push.stop(); for (const s of servers) s.stop();
await sleep(500); rmSync(dir, { recursive: true, force: true });
