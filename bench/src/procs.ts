import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What the benchmark reads about other processes, straight from Linux /proc: no sampling agent
 * inside the product, so the product runs exactly as shipped.
 */

/** Resident set size in bytes (VmRSS), or null when the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU time consumed so far, in milliseconds: the whole process, or with `thread` one of its
 * threads (the main thread's id is the pid). Read from each thread's `schedstat` (nanoseconds on
 * a CPU), not from `stat`'s utime + stime, which count in 10 ms clock ticks: at one stream a pass
 * is ~200 tokens, so those figures moved in steps of 50 µs a token. A thread that exits keeps the
 * time it had when last read here (the kernel no longer lists it), so a process's figure never
 * goes back.
 */
export function cpuMs(pid: number, thread?: number): number {
  if (thread !== undefined) return (taskCpuNs(pid, thread) ?? 0) / 1e6;
  const seen = threadsSeen.get(pid) ?? new Map<number, number>();
  threadsSeen.set(pid, seen);
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const ns = taskCpuNs(pid, Number(tid));
    if (ns !== null) seen.set(Number(tid), ns);
  }
  let ns = 0;
  for (const v of seen.values()) ns += v;
  return ns / 1e6;
}

/** per process, every thread's CPU ns when last read (see cpuMs) */
const threadsSeen = new Map<number, Map<number, number>>();

function taskCpuNs(pid: number, tid: number): number | null {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null; // exited meanwhile
  }
}

/** Direct child processes of `pid` (from every thread's `children` list). */
export function childPids(pid: number): number[] {
  const out = new Set<number>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        if (c.trim()) out.add(Number(c));
      }
    } catch {
      /* thread exited meanwhile */
    }
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The TCP port `pid` listens on (IPv4), found by matching its socket inodes against
 * /proc/net/tcp: the control plane is started with PORT=0 and LOG_LEVEL=warn, so it never prints
 * its address.
 */
export function listeningPort(pid: number): number | null {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  if (inodes.size === 0) return null;
  const table = readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1);
  for (const line of table) {
    const f = line.trim().split(/\s+/);
    // f[1] local address HEX_IP:HEX_PORT, f[3] state (0A = LISTEN), f[9] inode
    if (f[3] === '0A' && f[9] !== undefined && inodes.has(f[9])) return parseInt(f[1]!.split(':')[1]!, 16);
  }
  return null;
}

/** A settled RSS reading: waits, then the median of a few samples, so one GC does not decide it. */
export async function settledRss(pid: number, opts: { waitMs?: number; samples?: number; gapMs?: number } = {}): Promise<number> {
  await sleep(opts.waitMs ?? 1000);
  const values: number[] = [];
  for (let i = 0; i < (opts.samples ?? 5); i++) {
    const v = rssBytes(pid);
    if (v === null) throw new Error(`process ${pid} is gone`);
    values.push(v);
    if (i + 1 < (opts.samples ?? 5)) await sleep(opts.gapMs ?? 200);
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Bytes `pid` has handed to write-like system calls so far (/proc/<pid>/io `wchar`: files and
 * sockets alike, whether or not they reached a disk), or NaN when it cannot be read.
 */
export function bytesWritten(pid: number): number {
  try {
    const m = /^wchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
