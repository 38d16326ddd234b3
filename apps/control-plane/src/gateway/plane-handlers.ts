import {
  AuditParams,
  GetHistoryParams,
  GetSkillPackageParams,
  GetSnapshotParams,
  McpCallParams,
  McpListToolsParams,
  MemorySearchParams,
  MemoryWriteParams,
  SemibotError,
  SnapshotParams,
  UsageReport,
  assertNever,
  type MsgOf,
  type PlaneToControl,
} from '@semibot/protocol';
import type { z } from 'zod';
import type { AppContext } from '../context.js';
import type { PlaneConnection } from './plane-connection.js';
import type { GatewayHandlers } from './ws-gateway.js';
import { historyForPlane } from '../store/messages.js';
import { getSessionById } from '../store/sessions.js';
import { skillPackage } from '../store/skills.js';
import { getMcpServer } from '../store/mcp-servers.js';
import { insertAudit, latestSnapshot } from '../store/snapshots-audit.js';

function parse<S extends z.ZodType>(schema: S, params: unknown, method: string): z.infer<S> {
  const r = schema.safeParse(params);
  if (!r.success) throw new SemibotError('BAD_FRAME', `${method}: invalid params`);
  return r.data;
}

/**
 * What the control plane does for a plane. A plane's credential is scoped to one user: every
 * session, skill or server it names must be that user's (or their org's), or it is unknown. A
 * plane of the shared pool serves many users: it reaches only the sessions this replica handed it
 * and the skills and servers those turns named (scheduler/pool.ts).
 */
