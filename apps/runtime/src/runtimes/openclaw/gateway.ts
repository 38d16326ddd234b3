import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { gatewayConfig, gatewayEnv, type GatewayConfigInput } from './gateway-config.js';
import type { OpenClawInstall } from './install.js';

/** Gateway protocol v4: the version this bridge (and its translator) speaks. */
export const GATEWAY_PROTOCOL = 4;
/** a cold gateway on 2 busy cores takes 10–30 s to say hello; more than this is a failed start */
const START_TIMEOUT_MS = 90_000;

/** The gateway process went away (killed, crashed, out of memory) while it had work. */
export class GatewayExited extends Error {
  constructor(readonly detail: string) {
    super(`OpenClaw exited: ${detail}`);
  }
}

interface GatewayFrame {
  type: 'event' | 'res';
  id?: string;
  event?: string;
  ok?: boolean;
  payload?: Record<string, unknown>;
  error?: { code?: string; message?: string; retryable?: boolean; retryAfterMs?: number };
}

export interface GatewayOptions {
  install: OpenClawInstall;
  /** OpenClaw's home and state, on the plane's disk: sessions survive a gateway restart */
  home: string;
  logger: Logger;
  config: () => Omit<GatewayConfigInput, 'port' | 'token' | 'workspace'>;
  /** V8 heap budget of the gateway, MiB (`--max-old-space-size`) */
  memoryMb?: () => number | undefined;
}

type AgentListener = (payload: Record<string, unknown>) => void;

/**
 * One OpenClaw gateway per plane, started on first use and again after it dies. The plane is one
 * user (OpenClaw's own trust model is one operator per gateway), and a gateway idles at ~800 MB, so
 * one per session would not fit. Requests are gateway-protocol `req`/`res` over one WebSocket.
 */
export class OpenClawGateway {
  private live: Promise<Connection> | null = null;
  private readonly listeners = new Map<string, AgentListener>();
  private child: ChildProcess | null = null;
  private conn: Connection | null = null;

  constructor(private readonly o: GatewayOptions) {}

  /** The gateway's pid, once started (for measurements and crash tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Calls a method; resolves with the final `res` payload (an `accepted` ack is passed to onAccepted). */
  async request(method: string, params: Record<string, unknown>, onAccepted?: () => void): Promise<Record<string, unknown>> {
    const conn = await (this.live ??= this.start());
    return conn.request(method, params, onAccepted);
  }

  /** Events of the `agent` stream for one run, until the returned function is called. */
  onAgentEvents(runId: string, listener: AgentListener): () => void {
    this.listeners.set(runId, listener);
    return () => this.listeners.delete(runId);
  }

  private async start(): Promise<Connection> {
    const started = performance.now();
    const port = await freePort();
    const token = randomBytes(24).toString('base64url');
    const stateDir = path.join(this.o.home, 'state');
    const configPath = path.join(stateDir, 'openclaw.json');
    const workspace = path.join(this.o.home, 'workspace');
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    mkdirSync(workspace, { recursive: true });
    writeFileSync(configPath, JSON.stringify(gatewayConfig({ ...this.o.config(), port, token, workspace }), null, 2), { mode: 0o600 });
    const nodeArgs = [`--import=${PARENT_WATCH}`];
    const memoryMb = this.o.memoryMb?.();
    if (memoryMb) nodeArgs.push(`--max-old-space-size=${memoryMb}`);
    const child = spawn(this.o.install.node, [...nodeArgs, this.o.install.entry, 'gateway', 'run', '--port', String(port), '--allow-unconfigured'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...gatewayEnv(this.o.home, stateDir, configPath), SEMIBOT_PARENT_PID: String(process.pid) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderrTail = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderrTail = (stderrTail + d).slice(-2_000)));
    const exited = new Promise<GatewayExited>((resolve) =>
      child.once('exit', (code, signal) => resolve(new GatewayExited(signal ? `killed by ${signal}` : `exit code ${code}`))),
    );
    void exited.then((err) => {
      if (this.child === child) {
        this.child = null;
        this.live = null;
      }
      this.o.logger.warn({ pid: child.pid, reason: err.detail, stderr: stderrTail.slice(-500) }, 'OpenClaw gateway exited');
    });
    try {
      const conn = await Promise.race([
        dialUntilReady(port, token, performance.now() + START_TIMEOUT_MS, (payload) => this.dispatch(payload)),
        exited.then((err) => Promise.reject(err)),
      ]);
      void exited.then((err) => conn.fail(err));
      conn.onClose = () => child.kill('SIGKILL'); // a gateway we cannot talk to is of no use: start afresh
      this.conn = conn;
      this.o.logger.info({ pid: child.pid, ms: Math.round(performance.now() - started), version: this.o.install.version }, 'OpenClaw gateway ready');
      return conn;
    } catch (err) {
      child.kill('SIGKILL');
      this.live = null;
      throw err;
    }
  }

