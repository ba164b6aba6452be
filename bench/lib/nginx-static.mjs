// Starts Debian's nginx as a plain static file server (the reference for fan-out figures): two
// workers on a 2-core machine, access_log off, sendfile, keep-alive; files from `root`, with the
// Content-Type and headers given per file extension, in a private prefix on a free loopback port.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './nginx-rtmp.mjs';

// files: { extension: { type: 'content/type', headers: { Name: 'value' } } }.
export async function startNginxStatic(dir, { root, files, workers = 2 }) {
  const port = await freePort();
  for (const d of ['logs', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const typeLines = Object.entries(files).map(([ext, f]) => `${f.type} ${ext};`).join(' ');
  const locations = Object.entries(files).map(([ext, f]) => `location ~ \\.${ext}$ {
      root ${root};
${Object.entries(f.headers || {}).map(([k, v]) => `      add_header ${k} "${v}";`).join('\n')}
    }`).join('\n    ');
  const conf = `
daemon off;
worker_processes ${workers};
worker_rlimit_nofile 20000;
error_log ${dir}/logs/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fcgi; uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  types { ${typeLines} }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    ${locations}
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      break;
    } catch { /* not up yet */ }
  }
  return {
    proc,
    port,
    base: `http://127.0.0.1:${port}`,
    // the master and its workers, for CPU and memory sampling
    pids() {
      const workersPids = execFileSync('pgrep', ['-P', String(proc.pid)]).toString().split('\n').filter(Boolean).map(Number);
      return [proc.pid, ...workersPids];
    },
    conf,
    errorLog: () => readFileSync(join(dir, 'logs/error.log'), 'utf8'),
    stop() { proc.kill('SIGTERM'); },
  };
}
