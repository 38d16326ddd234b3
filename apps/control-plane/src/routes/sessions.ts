import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { MessageCreateBody, SemibotError, SessionCreateBody } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { notFound, requireUuid } from '../http/errors.js';
import { openSse } from '../events/sse.js';
import { getAgent } from '../store/agents.js';
import { listConversation } from '../store/messages.js';
import { createSession, deleteSession, getSession, listSessions, type Session } from '../store/sessions.js';
import { getRunById } from '../store/runs.js';

const IdParams = z.object({ id: z.string() });
const EventsQuery = z.object({ lastEventId: z.string().optional() });

/** `Last-Event-ID` header wins over `?lastEventId=`; both must be a non-negative integer. */
function parseLastEventId(header: string | string[] | undefined, query: string | undefined): number {
  const raw = (Array.isArray(header) ? header[0] : header) ?? query;
  if (raw === undefined || raw === '') return 0;
  if (!/^\d{1,15}$/.test(raw)) throw new SemibotError('VALIDATION_ERROR', 'Last-Event-ID must be a non-negative integer', 400);
  return Number(raw);
}

export const sessionRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  async function ownSession(orgId: string, id: string) {
    const session = await getSession(ctx.db, orgId, requireUuid(id, 'session'));
    if (!session) throw notFound('session');
    return session;
  }
  /**
   * Sessions seen live recently, for posting messages: the submit statement checks again that the
   * session is live and the org's, so a stale entry costs nothing but a 404 — and a warm turn saves a
   * database round trip. Bounded; dropped on delete.
   */
  const postable = new Map<string, Session>();
  async function postableSession(orgId: string, id: string) {
    const key = `${orgId}/${id}`;
    const known = postable.get(key);
    if (known) return known;
    const session = await ownSession(orgId, id);
    if (postable.size >= 10_000) postable.clear();
    postable.set(key, session);
    return session;
  }

  app.post('/sessions', { schema: { body: SessionCreateBody } }, async (req, reply) => {
    const p = principal(req);
    const agent = await getAgent(ctx.db, p.orgId, requireUuid(req.body.agentId, 'agent'));
    if (!agent) throw notFound('agent');
    const session = await createSession(ctx.db, {
      orgId: p.orgId,
      userId: p.userId,
      agentId: agent.id,
      title: req.body.title ?? null,
      runtimeType: req.body.runtimeType ?? null,
    });
    return reply.status(201).send(session);
  });

  app.get('/sessions', { schema: { querystring: z.object({ agentId: z.string().optional() }) } }, async (req) => {
    const agentId = req.query.agentId ? requireUuid(req.query.agentId, 'agent') : undefined;
    return { data: await listSessions(ctx.db, principal(req).orgId, agentId) };
  });

  app.get('/sessions/:id', { schema: { params: IdParams } }, async (req) => ownSession(principal(req).orgId, req.params.id));

  app.delete('/sessions/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const orgId = principal(req).orgId;
    postable.delete(`${orgId}/${req.params.id}`);
    if (!(await deleteSession(ctx.db, orgId, requireUuid(req.params.id, 'session')))) throw notFound('session');
    return reply.status(204).send();
  });

  app.get('/sessions/:id/messages', { schema: { params: IdParams } }, async (req) => {
    const p = principal(req);
    const session = await ownSession(p.orgId, req.params.id);
    return { data: await listConversation(ctx.db, p.orgId, session.id) };
  });

  app.post('/sessions/:id/messages', { schema: { params: IdParams, body: MessageCreateBody } }, async (req, reply) => {
    const p = principal(req);
    const session = await postableSession(p.orgId, req.params.id);
    const wantsStream = (req.headers.accept ?? '').includes('text/event-stream');
    // Everything after this id is new; read before submitting so the run's first event cannot be missed.
    const before = wantsStream ? await ctx.events.lastId(session.id) : 0;
    const traceparent = typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined;
    const result = await ctx.runs.submit(p, session, req.body.content, req.body.idempotencyKey ?? null, req.id, traceparent).catch((err: unknown) => {
      if (SemibotError.is(err) && err.code === 'NOT_FOUND') postable.delete(`${p.orgId}/${session.id}`);
      throw err;
    });
    if (!wantsStream) {
      return reply.status(202).send({ runId: result.run.id, messageId: result.messageId, duplicate: result.duplicate });
    }
    await streamRun(reply, session.id, result.run.id, result.duplicate ? 0 : before, result.duplicate, req.id);
  });

  /**
   * The SSE stream of one run, from its first event to `done`; then the response ends. A duplicate
   * post replays the run from the log; when its events are no longer retained (all of them, or its
   * beginning), the client gets an explicit `resync` and the response ends — never a partial run, and
   * never a stream left waiting for a `done` that was pruned.
   */
  async function streamRun(reply: FastifyReply, sessionId: string, runId: string, afterId: number, replay: boolean, requestId: string) {
    reply.hijack();
    const sse = openSse(reply.raw, { heartbeatMs: ctx.config.sseHeartbeatMs, headers: { 'x-run-id': runId, 'x-request-id': requestId } });
    let started = !replay; // a replay must begin with the run's own `run` event
    let lost = false;
    const sub = await ctx.events.subscribe(
      sessionId,
      afterId,
      (e) => {
        if (lost) return;
        if (!started) {
          if (e.event.type !== 'run') return void (lost = true);
          started = true;
        }
        sse.send(e);
        if (e.event.type === 'done') sse.end();
      },
      { runId },
    );
    if (replay && !started && !lost) {
      // Nothing retained of it: if it has ended, its events are gone (appends still in flight land first).
      const run = await getRunById(ctx.db, runId);
      await ctx.events.flush();
      lost = !started && run !== null && run.status !== 'queued' && run.status !== 'running';
    }
    if (lost) {
      sub.unsubscribe();
      sse.sendUnsequenced({
        type: 'resync',
        runId,
        reason: `the events of run ${runId} are no longer retained; see GET /runs/${runId} and the session's messages`,
        oldestRetainedId: null,
      });
      sse.end();
      return;
    }
    if (sse.closed) sub.unsubscribe();
    else sse.onClose(sub.unsubscribe);
  }

  app.get('/sessions/:id/events', { schema: { params: IdParams, querystring: EventsQuery } }, async (req, reply) => {
    const p = principal(req);
    const session = await ownSession(p.orgId, req.params.id);
    const afterId = parseLastEventId(req.headers['last-event-id'], req.query.lastEventId);
    reply.hijack();
    const sse = openSse(reply.raw, { heartbeatMs: ctx.config.sseHeartbeatMs, headers: { 'x-request-id': req.id } });
    const held: Parameters<typeof sse.send>[0][] = [];
    let ready = false;
    const sub = await ctx.events.subscribe(session.id, afterId, (e) => (ready ? sse.send(e) : held.push(e)));
    if (sub.resync) {
      sse.sendUnsequenced({
        type: 'resync',
        runId: null,
        reason: `events after ${afterId} are no longer retained; reload the session's messages`,
        oldestRetainedId: sub.oldestRetainedId,
      });
    }
    ready = true;
    for (const e of held) sse.send(e);
    sse.onClose(sub.unsubscribe);
  });

  app.post('/sessions/:id/cancel', { schema: { params: IdParams } }, async (req, reply) => {
    const p = principal(req);
    const session = await ownSession(p.orgId, req.params.id);
    const run = await ctx.runs.cancel(p, session.id);
    return reply.status(202).send({ runId: run.id, status: 'cancelling' });
  });
};
