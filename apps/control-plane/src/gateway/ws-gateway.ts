import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { Logger } from 'pino';
import {
  AuthMsg,
  CloseCodes,
  PROTOCOL_VERSION,
  parsePlaneFrame,
  SemibotError,
  type PlaneToControl,
  parseFrame,
  type ControlToPlane,
  type LlmConfig,
  type MsgOf,
} from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { sha256, type Tokens } from '../auth/tokens.js';
import { consumeTicket, getVm, markConnected, touchHeartbeat } from '../store/vms.js';
import { closeSocket, PlaneConnection } from './plane-connection.js';
import { RequestResults, type RequestOutcome } from './request-results.js';
import type { PlanePool } from '../scheduler/pool.js';

export const WS_PATH = '/ws/vm';
const MAX_FRAME_BYTES = 1024 * 1024;
const AUTH_TIMEOUT_MS = 5_000;

/** What the gateway hands on; the run engine and scheduler implement it. */
export interface GatewayHandlers {
  onConnected(conn: PlaneConnection): void;
  onHeartbeat?(conn: PlaneConnection): void;
  onDisconnected(conn: PlaneConnection, reason: string): void;
  onSseEvent(conn: PlaneConnection, msg: MsgOf<PlaneToControl, 'sse_event'>): void;
  onRequest(conn: PlaneConnection, msg: MsgOf<PlaneToControl, 'request'>): Promise<unknown>;
  onFireAndForget(conn: PlaneConnection, msg: MsgOf<PlaneToControl, 'fire_and_forget'>): Promise<void>;
}

export interface GatewayOptions {
  db: Db;
  tokens: Tokens;
  logger: Logger;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  llm: () => LlmConfig;
  /** heap budget of each plane's OpenClaw gateway, MiB */
  openclawMemoryMb?: number | undefined;
  /** VM token lifetime; a fresh token is sent at half of it */
  vmTokenTtlS: number;
  /** the shared pool this deployment runs, if any: its planes authenticate with pool credentials */
  pool: PlanePool | null;
}

/** The /ws/vm endpoint: authenticates planes, tracks heartbeats, validates and routes every frame. */
export class WsGateway {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  private readonly byInstance = new Map<string, PlaneConnection>();
  private readonly waiters = new Map<string, Set<(c: PlaneConnection) => void>>();
  private handlers: GatewayHandlers | null = null;
  readonly results = new RequestResults();
  private sweep: NodeJS.Timeout | null = null;
  counters = { framesIn: 0, framesOut: 0, badFrames: 0, authFailures: 0 };
  /** each plane socket's TCP socket, from the upgrade: PlaneConnection corks it per tick */
  private readonly sockets = new WeakMap<WebSocket, Duplex>();

  constructor(private readonly opts: GatewayOptions) {}

  attach(server: Server, handlers: GatewayHandlers): void {
    this.handlers = handlers;
    this.serve(server);
    this.sweep = setInterval(() => this.checkHeartbeats(), Math.min(5_000, this.opts.heartbeatTimeoutMs / 3));
    this.sweep.unref();
  }

