import { WebSocket } from 'ws';
import { socketOf, zeroMaskedTextFrame } from './ws-frame.js';
import type { Logger } from 'pino';
import {
  CloseCodes,
  ControlToPlane,
  MAX_BATCH_MESSAGES,
  PROTOCOL_VERSION,
  parseFrame,
  type MsgOf,
  type PlaneToControl,
  type RequestMethod,
} from '@semibot/protocol';

/** Reconnect delays (seconds): 1, 2, 4, 8, 16, then 30 for every later try, each with ±20 % jitter. */
const BACKOFF_S = [1, 2, 4, 8, 16, 30];
/**
 * A connection that was up and then lost (no close frame: 1005/1006; the control plane going away:
 * 1001; dropped for a missed heartbeat: 4008) is dialled again within this many ms, spread at
 * random so that planes cut off together (a replica restarting) do not all dial in the same instant;
 * only when that try fails does the backoff above begin. A cut socket used to stall every stream of
 * the plane for the whole first backoff second (npm run bench: socket cut → next event ~1 s).
 * Any other close (a bad frame, a newer connection taking over) goes straight to the backoff.
 */
const FIRST_RETRY_MS = 250;
const LOST_CONNECTION_CODES: ReadonlySet<number> = new Set([1005, 1006, CloseCodes.goingAway, CloseCodes.heartbeatTimeout]);
/** Events kept while disconnected; beyond this the oldest are dropped and the run will be replayed or failed by the control plane. */
const MAX_BUFFERED_EVENTS = 10_000;
/**
 * Run events already written to a socket, kept to be sent again after a reconnect: a socket that
 * dies takes what was in flight with it (and a lost `done` would leave its run waiting for ever).
 * The control plane drops what it already has by per-attempt seq. Kept as the JSON that was sent,
 * one string instead of a message's three objects: at 10k tokens/s an event stays here ~0.1 s,
 * through a scavenge or two. With nothing kept the plane's scavenges took 180 against 236 ms a
 * latency run; kept as JSON, 210–281 against 224–326 ms as messages (burst + 200 streams, 3 + 3).
 */
const MAX_RESENT_EVENTS = 1_000;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * Bytes of one batch frame. A batch several times smaller than the socket's send buffer keeps frames
 * in flight while the control plane parses the one before: a Unix socket's buffer is the sender's
 * SO_SNDBUF (212 KB by default on Linux, which Node cannot change), and 256 KB batches (the streams
 * at full speed) left the plane waiting to write each one in pieces. Relay over the plane socket,
 * 3 rounds of 256/64/32/16 KB: 36–45k against 41–51k, 44–50k, 44–50k events/s (npm run bench
 * --only=relay); over TCP, whose buffer grows to megabytes, the two were not told apart. Streams at
 * a model's pace batch a few KB a tick and never reach it.
 */
const MAX_BATCH_BYTES = 32 * 1024;

/**
 * A client's frames are masked (RFC 6455 §10.3) so that bytes a browser script chose cannot pass
 * for HTTP to a proxy on the way that does not speak WebSocket. Over TLS no proxy can read them,
 * and on loopback or a Unix socket there is none: there a zero mask, which spares copying and
 * XOR-ing every frame — 5 % of a busy plane's CPU (npm run bench, 200 streams). With a zero mask
 * the frame is built and written here as one buffer (ws-frame.ts) whenever ws has nothing queued.
 */
function unmaskable(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'wss:' || u.protocol === 'ws+unix:') return true;
  return u.hostname === 'localhost' || u.hostname === '[::1]' || u.hostname.startsWith('127.');
}
const zeroMask = (mask: Buffer) => void mask.fill(0);

type Init = MsgOf<ControlToPlane, 'init'>;
type Inbound = Exclude<ControlToPlane, { type: 'init' | 'response' | 'resume_response' | 'token' }>;

export interface ConnectionOptions {
  url: string;
  token: string;
  /** one-time ticket: sent on the first successful connect only */
  ticket?: string | undefined;
  logger: Logger;
  onInit(init: Init): void;
  onMessage(msg: Inbound): void;
  /** sampled into every heartbeat */
  load(): { activeSessions: number; activeRuns: number };
  /** a refused auth can never succeed by retrying: the daemon exits */
  onFatal(reason: string): void;
}

