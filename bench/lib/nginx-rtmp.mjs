// Starts Debian's nginx with libnginx-mod-rtmp configured for HLS (the reference we compare
// against), in a private prefix directory on loopback ports. Stops by itself with the bench.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// fragment: nginx-rtmp's hls_fragment in seconds (segments end on the first keyframe after it).
// cors: answer HLS requests with Access-Control-Allow-Origin: * (for a player on another origin,
// e.g. a page served by the bench itself).
export async function startNginxRtmp(dir, { fragment = 2, playlistLength = 12,
  cors = false } = {}) {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  for (const d of ['hls', 'logs', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const conf = `
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/logs/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    application live {
      live on;
      hls on;
      hls_path ${dir}/hls;
      hls_fragment ${fragment}s;
      hls_playlist_length ${playlistLength}s;
    }
  }
}
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fcgi; uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${httpPort};
    location /hls/ {
      alias ${dir}/hls/;
      types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
      add_header Cache-Control no-cache;${cors ? `
      add_header Access-Control-Allow-Origin *;` : ''}
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    try {
      await fetch(`http://127.0.0.1:${httpPort}/hls/`);
      break;
    } catch { /* not up yet */ }
  }
  return {
    proc,
    rtmpBase: `rtmp://127.0.0.1:${rtmpPort}/live`,
    httpBase: `http://127.0.0.1:${httpPort}/hls`,
    playlistUrl: (name) => `http://127.0.0.1:${httpPort}/hls/${name}.m3u8`,
    errorLog: () => readFileSync(join(dir, 'logs/error.log'), 'utf8'),
    stop() { proc.kill('SIGTERM'); },
  };
}