  /** Takes planes' upgrades on `server` too (the plane socket beside the TCP port). */
  serve(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== WS_PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.set(ws, socket);
        this.onSocket(ws);
      });
    });
  }

  connection(instanceId: string): PlaneConnection | null {
    const c = this.byInstance.get(instanceId);
    return c?.open ? c : null;
  }

  /** The user's connected plane, if any (the scheduler's fast path: no database read). */
  connectionForUser(userId: string): PlaneConnection | null {
    for (const c of this.byInstance.values()) if (c.principal.userId === userId && c.open) return c;
    return null;
  }

  connections(): PlaneConnection[] {
    return [...this.byInstance.values()];
  }

  /** Resolves with the instance's connection as soon as it authenticates; null after `timeoutMs`. */
  waitForConnection(instanceId: string, timeoutMs: number, abort?: Promise<unknown>): Promise<PlaneConnection | null> {
    const existing = this.connection(instanceId);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const set = this.waiters.get(instanceId) ?? new Set();
      this.waiters.set(instanceId, set);
      const done = (c: PlaneConnection | null) => {
        clearTimeout(timer);
        set.delete(waiter);
        if (set.size === 0) this.waiters.delete(instanceId);
        resolve(c);
      };
      const waiter = (c: PlaneConnection) => done(c);
      set.add(waiter);
      const timer = setTimeout(() => done(null), timeoutMs);
      abort?.then(() => done(null), () => done(null));
    });
  }

  private onSocket(ws: WebSocket): void {
    let conn: PlaneConnection | null = null;
    let authenticating = false;
    const authTimer = setTimeout(() => {
      if (!conn) this.refuse(ws, 'no auth frame in time');
    }, AUTH_TIMEOUT_MS);

    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.counters.framesIn++;
      if (!conn) {
        if (authenticating) return this.refuse(ws, 'frame before auth completed');
        authenticating = true;
        void this.authenticate(ws, data, isBinary).then((c) => {
          clearTimeout(authTimer);
          conn = c;
        });
        return;
      }
      this.onFrame(conn, data, isBinary);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(authTimer);
      if (!conn) return;
      if (this.byInstance.get(conn.instanceId) === conn) this.byInstance.delete(conn.instanceId);
      this.handlers?.onDisconnected(conn, `socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
    });
    ws.on('error', (err) => this.opts.logger.warn({ err: err.message }, 'plane socket error'));
  }

  private refuse(ws: WebSocket, why: string, code: number = CloseCodes.authFailed, reason = 'AUTH_FAILED'): void {
    this.counters.authFailures++;
    this.opts.logger.warn({ why }, 'plane refused');
    closeSocket(ws, code, reason);
  }

  private async authenticate(ws: WebSocket, data: RawData, isBinary: boolean): Promise<PlaneConnection | null> {
    const parsed = isBinary ? null : parseFrame(AuthMsg, data.toString());
    if (!parsed?.ok) return void this.refuse(ws, 'first frame is not a valid auth frame'), null;
    if (parsed.value.protocolVersion !== PROTOCOL_VERSION) {
      const why = `plane speaks protocol version ${parsed.value.protocolVersion}, this control plane ${PROTOCOL_VERSION}`;
      return void this.refuse(ws, why, CloseCodes.protocolMismatch, `PROTOCOL_MISMATCH: the control plane speaks version ${PROTOCOL_VERSION}`), null;
    }
    const principal = await this.opts.tokens.verifyVm(parsed.value.token);
    if (!principal) return this.authenticatePool(ws, parsed.value.token, parsed.value.pid);
    const vm = await getVm(this.opts.db, principal.instanceId);
    if (!vm || vm.userId !== principal.userId || vm.status === 'terminated' || vm.status === 'failed') {
      return void this.refuse(ws, 'instance unknown or ended'), null;
    }
    // First connect of a bootstrap must present its one-time ticket; later reconnects use the token.
    if (vm.connectTicketHash) {
      const ok = parsed.value.ticket !== undefined && (await consumeTicket(this.opts.db, vm.id, sha256(parsed.value.ticket)));
      if (!ok) return void this.refuse(ws, 'connect ticket missing or already used'), null;
    } else if (parsed.value.ticket !== undefined) {
      return void this.refuse(ws, 'connect ticket replayed'), null;
    }
    if (ws.readyState !== ws.OPEN) return null;

    const conn = new PlaneConnection(ws, principal, vm.connectTicketHash !== null, this.sockets.get(ws) ?? null);
    this.register(conn);
    await markConnected(this.opts.db, vm.id);
    this.send(conn, {
      type: 'init',
      protocolVersion: PROTOCOL_VERSION,
      instanceId: vm.id,
      userId: principal.userId,
      orgId: principal.orgId,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      llm: this.opts.llm(),
      ...(this.opts.openclawMemoryMb ? { openclawMemoryMb: this.opts.openclawMemoryMb } : {}),
    });
    const renew = setInterval(() => {
      void this.opts.tokens.signVm(principal).then((token) => this.send(conn, { type: 'token', token, expiresInS: this.opts.vmTokenTtlS }));
    }, (this.opts.vmTokenTtlS * 1000) / 2);
    renew.unref();
    ws.once('close', () => clearInterval(renew));
    this.opts.logger.info({ instanceId: vm.id, userId: principal.userId }, 'plane connected');
    this.handlers?.onConnected(conn);
    for (const w of this.waiters.get(conn.instanceId) ?? []) w(conn);
    return conn;
  }

  /** A newer socket of an instance replaces the older one. */
  private register(conn: PlaneConnection): void {
    const previous = this.byInstance.get(conn.instanceId);
    this.byInstance.set(conn.instanceId, conn);
    previous?.close(CloseCodes.replaced, 'REPLACED');
    previous?.ws.terminate(); // its peer may be gone (half-open): do not wait 30 s for the close handshake
  }

  /** A plane of the shared pool: a long-lived operator credential, no instance row, no ticket. */
  private async authenticatePool(ws: WebSocket, token: string, pid: number | undefined): Promise<PlaneConnection | null> {
    const principal = await this.opts.tokens.verifyPool(token);
    const pool = this.opts.pool;
    if (!principal) return void this.refuse(ws, 'bad or expired VM token'), null;
    if (!pool || principal.pool !== pool.name) return void this.refuse(ws, `pool ${principal.pool} is not this deployment's`), null;
    if (ws.readyState !== ws.OPEN) return null;
    const conn = new PlaneConnection(ws, principal, pool.isNewProcess(principal.instanceId, pid), this.sockets.get(ws) ?? null);
    this.register(conn);
    pool.add(conn);
    ws.once('close', () => pool.remove(conn));
    this.send(conn, {
      type: 'init',
      protocolVersion: PROTOCOL_VERSION,
      instanceId: principal.instanceId,
      userId: `pool:${pool.name}`,
      orgId: `pool:${pool.name}`,
      heartbeatIntervalMs: this.opts.heartbeatIntervalMs,
      llm: this.opts.llm(),
      ...(this.opts.openclawMemoryMb ? { openclawMemoryMb: this.opts.openclawMemoryMb } : {}),
    });
    this.opts.logger.info({ instanceId: principal.instanceId, pool: pool.name }, 'pool plane connected');
    this.handlers?.onConnected(conn);
    for (const w of this.waiters.get(conn.instanceId) ?? []) w(conn);
    return conn;
  }

  private onFrame(conn: PlaneConnection, data: RawData, isBinary: boolean): void {
    const parsed = isBinary ? null : parsePlaneFrame(data.toString());
    if (!parsed?.ok) {
      this.counters.badFrames++;
      this.opts.logger.warn({ instanceId: conn.instanceId, error: parsed?.error ?? 'binary frame' }, 'bad frame from plane');
      conn.close(CloseCodes.badFrame, 'BAD_FRAME');
      return;
    }
    if (parsed.value.type !== 'batch') return this.dispatch(conn, parsed.value);
    for (const msg of parsed.value.messages) {
      this.dispatch(conn, msg);
      if (!conn.open) return; // a message closed the socket (e.g. an auth frame): the rest is void
    }
  }

  private dispatch(conn: PlaneConnection, msg: PlaneToControl): void {
    conn.messagesIn++;
    const h = this.handlers!;
    switch (msg.type) {
      case 'sse_event':
        return h.onSseEvent(conn, msg);
      case 'heartbeat':
        conn.lastHeartbeatAt = Date.now();
        conn.activeRuns = msg.activeRuns;
        this.handlers?.onHeartbeat?.(conn);
        conn.rssBytes = msg.rssBytes ?? null;
        conn.activeSessions = msg.activeSessions;
        if (!conn.pool) void touchHeartbeat(this.opts.db, conn.instanceId).catch(() => {});
        return;
      case 'request': {
        const instanceId = conn.instanceId;
        this.results.begin(instanceId, msg.requestId);
        // answered on whatever connection the plane has when the work ends (it may have reconnected)
        const answer = (outcome: RequestOutcome) => {
          this.results.finish(instanceId, msg.requestId, outcome);
          const current = this.connection(instanceId);
          if (current) this.send(current, { type: 'response', requestId: msg.requestId, ...outcome });
        };
        void h.onRequest(conn, msg).then(
          (result) => answer({ ok: true, result }),
          (err: unknown) => {
            const e = SemibotError.is(err) ? err : new SemibotError('INTERNAL_ERROR', 'request failed', 500);
            if (!SemibotError.is(err)) this.opts.logger.error({ err, method: msg.method }, 'plane request failed');
            answer({ ok: false, error: { code: e.code, message: e.message } });
          },
        );
        return;
      }
      case 'fire_and_forget':
        void h.onFireAndForget(conn, msg).catch((err) =>
          this.opts.logger.warn({ err, method: msg.method, instanceId: conn.instanceId }, 'fire_and_forget dropped'),
        );
        return;
      case 'resume':
        this.send(conn, { type: 'resume_response', results: this.results.resume(conn.instanceId, msg.pendingRequestIds) });
        return;
      case 'auth':
        conn.close(CloseCodes.badFrame, 'BAD_FRAME');
        return;
    }
  }

  send(conn: PlaneConnection, msg: ControlToPlane): boolean {
    this.counters.framesOut++;
    return conn.send(msg);
  }

  private checkHeartbeats(): void {
    const cutoff = Date.now() - this.opts.heartbeatTimeoutMs;
    for (const conn of this.byInstance.values()) {
      if (conn.lastHeartbeatAt < cutoff) {
        this.opts.logger.warn({ instanceId: conn.instanceId }, 'plane heartbeat timed out');
        conn.close(CloseCodes.heartbeatTimeout, 'HEARTBEAT_TIMEOUT');
        // a silent peer never answers the close handshake: drop the socket now instead of after
        // ws's 30 s close timeout, so its runs start their reconnect grace at once
        conn.ws.terminate();
      }
    }
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const conn of this.byInstance.values()) conn.close(CloseCodes.goingAway, 'shutting down');
    // a socket whose peer never answers (half-open) would hold shutdown for ws's 30 s close timeout
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