interface Pending {
  /** the request frame; null once it went out on a connection */
  unsent: PlaneToControl | null;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** The plane's side of /ws/vm: auth, heartbeats, reconnect with backoff, request/response, buffering. */
export class ControlConnection {
  private ws: WebSocket | null = null;
  private ready = false;
  private attempt = 0;
  /** the socket that closed last had authenticated (a lost connection, not a failed dial) */
  private wasUp = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly pending = new Map<string, Pending>();
  private buffered: PlaneToControl[] = [];
  /** serialised messages of this tick, not yet written (see sendNow) */
  private outbox: string[] = [];
  /** the JSON of the last MAX_RESENT_EVENTS run events sent */
  private written: string[] = [];
  private nextRequestId = 1;
  private stopped = false;
  /** frames go out with a zero mask (unmaskable): written to the socket as one buffer each */
  private zeroMasked = false;
  private ticket: string | undefined;
  private token: string;
  droppedEvents = 0;

  constructor(private readonly o: ConnectionOptions) {
    this.ticket = o.ticket;
    this.token = o.token;
  }

  connect(): void {
    if (this.stopped) return;
    this.zeroMasked = unmaskable(this.o.url);
    const ws = new WebSocket(this.o.url, {
      perMessageDeflate: false,
      maxPayload: 16 * 1024 * 1024,
      ...(unmaskable(this.o.url) ? { generateMask: zeroMask } : {}),
    });
    this.ws = ws;
    ws.on('open', () => {
      (ws as unknown as { _socket?: { setNoDelay(v: boolean): void } })._socket?.setNoDelay(true);
      ws.send(JSON.stringify({ type: 'auth', token: this.token, ticket: this.ticket, protocolVersion: PROTOCOL_VERSION, pid: process.pid }));
    });
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    ws.on('error', (err) => this.o.logger.warn({ err: err.message }, 'control connection error'));
  }

  private onFrame(raw: string): void {
    const parsed = parseFrame(ControlToPlane, raw);
    if (!parsed.ok) {
      this.o.logger.error({ error: parsed.error }, 'bad frame from control plane; ignored');
      return;
    }
    const msg = parsed.value;
    switch (msg.type) {
      case 'init':
        this.ticket = undefined; // consumed; reconnects authenticate with the token alone
        this.ready = true;
        this.wasUp = true;
        this.attempt = 0;
        this.startHeartbeat(msg.heartbeatIntervalMs);
        this.o.onInit(msg);
        this.flush();
        {
          const inFlight = [...this.pending].filter(([, p]) => p.unsent === null).map(([id]) => id);
          if (inFlight.length > 0) this.sendNow({ type: 'resume', pendingRequestIds: inFlight });
          for (const p of this.pending.values()) {
            if (p.unsent) this.sendNow(p.unsent);
            p.unsent = null;
          }
        }
        return;
      case 'response': {
        const p = this.pending.get(msg.requestId);
        if (!p) return;
        this.pending.delete(msg.requestId);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(`${msg.error?.code ?? 'INTERNAL_ERROR'}: ${msg.error?.message ?? 'request failed'}`));
        return;
      }
      case 'token':
        this.token = msg.token; // reconnects from now on use the renewed token
        return;
      case 'resume_response':
        for (const r of msg.results) {
          const p = this.pending.get(r.requestId);
          if (!p || r.status === 'completed') {
            if (p) (this.pending.delete(r.requestId), clearTimeout(p.timer), p.resolve(r.result));
            continue;
          }
          this.pending.delete(r.requestId);
          clearTimeout(p.timer);
          p.reject(new Error(`request ${r.requestId} ${r.status} across a reconnect`));
        }
        return;
      default:
        this.o.onMessage(msg);
    }
  }

