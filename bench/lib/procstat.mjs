// Samples a process's CPU time (/proc/PID/stat utime + stime) and resident memory
// (/proc/PID/status VmRSS), and the whole machine's busy time (/proc/stat), once per interval.
// CPU is in percent of one core (a 2-core machine tops out at 200 %).
import { readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ: clock ticks per second in /proc (100 on Linux everywhere)

// A name may stand for several processes (nginx's master and workers): their sum.
function procTimes(pids) {
  return [].concat(pids).reduce((sum, pid) => sum + procTimes1(pid), 0);
}

function rssKiB(pids) {
  return [].concat(pids).reduce((sum, pid) => sum + rssKiB1(pid), 0);
}

// CPU seconds (user + system) a process has used so far.
export const cpuSeconds = (pid) => procTimes1(pid);

// A process's memory now, in KiB: resident (VmRSS, and its anonymous part RssAnon) from
// /proc/PID/status, and its proportional share (Pss: shared pages divided among the processes
// that map them) from /proc/PID/smaps_rollup when the kernel has it (else null).
export function memoryKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (text, name) => {
    const m = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  };
  let pss = null;
  try { pss = field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss'); } catch { /* old kernel */ }
  return { rss: field(status, 'VmRSS'), rss_anon: field(status, 'RssAnon'), pss };
}

function procTimes1(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) "
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime, stime: fields 14, 15
}

function rssKiB1(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)\s+kB/);
  return m ? Number(m[1]) : NaN;
}

function machineTimes() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + cpu[4]; // idle + iowait
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q, lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5);

// Starts sampling `pids` ({name: pid or [pids]}; names may be added while it runs, their first
// sample has no CPU figure); each sample is {t (s since start), [name]: {cpu_pct, rss_kib},
// machine_busy_pct}. stop() returns the samples.
export function sampleProcs(pids, intervalMs = 1000) {
  const t0 = performance.now();
  const samples = [];
  let last = { t: t0, machine: machineTimes(), procs: {} };
  for (const [name, pid] of Object.entries(pids)) {
    try { last.procs[name] = procTimes(pid); } catch { last.procs[name] = NaN; }
  }
  const timer = setInterval(() => {
    const now = performance.now(), m = machineTimes();
    const dt = (now - last.t) / 1000;
    // busy core-seconds per second, in percent of one core like the processes' figures
    const s = { t: (now - t0) / 1000, machine_busy_pct: 100 * (m.busy - last.machine.busy) / dt };
    const procs = {};
    for (const [name, pid] of Object.entries(pids)) {
      try {
        const cpu = procTimes(pid);
        s[name] = { cpu_pct: 100 * (cpu - last.procs[name]) / dt, rss_kib: rssKiB(pid) };
        procs[name] = cpu;
      } catch { s[name] = null; procs[name] = NaN; } // the process is gone
    }
    samples.push(s);
    last = { t: now, machine: m, procs };
  }, intervalMs);
  return { stop() { clearInterval(timer); return samples; } };
}

// Summary of the samples whose t lies in [from, to): mean CPU %, median and peak RSS.
export function summarizeSamples(samples, name, from = 0, to = Infinity) {
  const sel = samples.filter((s) => s.t >= from && s.t < to && s[name]);
  const cpu = sel.map((s) => s[name].cpu_pct).filter(Number.isFinite);
  const rss = sel.map((s) => s[name].rss_kib).filter(Number.isFinite);
  const busy = sel.map((s) => s.machine_busy_pct);
  const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  return {
    samples: sel.length,
    cpu_pct_mean: mean(cpu),
    cpu_pct_median: median(cpu),
    rss_mib_median: median(rss) / 1024,
    rss_mib_max: Math.max(...rss) / 1024,
    machine_busy_pct_mean: mean(busy),
  };
}
