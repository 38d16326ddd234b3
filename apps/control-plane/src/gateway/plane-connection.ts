import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ControlToPlane, MsgOf } from '@semibot/protocol';
import type { VmPrincipal } from '../auth/tokens.js';
import type { Session } from '../store/sessions.js';

/** how long a closed socket's peer has to answer the close frame before its TCP connection is cut */
const CLOSE_GRACE_MS = 1_000;

/**
 * Sends the close frame, then ends the TCP connection if the peer has not answered it within
 * CLOSE_GRACE_MS: ws waits 30 s for that answer, and an unauthenticated or misbehaving peer
 * would otherwise keep the socket (and its memory) that long.
 */
export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === ws.CLOSED) return;
  ws.close(code, reason);
  const cut = setTimeout(() => ws.readyState !== ws.CLOSED && ws.terminate(), CLOSE_GRACE_MS);
  cut.unref();
  ws.once('close', () => clearTimeout(cut));
}

/** One authenticated execution plane on /ws/vm. */
export class PlaneConnection {
  /** the `start_session` last sent on this connection per session, as sent (its JSON) */
  private readonly startedSessions = new Map<string, string>();
  /**
   * Sessions this plane has proven to be its user's, by id: who owns a session never changes, and
   * every usage, audit and snapshot report would otherwise look the session up again. Bounded.
   */
  readonly ownedSessions = new Map<string, Session>();
  lastHeartbeatAt = Date.now();
  activeRuns = 0;
  rssBytes: number | null = null;
  activeSessions = 0;
  messagesIn = 0;
  messagesOut = 0;
  readonly connectedAt = Date.now();
  /** the socket is corked until the end of this tick: what was sent meanwhile leaves in one write */
  private corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly principal: VmPrincipal,
    /** true when this connection presented a bootstrap's one-time ticket: a new plane process */
    readonly freshBootstrap: boolean,
    /** the TCP socket under `ws` (null: unknown, every frame is its own write) */
    private readonly socket: Duplex | null = null,
  ) {}

  get instanceId(): string {
    return this.principal.instanceId;
  }

  /** set for a plane of the shared pool */
  get pool(): string | null {
    return this.principal.pool ?? null;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(msg: ControlToPlane): boolean {
    return this.sendJson(JSON.stringify(msg));
  }

  /**
   * Frames sent in one tick leave in one write: a batch of turns admitted together sends each a
   * `start_session` and a `user_message`, 100 writes to the same socket back to back, each a
   * syscall and a wake-up of the plane (npm run bench, 200 streams, 6 + 6 alternating runs:
   * control plane CPU 63-74 -> 55-68 µs/token, p99 17-31 -> 11-24 ms).
   */
  private sendJson(json: string): boolean {
    if (!this.open) return false;
    this.messagesOut++;
    if (this.socket && !this.corked) {
      this.corked = true;
      this.socket.cork();
      // after the promise continuations of this tick too: they are where a batch's turns go out
      process.nextTick(() => {
        this.corked = false;
        this.socket!.uncork();
      });
    }
    this.ws.send(json);
    return true;
  }

  /**
   * Sends a session's configuration (agent, skills, MCP servers) ahead of its turn, unless this
   * connection already carried exactly this one: it may change between turns, and mostly does
   * not. A new connection (a plane restarted or reconnected) starts with none sent.
   */
  startSession(msg: MsgOf<ControlToPlane, 'start_session'>): void {
    const json = JSON.stringify(msg);
    if (this.startedSessions.get(msg.sessionId) !== json && this.sendJson(json)) this.startedSessions.set(msg.sessionId, json);
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) closeSocket(this.ws, code, reason);
  }
}
