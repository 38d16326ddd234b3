/**
 * Helpers for the chaos-*.test.ts files: a TCP proxy in front of /ws/vm that can cut, half-open,
 * refuse and throttle the planes' sockets; the checks every fault ends with (runs done, ids
 * contiguous and equal to a replay, answers whole, /vm/status truthful); and a scan for plane
 * processes a platform left behind.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Socket, type Server } from 'node:net';
import path from 'node:path';
import { expect } from 'vitest';
import { clientText, openEventsWith, readSse, slowText, strictlyIncreasing, waitFor, type Platform, type SseFrame } from './harness.js';

export const isDone = (f: SseFrame) => f.event === 'done';
export const doneOf = (runId: string) => (f: SseFrame) => f.event === 'done' && f.data.runId === runId;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const count = (s: string, needle: string) => s.split(needle).length - 1;

export { clientText, slowText };

/** Measured recovery timings, printed so a run of the suite shows them. */
export function timing(name: string, ms: number): void {
  console.log(`[chaos timing] ${name}: ${Math.round(ms)} ms`);
}

export interface ProxyConn {
  client: Socket;
  upstream: Socket;
  openedAt: number;
  /** the plane instance on this connection (read from the control plane's `init` frame) */
  instanceId(): string | null;
}

/**
 * A TCP proxy on a free loopback port. Planes are told to dial it (SEMIBOT_PUBLIC_WS_URL); `target`
 * is set once the control plane's port is known. Faults: `cut` destroys every proxied pair (both
 * sides see the socket die), `halfOpen` destroys only the plane's side and leaves the control
 * plane's socket open and silent, `refuse` stops listening (connection refused) until `accept`,
 * `throttle` slows the control plane → plane direction.
 */
