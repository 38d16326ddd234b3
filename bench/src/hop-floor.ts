import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize, type Summary } from './stats.js';

/**
 * The floor under added token latency on this machine: a small message sent through 0, 1 and 2
 * Node processes that do nothing but read it from one loopback socket and write it to the next,
 * at the 1-stream cadence (one every 5 ms, so every process sleeps between messages, as the
 * product's do). The product puts two processes (the execution plane and the control plane)
 * between the model and the client; what a bare relay costs per hop here — waking a sleeping
 * process, two syscalls, the kernel's loopback — no product code can take away. Timed with the
 * monotonic clock all processes share.
 */

export interface HopFloor {
  messages: number;
  gapMs: number;
  /** one-way latency, µs, through 0, 1, 2 relays */
  oneWayUs: Summary[];
  /** relays(2) − relays(0), p50 and p99: what two bare hops add */
  twoHopsAddedUs: { p50: number; p99: number };
}

const relayEntry = fileURLToPath(new URL('./hop-relay.js', import.meta.url));
const proxyEntry = fileURLToPath(new URL('./hop-proxy.js', import.meta.url));

/** Starts a relay process in front of `next` (a port; for a proxy, or a Unix path); resolves with where it listens. */
async function spawnHop(entry: string, next: number | string, kids: ChildProcess[], listen?: string): Promise<string> {
  // stdin stays open while this process lives: a relay whose stdin ends exits (hop-proxy.ts)
  const kid = spawn(process.execPath, [entry, String(next), ...(listen ? [listen] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  kids.push(kid);
  return new Promise<string>((resolve, reject) => {
    kid.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    kid.once('exit', (code) => reject(new Error(`hop relay exited with ${code}`)));
  });
}

export interface RelayChain {
  /** the model's base URL through both proxies (ends in /v1, like the mock's) */
  url: string;
  pids: number[];
  /** how the two proxies reach each other: as the plane reaches the control plane */
  middle: 'unix' | 'tcp';
  stop(): void;
}

/**
 * The same floor under each latency level's own load: two bare proxies (hop-proxy.ts) between
 * the load client and the mock, streamed through with the baseline's requests, concurrency and
 * client. What they add over the direct baseline is what two processes that only pass bytes on
 * cost per token at that load on this machine — the product's two hops, less all of its work. The
 * hop between them is what a process-mode plane dials its control plane over: TCP loopback, or a
 * Unix socket with SEMIBOT_PLANE_SOCKET=on; the outer two are TCP loopback, as the product's.
 */
export async function relayChain(modelUrl: string, middle: 'unix' | 'tcp'): Promise<RelayChain> {
  const target = new URL(modelUrl);
  const kids: ChildProcess[] = [];
  const socketPath = path.join(tmpdir(), `semibot-bench-hop-${process.pid}.sock`);
  const stop = () => {
    for (const k of kids) k.kill();
    rmSync(socketPath, { force: true });
  };
  process.once('exit', stop);
  try {
    const inner = await spawnHop(proxyEntry, Number(target.port), kids, middle === 'unix' ? socketPath : undefined);
    const port = await spawnHop(proxyEntry, inner, kids);
    return { url: `http://127.0.0.1:${port}${target.pathname}`, pids: kids.map((k) => k.pid!), middle, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

export async function hopFloor(o: { messages: number; gapMs: number }): Promise<HopFloor> {
  const oneWayUs: Summary[] = [];
  for (const relays of [0, 1, 2]) oneWayUs.push(await through(relays, o.messages, o.gapMs));
  return {
    ...o,
    oneWayUs,
    twoHopsAddedUs: { p50: oneWayUs[2]!.p50 - oneWayUs[0]!.p50, p99: oneWayUs[2]!.p99 - oneWayUs[0]!.p99 },
  };
}

async function through(relays: number, messages: number, gapMs: number): Promise<Summary> {
  const latencies: number[] = [];
  let buf = '';
  const sink = net.createServer((s) =>
    s.on('data', (d) => {
      const now = process.hrtime.bigint();
      buf += d.toString();
      for (let i = buf.indexOf(';'); i >= 0; i = buf.indexOf(';')) {
        latencies.push(Number(now - BigInt(buf.slice(0, i))) / 1000);
        buf = buf.slice(i + 1);
      }
    }),
  );
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const kids: ChildProcess[] = [];
  try {
    let port = (sink.address() as net.AddressInfo).port;
    for (let i = 0; i < relays; i++) port = Number(await spawnHop(relayEntry, port, kids));
    const source = net.connect(port, '127.0.0.1');
    source.setNoDelay(true);
    await new Promise<void>((r) => source.once('connect', () => r()));
    const warmup = Math.min(50, Math.floor(messages / 5));
    for (let i = 0; i < messages + warmup; i++) {
      source.write(`${process.hrtime.bigint()};`);
      await new Promise((r) => setTimeout(r, gapMs));
    }
    const deadline = Date.now() + 2_000;
    while (latencies.length < messages + warmup && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    source.destroy();
    if (latencies.length < messages + warmup) throw new Error(`hop floor: ${latencies.length} of ${messages + warmup} messages arrived`);
    return summarize(latencies.slice(warmup));
  } finally {
    for (const k of kids) k.kill();
    sink.close();
  }
}