  private onClose(code: number, reason: string): void {
    this.ready = false;
    this.ws = null;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.stopped) return;
    if (code === CloseCodes.authFailed) return this.o.onFatal(`control plane refused authentication (${reason})`);
    if (code === CloseCodes.protocolMismatch) {
      return this.o.onFatal(`this plane speaks protocol version ${PROTOCOL_VERSION} and the control plane another (${reason}): install the control plane's version of the runtime`);
    }
    const quick = this.wasUp && LOST_CONNECTION_CODES.has(code);
    this.wasUp = false;
    const base = BACKOFF_S[Math.min(this.attempt, BACKOFF_S.length - 1)]!;
    const delayMs = quick ? Math.round(Math.random() * FIRST_RETRY_MS) : Math.round(base * 1000 * (0.8 + Math.random() * 0.4));
    if (!quick) this.attempt++;
    this.o.logger.warn({ code, reason, delayMs, attempt: this.attempt }, 'disconnected from control plane; reconnecting');
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  private startHeartbeat(intervalMs: number): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const beat = () =>
      this.sendNow({ type: 'heartbeat', ...this.o.load(), rssBytes: process.memoryUsage.rss() });
    beat();
    this.heartbeat = setInterval(beat, intervalMs);
  }

  /** Sends now, or keeps run events for the next connection (bounded; the oldest go first). */
  send(msg: PlaneToControl): void {
    if (this.ready) return this.write(msg);
    if (msg.type !== 'sse_event' && msg.type !== 'fire_and_forget') return;
    this.buffered.push(msg);
    if (this.buffered.length > MAX_BUFFERED_EVENTS) {
      this.buffered.shift();
      this.droppedEvents++;
    }
  }

  /**
   * Queues for this event-loop turn's frame: everything sent while the loop handles what is ready
   * (the tokens of every model stream whose chunk arrived, one socket callback each) leaves as one
   * `batch` frame after them (setImmediate: the check phase right after poll) — one write and one
   * frame for the control plane to parse instead of one per stream. A flush per tick (nextTick)
   * sent a frame per stream: with 200 streams that was a writev and a frame parse per token (npm
   * run bench, CPU µs/token). A lone message leaves as itself in the same turn, so nothing waits.
   */
  private sendNow(msg: PlaneToControl): void {
    this.queue(JSON.stringify(msg));
  }

  private queue(json: string): void {
    const ws = this.ws;
    if (!ws) return;
    if (this.outbox.length === 0) setImmediate(() => this.drainOutbox(ws));
    this.outbox.push(json);
  }

  private drainOutbox(ws: WebSocket): void {
    const out = this.outbox;
    this.outbox = [];
    // a socket replaced meanwhile: its events are re-sent from `written`, its requests resumed
    if (ws !== this.ws || ws.readyState !== ws.OPEN) return;
    let from = 0;
    while (from < out.length) {
      let to = from + 1;
      let bytes = out[from]!.length;
      while (to < out.length && to - from < MAX_BATCH_MESSAGES && bytes + out[to]!.length < MAX_BATCH_BYTES) bytes += out[to++]!.length;
      const text = to - from === 1 ? out[from]! : `{"type":"batch","messages":[${out.slice(from, to).join(',')}]}`;
      const socket = this.zeroMasked ? socketOf(ws) : null;
      if (socket) socket.write(zeroMaskedTextFrame(text));
      else ws.send(text);
      from = to;
    }
  }

  private write(msg: PlaneToControl): void {
    const json = JSON.stringify(msg);
    if (msg.type === 'sse_event') this.keep(json);
    this.queue(json);
  }

  private keep(json: string): void {
    this.written.push(json);
    if (this.written.length > MAX_RESENT_EVENTS) this.written.shift();
  }

  /** After a reconnect: what the last socket may have lost, then what was produced while there was none. */
  private flush(): void {
    const resent = this.written;
    const produced = this.buffered;
    this.written = [];
    this.buffered = [];
    for (const json of resent) {
      this.keep(json);
      this.queue(json);
    }
    for (const msg of produced) this.write(msg);
  }

  request<T>(method: RequestMethod, params: Record<string, unknown>, sessionId?: string): Promise<T> {
    const requestId = `r${process.pid}-${this.nextRequestId++}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`request ${method} timed out after ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      const frame: PlaneToControl = { type: 'request', requestId, method, params, ...(sessionId ? { sessionId } : {}) };
      // A request made while disconnected goes out right after the next `init`.
      this.pending.set(requestId, { unsent: this.ready ? null : frame, resolve: resolve as (v: unknown) => void, reject, timer });
      if (this.ready) this.sendNow(frame);
    });
  }

  close(): void {
    this.stopped = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ws?.close(1000, 'plane stopping');
  }
}