export interface TcpProxy {
  readonly port: number;
  readonly wsUrl: string;
  target: number;
  /** pairs currently proxied */
  readonly live: ProxyConn[];
  /** time each accepted connection was opened */
  readonly accepted: number[];
  /** control plane → plane bytes, as text, per connection (sniffing for frame types) */
  readonly downstream: string[];
  /** cuts the connections of one plane instance (all when omitted); returns how many */
  cut(instanceId?: string): number;
  halfOpen(instanceId: string): { upstreams: Socket[]; at: number };
  refuse(): void;
  accept(): Promise<void>;
  throttle(bytesPerSecond: number | null): void;
  /** resolves with the time of the first connection accepted after `since` */
  nextAccept(since: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export async function startTcpProxy(): Promise<TcpProxy> {
  const live: ProxyConn[] = [];
  const accepted: number[] = [];
  const downstream: string[] = [];
  const held: Socket[] = [];
  let rate: number | null = null;
  let server: Server;
  let port = 0;

  const onConnection = (client: Socket) => {
    const openedAt = Date.now();
    accepted.push(openedAt);
    const index = downstream.push('') - 1;
    const upstream = new Socket();
    const pair: ProxyConn = {
      client,
      upstream,
      openedAt,
      instanceId: () => /"type":"init"[^}]*?"instanceId":"([^"]+)"/.exec(downstream[index]!)?.[1] ?? null,
    };
    live.push(pair);
    const drop = () => {
      const i = live.indexOf(pair);
      if (i >= 0) live.splice(i, 1);
      client.destroy();
      upstream.destroy();
    };
    upstream.connect(proxy.target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      downstream[index] += d.toString('latin1');
      if (rate === null) return void client.write(d);
      // throttled: hold the upstream until this chunk's share of the rate has passed
      upstream.pause();
      client.write(d);
      setTimeout(() => upstream.resume(), (d.length / rate) * 1000);
    });
    client.on('close', drop);
    client.on('error', drop);
    upstream.on('close', drop);
    upstream.on('error', drop);
  };

  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server = createServer(onConnection);
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve());
    });
  await listen(0);
  port = (server!.address() as { port: number }).port;

  const proxy: TcpProxy = {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws/vm`,
    target: 0,
    live,
    accepted,
    downstream,
    cut(instanceId) {
      const mine = live.filter((c) => instanceId === undefined || c.instanceId() === instanceId);
      for (const c of mine) {
        c.client.destroy();
        c.upstream.destroy();
      }
      return mine.length;
    },
    halfOpen(instanceId) {
      const upstreams: Socket[] = [];
      for (const c of live.filter((x) => x.instanceId() === instanceId)) {
        // detach the upstream from the pair: it stays open, nothing more flows through it
        c.upstream.removeAllListeners('data');
        c.upstream.removeAllListeners('close');
        c.upstream.removeAllListeners('error');
        c.upstream.on('error', () => {});
        c.upstream.pause();
        held.push(c.upstream);
        upstreams.push(c.upstream);
        live.splice(live.indexOf(c), 1);
        c.client.removeAllListeners('close');
        c.client.destroy();
      }
      return { upstreams, at: Date.now() };
    },
    refuse() {
      server.close(); // stops listening at once; established connections are left alone
    },
    async accept() {
      if (server.listening) return;
      await listen(port);
    },
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    nextAccept(since, timeoutMs = 10_000) {
      return waitFor(async () => accepted.find((t) => t > since) ?? null, timeoutMs, 10);
    },
    async close() {
      proxy.cut();
      for (const s of held) s.destroy();
      if (server.listening) server.close();
    },
  };
  return proxy;
}

/** The user's GET /vm/status. */
export async function vmStatus(p: Platform, token: string) {
  const r = await p.api('GET', '/vm/status', { token });
  expect(r.status).toBe(200);
  return r.body as {
    instanceId: string | null;
    state: string;
    connected: boolean;
    connectedAt: string | null;
    bootstrapAttempts: number;
    lastError: string | null;
    retryAfterMs: number;
    activeRuns: number;
  };
}

/** A plane that recovered: ready, connected, no error. */
export async function expectPlaneReady(p: Platform, token: string) {
  const s = await waitFor(async () => {
    const st = await vmStatus(p, token);
    return st.state === 'ready' && st.connected ? st : null;
  }, 10_000);
  expect(s).toMatchObject({ state: 'ready', connected: true, lastError: null, retryAfterMs: 0 });
  return s;
}

/** The assistant messages stored for a run (one, whole, is what every fault must leave). */
export async function storedAnswers(p: Platform, token: string, sessionId: string, runId: string): Promise<string[]> {
  const h = await p.api('GET', `/sessions/${sessionId}/messages`, { token });
  return h.body.data.filter((m: any) => m.role === 'assistant' && m.runId === runId).map((m: any) => m.content as string);
}

/**
 * The checks every fault ends with, for a session whose runs are all done:
 *  - a replay from 0 has strictly increasing, contiguous ids (one control-plane process: no gaps)
 *    and a `done` for every run;
 *  - the live follower saw exactly the replay's frames over the ids it covered (nothing missing,
 *    nothing twice, nothing different);
 *  - each run's stored answer equals what the client rule builds from the stream, and `expected`
 *    when given (so no duplicated text).
 * Returns the replay.
 */
export async function expectSessionWhole(
  p: Platform,
  token: string,
  sessionId: string,
  live: SseFrame[],
  runs: { runId: string; expected?: string; status?: string }[],
): Promise<SseFrame[]> {
  const last = runs.at(-1)!.runId;
  const replay = await readSse(await openEventsWith(p, token, sessionId, { header: 0 }), { until: doneOf(last), timeoutMs: 10_000 });
  expect(replay.some(doneOf(last))).toBe(true);
  expect(strictlyIncreasing(replay)).toBe(true);
  for (let i = 1; i < replay.length; i++) expect(replay[i]!.id).toBe(replay[i - 1]!.id! + 1);
  const withIds = live.filter((f) => f.id !== null);
  expect(strictlyIncreasing(withIds)).toBe(true);
  if (withIds.length > 0) {
    const [from, to] = [withIds[0]!.id!, withIds.at(-1)!.id!];
    expect(withIds).toEqual(replay.filter((f) => f.id! >= from && f.id! <= to));
  }
  for (const r of runs) {
    const done = replay.filter(doneOf(r.runId));
    expect(done).toHaveLength(1);
    expect(done[0]!.data.status).toBe(r.status ?? 'completed');
    const built = clientText(replay, r.runId);
    expect(await storedAnswers(p, token, sessionId, r.runId)).toEqual([built]);
    if (r.expected !== undefined) expect(built).toBe(r.expected);
  }
  return replay;
}

/** Processes (any parent) whose environment puts them under this platform's home: its planes. */
export function planesUnder(home: string): number[] {
  const pids: number[] = [];
  const prefix = `SEMIBOT_HOME=${path.join(home, 'planes')}`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').some((kv) => kv.startsWith(prefix))) pids.push(Number(entry));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

/** After the platform stopped: no plane process of it is left (bounded wait for exits in flight). */
export async function expectNoPlanesLeft(home: string): Promise<void> {
  const left = await waitFor(async () => (planesUnder(home).length === 0 ? 'none' : null), 8_000).catch(() => planesUnder(home));
  expect(left).toBe('none');
}

/** The value of SEMIBOT_* variables in a process's environment. */
export function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0 && kv.startsWith('SEMIBOT_')) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

/** With CHAOS_LOG=<dir> set, writes the platform's log (both sides of every turn) there, for diagnosing a failure. */
export function dumpLogs(p: Platform | undefined, name: string): void {
  if (p && process.env.CHAOS_LOG) writeFileSync(path.join(process.env.CHAOS_LOG, `${name}.log`), p.logs.join(''));
}