export function planeHandlers(ctx: AppContext): GatewayHandlers {
  const unknownSession = (sessionId: string) => new SemibotError('UNKNOWN_SESSION', `session ${sessionId} is not this plane's`, 404);
  async function ownedSession(conn: PlaneConnection, sessionId: string) {
    const known = conn.ownedSessions.get(sessionId);
    if (known) return known;
    const assigned = conn.pool ? ctx.scheduler.pool?.session(conn, sessionId) : null;
    if (conn.pool && !assigned) throw unknownSession(sessionId);
    const session = await getSessionById(ctx.db, sessionId);
    const owner = assigned?.userId ?? conn.principal.userId;
    if (!session || session.userId !== owner) throw unknownSession(sessionId);
    if (conn.ownedSessions.size >= 1000) conn.ownedSessions.clear();
    conn.ownedSessions.set(sessionId, session);
    return session;
  }
  /** The org a skill or server is reached through: the plane's own, or (pool) the org of the turn that named it. */
  function orgFor(conn: PlaneConnection, what: 'skill' | 'server', id: string): string {
    if (!conn.pool) return conn.principal.orgId;
    const org = what === 'skill' ? ctx.scheduler.pool?.skillOrg(conn, id) : ctx.scheduler.pool?.serverOrg(conn, id);
    if (!org) throw new SemibotError('NOT_FOUND', `no ${what} ${id} for this plane`, 404);
    return org;
  }
  async function remoteServer(conn: PlaneConnection, serverId: string) {
    const server = await getMcpServer(ctx.db, orgFor(conn, 'server', serverId), serverId);
    if (!server || server.transport !== 'streamable_http') throw new SemibotError('NOT_FOUND', `no remote MCP server ${serverId}`, 404);
    return server;
  }
  /** Whose memory a search reads: the plane's user, or (pool) the user of the session it names. */
  async function memoryOwner(conn: PlaneConnection, sessionId: string | undefined) {
    if (!conn.pool) return conn.principal;
    if (!sessionId) throw new SemibotError('BAD_FRAME', 'memory_search: a pool plane must name its session', 400);
    const s = await ownedSession(conn, sessionId);
    return { orgId: s.orgId, userId: s.userId };
  }

  return {
    onConnected: (conn) => {
      ctx.scheduler.touch(conn.instanceId);
      // other replicas route pool sessions here from now on, not from the next lease round
      if (conn.pool) void ctx.cluster.hosts.announcePool(conn.pool, true).catch(() => {});
      // a plane that dialled in here (its user's own machine, through the balancer) makes this replica its host
      else void ctx.cluster.hosts.renew([conn.principal.userId]).catch(() => {});
      ctx.runs.planeLoss.onConnected(conn);
    },
    onHeartbeat: (conn) => {
      if (conn.activeRuns > 0) ctx.scheduler.touch(conn.instanceId);
    },
    onDisconnected: (conn, reason) => {
      ctx.runs.planeLoss.onDisconnected(conn, reason);
      void ctx.scheduler.onDisconnected(conn.instanceId).catch(() => {});
    },
    onSseEvent: (conn, msg) => ctx.runs.onPlaneEvent(conn, msg),

    async onRequest(conn, msg: MsgOf<PlaneToControl, 'request'>) {
      ctx.planeRequests[msg.method] = (ctx.planeRequests[msg.method] ?? 0) + 1;
      switch (msg.method) {
        case 'get_history': {
          const params = parse(GetHistoryParams, msg.params, msg.method);
          await ownedSession(conn, params.sessionId);
          const history = await historyForPlane(ctx.db, params.sessionId, params.excludeRunId ?? null);
          return { messages: history.map((m) => ({ role: m.role, content: m.content })) };
        }
        case 'get_snapshot': {
          const { sessionId } = parse(GetSnapshotParams, msg.params, msg.method);
          await ownedSession(conn, sessionId);
          await ctx.snapshots.flush(); // one sent a moment ago may still be in its batch
          return { snapshot: await latestSnapshot(ctx.db, sessionId) };
        }
        case 'get_skill_package': {
          const { skillId } = parse(GetSkillPackageParams, msg.params, msg.method);
          const pkg = await skillPackage(ctx.db, orgFor(conn, 'skill', skillId), skillId);
          if (!pkg) throw new SemibotError('NOT_FOUND', `no skill ${skillId}`, 404);
          return pkg;
        }
        case 'memory_search': {
          const { sessionId, ...params } = parse(MemorySearchParams, msg.params, msg.method);
          const owner = await memoryOwner(conn, sessionId);
          return { results: await ctx.memory.search({ orgId: owner.orgId, userId: owner.userId, ...params }) };
        }
        case 'memory_write': {
          const params = parse(MemoryWriteParams, msg.params, msg.method);
          const session = await ownedSession(conn, params.sessionId);
          const memory = await ctx.memory.save({
            orgId: session.orgId,
            userId: session.userId,
            agentId: params.agentId ?? session.agentId,
            sessionId: session.id,
            content: params.content,
            tags: params.tags,
          });
          return { id: memory.id };
        }
        case 'mcp_list_tools': {
          const { serverId } = parse(McpListToolsParams, msg.params, msg.method);
          return { tools: await ctx.remoteMcp.listTools(await remoteServer(conn, serverId)) };
        }
        case 'mcp_call': {
          const params = parse(McpCallParams, msg.params, msg.method);
          return ctx.remoteMcp.call(await remoteServer(conn, params.serverId), params.tool, params.args);
        }
        default:
          return assertNever(msg.method, 'request method');
      }
    },

    async onFireAndForget(conn, msg: MsgOf<PlaneToControl, 'fire_and_forget'>) {
      switch (msg.method) {
        case 'usage_report': {
          const report = UsageReport.parse(msg.params);
          const session = await ownedSession(conn, report.sessionId);
          ctx.usage.add({ ...report, orgId: session.orgId, userId: session.userId, agentId: session.agentId });
          ctx.metrics?.llmTokens.inc({ model: report.model, direction: 'in' }, report.tokensIn);
          ctx.metrics?.llmTokens.inc({ model: report.model, direction: 'out' }, report.tokensOut);
          ctx.metrics?.llmLatency.observe({ model: report.model }, report.latencyMs / 1000);
          return;
        }
        case 'audit_log': {
          const a = AuditParams.parse(msg.params);
          const session = await ownedSession(conn, a.sessionId);
          await insertAudit(ctx.db, { orgId: session.orgId, userId: session.userId, sessionId: session.id, runId: a.runId, action: a.action, target: a.target ?? null, details: a.details });
          return;
        }
        case 'snapshot_sync': {
          const s = SnapshotParams.parse(msg.params);
          const session = await ownedSession(conn, s.sessionId);
          ctx.snapshots.add({ ...s, orgId: session.orgId, userId: session.userId });
          return;
        }
        default:
          return assertNever(msg.method, 'fire_and_forget method');
      }
    },
  };
}