  private dispatch(payload: Record<string, unknown>): void {
    const runId = payload.runId;
    if (typeof runId === 'string') this.listeners.get(runId)?.(payload);
  }

  async close(): Promise<void> {
    const child = this.child;
    this.live = null;
    // a plane stopping lets the gateway shut down in order (SIGTERM), not as a lost socket would
    if (this.conn) this.conn.onClose = null;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await new Promise((r) => child.once('exit', r));
    clearTimeout(killer);
  }
}

/** Preloaded into the gateway: it exits when the plane that started it is gone (even after kill -9). */
const PARENT_WATCH = new URL('./parent-watch.js', import.meta.url).href;

class Connection {
  private readonly pending = new Map<string, { resolve(p: Record<string, unknown>): void; reject(e: Error): void; onAccepted?: (() => void) | undefined }>();
  private failure: Error | null = null;
  onClose: (() => void) | null = null;

  constructor(private readonly ws: WebSocket) {
    ws.on('close', () => {
      this.fail(new GatewayExited('its socket closed'));
      this.onClose?.();
    });
  }

  handle(f: GatewayFrame): void {
    if (f.type !== 'res' || !f.id) return;
    const p = this.pending.get(f.id);
    if (!p) return;
    // a run that failed is an outcome (its payload says how), not a failed request
    if (!f.ok && !(f.payload && typeof f.payload.runId === 'string')) {
      this.pending.delete(f.id);
      return p.reject(new Error(`OpenClaw ${f.error?.code ?? 'error'}: ${f.error?.message ?? 'request failed'}`));
    }
    if (f.payload?.status === 'accepted') return p.onAccepted?.();
    this.pending.delete(f.id);
    p.resolve(f.payload ?? {});
  }

  request(method: string, params: Record<string, unknown>, onAccepted?: () => void): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onAccepted });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.terminate();
  }
}

/** Dials until the gateway says hello; a gateway still starting closes the socket or answers UNAVAILABLE. */
async function dialUntilReady(port: number, token: string, deadline: number, onAgentEvent: (p: Record<string, unknown>) => void): Promise<Connection> {
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      return await dial(port, token, onAgentEvent);
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`OpenClaw gateway did not become ready in ${START_TIMEOUT_MS / 1000} s: ${last}`);
}

function dial(port: number, token: string, onAgentEvent: (p: Record<string, unknown>) => void): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { maxPayload: 64 * 1024 * 1024 });
    let conn: Connection | null = null;
    const connectId = randomUUID();
    ws.once('error', (err) => reject(err));
    ws.once('close', (code) => reject(new Error(`closed (${code}) before hello`)));
    ws.on('message', (raw) => {
      let f: GatewayFrame;
      try {
        f = JSON.parse(raw.toString()) as GatewayFrame;
      } catch {
        return;
      }
      if (conn) {
        if (f.type === 'event' && f.event === 'agent' && f.payload) onAgentEvent(f.payload);
        else conn.handle(f);
        return;
      }
      if (f.type === 'event' && f.event === 'connect.challenge') {
        ws.send(
          JSON.stringify({
            type: 'req',
            id: connectId,
            method: 'connect',
            params: {
              minProtocol: GATEWAY_PROTOCOL,
              maxProtocol: GATEWAY_PROTOCOL,
              client: { id: 'gateway-client', version: '1', platform: process.platform, mode: 'backend' },
              role: 'operator',
              scopes: ['operator.admin', 'operator.read', 'operator.write'],
              caps: ['tool-events'],
              auth: { token },
            },
          }),
        );
      } else if (f.type === 'res' && f.id === connectId) {
        if (!f.ok) {
          ws.terminate();
          return reject(new Error(`connect refused: ${f.error?.code ?? ''} ${f.error?.message ?? ''}`));
        }
        conn = new Connection(ws);
        resolve(conn);
      }
    });
  });
}

/** A port the kernel says is free now (the gateway binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
