import { GetHistoryParams, SemibotError, UsageReport, assertNever, type MsgOf, type PlaneToControl } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import type { PlaneConnection } from './plane-connection.js';
import type { GatewayHandlers } from './ws-gateway.js';
import { historyForPlane } from '../store/messages.js';
import { getSessionById } from '../store/sessions.js';
import { insertUsage } from '../store/usage.js';

/**
 * What the control plane does for a plane. A plane's credential is scoped to one user: every
 * session it names must belong to that user, or it is told the session is unknown.
 */
export function planeHandlers(ctx: AppContext): GatewayHandlers {
  async function ownedSession(conn: PlaneConnection, sessionId: string) {
    const session = await getSessionById(ctx.db, sessionId);
    if (!session || session.userId !== conn.principal.userId) {
      throw new SemibotError('UNKNOWN_SESSION', `session ${sessionId} is not this plane's`, 404);
    }
    return session;
  }

  return {
    onConnected: () => {},
    onDisconnected: (conn, reason) => {
      ctx.runs.onPlaneGone(conn, reason);
      void ctx.scheduler.onDisconnected(conn.instanceId).catch(() => {});
    },
    onSseEvent: (conn, msg) => ctx.runs.onPlaneEvent(conn, msg),

    async onRequest(conn, msg: MsgOf<PlaneToControl, 'request'>) {
      switch (msg.method) {
        case 'get_history': {
          const params = GetHistoryParams.safeParse(msg.params);
          if (!params.success) throw new SemibotError('BAD_FRAME', 'get_history needs {sessionId, excludeRunId?}');
          await ownedSession(conn, params.data.sessionId);
          const history = await historyForPlane(ctx.db, params.data.sessionId, params.data.excludeRunId ?? null);
          return { messages: history.map((m) => ({ role: m.role, content: m.content })) };
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
          await insertUsage(ctx.db, { ...report, orgId: session.orgId, userId: session.userId, agentId: session.agentId });
          return;
        }
        default:
          return assertNever(msg.method, 'fire_and_forget method');
      }
    },
  };
}
