import type { VmMode, VmStatus } from '@semibot/protocol';
import type { PlaneConnection } from '../gateway/plane-connection.js';

/** What one pool plane has been handed: every session, skill and MCP server its credential reaches. */
interface Assignment {
  sessions: Map<string, { orgId: string; userId: string }>;
  /** skill id → its org */
  skills: Map<string, string>;
  /** MCP server id → its org */
  servers: Map<string, string>;
}

/** Sessions remembered per pool plane; the oldest are forgotten first (their next turn assigns them again). */
const MAX_SESSIONS_PER_PLANE = 10_000;

/**
 * The planes of the shared worker pool connected to this replica (seed 004 §10). A pool plane
 * serves many users of many orgs, so its credential alone reaches nothing: it reaches a session
 * once this replica has sent it that session's turn, and the skills and MCP servers that turn
 * named — nothing else (plane-handlers.ts asks here). What a plane was handed survives its
 * reconnects to this replica; a session sticks to the plane that last ran it (its checkpoints are
 * on that plane's disk) while that plane is connected.
 */
export class PlanePool {
  private readonly planes = new Map<string, PlaneConnection>();
  private readonly assignments = new Map<string, Assignment>();
  private readonly sticky = new Map<string, string>();
  /** the process id each pool plane connected with last: another one is a new process */
  private readonly pids = new Map<string, number>();

  constructor(readonly name: string) {}

  get size(): number {
    let n = 0;
    for (const c of this.planes.values()) if (c.open) n++;
    return n;
  }

  /** Whether this pool plane connected from a new process (its runs cannot continue where they were). */
  isNewProcess(instanceId: string, pid: number | undefined): boolean {
    const before = this.pids.get(instanceId);
    if (pid !== undefined) this.pids.set(instanceId, pid);
    return before !== undefined && pid !== undefined && before !== pid;
  }

  add(conn: PlaneConnection): void {
    this.planes.set(conn.instanceId, conn);
  }

  remove(conn: PlaneConnection): void {
    if (this.planes.get(conn.instanceId) === conn) this.planes.delete(conn.instanceId);
  }

  connections(): PlaneConnection[] {
    return [...this.planes.values()].filter((c) => c.open);
  }

  /** The plane for this session's next turn: the one that ran it last, else the least loaded. */
  pick(sessionId: string): PlaneConnection | null {
    const last = this.planes.get(this.sticky.get(sessionId) ?? '');
    if (last?.open) return last;
    let best: PlaneConnection | null = null;
    let bestLoad = Infinity;
    for (const c of this.planes.values()) {
      if (!c.open) continue;
      const load = c.activeRuns * 1000 + (this.assignments.get(c.instanceId)?.sessions.size ?? 0);
      if (load < bestLoad) (best = c), (bestLoad = load);
    }
    return best;
  }

  /** Hands a session's turn to a plane: from now on it may reach the session and what the turn names. */
  assign(conn: PlaneConnection, s: { sessionId: string; orgId: string; userId: string }, skillIds: string[], serverIds: string[]): void {
    let a = this.assignments.get(conn.instanceId);
    if (!a) this.assignments.set(conn.instanceId, (a = { sessions: new Map(), skills: new Map(), servers: new Map() }));
    a.sessions.delete(s.sessionId); // re-inserted: the newest last
    a.sessions.set(s.sessionId, { orgId: s.orgId, userId: s.userId });
    if (a.sessions.size > MAX_SESSIONS_PER_PLANE) a.sessions.delete(a.sessions.keys().next().value!);
    for (const id of skillIds) a.skills.set(id, s.orgId);
    for (const id of serverIds) a.servers.set(id, s.orgId);
    this.sticky.set(s.sessionId, conn.instanceId);
  }

  /** GET /vm/status for a user whose sessions run on the pool: the pool's planes here, as one. */
  status(mode: VmMode, resolvedMode: VmStatus['resolvedMode'], resolvedRuntime: VmStatus['resolvedRuntime']): VmStatus {
    const planes = this.connections();
    const any = planes.length > 0;
    return {
      instanceId: null,
      mode,
      state: any ? 'ready' : 'none',
      connected: any,
      lastHeartbeatAt: any ? new Date(Math.max(...planes.map((c) => c.lastHeartbeatAt))).toISOString() : null,
      connectedAt: null,
      bootstrapAttempts: 0,
      lastError: any ? null : `no plane of the shared pool '${this.name}' is connected to this replica`,
      retryAfterMs: any ? 0 : 5_000,
      activeRuns: planes.reduce((n, c) => n + c.activeRuns, 0),
      placement: 'pool',
      resolvedMode,
      resolvedRuntime,
    };
  }

  session(conn: PlaneConnection, sessionId: string): { orgId: string; userId: string } | null {
    return this.assignments.get(conn.instanceId)?.sessions.get(sessionId) ?? null;
  }

  skillOrg(conn: PlaneConnection, skillId: string): string | null {
    return this.assignments.get(conn.instanceId)?.skills.get(skillId) ?? null;
  }

  serverOrg(conn: PlaneConnection, serverId: string): string | null {
    return this.assignments.get(conn.instanceId)?.servers.get(serverId) ?? null;
  }
}
