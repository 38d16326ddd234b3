import type { WebSocket } from 'ws';
import type { ControlToPlane } from '@semibot/protocol';
import type { VmPrincipal } from '../auth/tokens.js';
import type { Session } from '../store/sessions.js';

/** One authenticated execution plane on /ws/vm. */
export class PlaneConnection {
  /** sessions this plane has been sent `start_session` for, on this connection */
  readonly startedSessions = new Set<string>();
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

  constructor(
    readonly ws: WebSocket,
    readonly principal: VmPrincipal,
    /** true when this connection presented a bootstrap's one-time ticket: a new plane process */
    readonly freshBootstrap: boolean,
    readonly connectedAt = Date.now(),
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
    if (!this.open) return false;
    this.messagesOut++;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}
