import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What the benchmark reads about other processes, straight from Linux /proc: no sampling agent
 * inside the product, so the product runs exactly as shipped.
 */

/** Clock ticks per second for /proc/<pid>/stat times (getconf CLK_TCK; 100 on every Linux we run on). */
const CLK_TCK = 100;

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
 * User + system CPU time consumed so far, in milliseconds (10 ms resolution): the whole process,
 * or with `thread` one of its threads (the main thread's id is the pid).
 */
export function cpuMs(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  // the command name may contain spaces and parentheses: fields start after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
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
