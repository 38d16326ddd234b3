import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SemibotError, type Agent, type Session } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { notFound, requireUuid } from '../http/errors.js';
import { getAgent, listAgents } from '../store/agents.js';
import { insertMessage } from '../store/messages.js';
import { createSession, getSession } from '../store/sessions.js';
import { RunAnswer } from './run-answer.js';

const Part = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const ChatMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(Part), z.null()]).optional(),
  })
  .passthrough();
/** OpenAI's request, as far as an agent can honour it; sampling parameters are the agent's and are ignored. */
const CompletionBody = z
  .object({
    model: z.string().min(1).max(200),
    messages: z.array(ChatMessage).min(1).max(1_000),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullable().optional(),
    tools: z.array(z.unknown()).optional(),
    functions: z.array(z.unknown()).optional(),
  })
  .passthrough();
type CompletionBody = z.infer<typeof CompletionBody>;

/** continues this session instead of starting one (then only the last user message is sent) */
const SESSION_HEADER = 'x-semibot-session-id';

const textOf = (m: z.infer<typeof ChatMessage>): string => {
  if (typeof m.content === 'string') return m.content;
  if (!m.content) return '';
  const other = m.content.find((p) => p.type !== 'text');
  if (other) throw new SemibotError('VALIDATION_ERROR', `/messages: content parts of type '${other.type}' are not supported (text only)`, 400);
  return m.content.map((p) => p.text ?? '').join('');
};

/** HTTP status of a failed run, for the non-streaming answer */
const statusOf = (code: string) =>
  code === 'VM_UNAVAILABLE' || code === 'VM_START_FAILED' ? 503 : code === 'LLM_ERROR' ? 502 : code === 'CONFLICT' ? 409 : 500;

/**
 * OpenAI's Chat Completions in front of any agent (`model` = an agent's id or name), so existing
 * OpenAI clients and SDKs can talk to Semibot agents with an `sbk_` API key. Each call is one run:
 * in a new session whose history is the request's earlier messages, or — with the
 * `X-Semibot-Session-Id` header — in that session, which keeps its own history. The agent brings
 * its own tools (a request's `tools` are refused); the stream is OpenAI's chunk format.
 */
export const openAiRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  async function agentFor(orgId: string, model: string): Promise<Agent> {
    const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(model) ? await getAgent(ctx.db, orgId, model) : null;
    if (byId) return byId;
    // by name: the most recently changed of that name
    const named = (await listAgents(ctx.db, orgId)).filter((a) => a.name === model).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    if (!named) throw new SemibotError('NOT_FOUND', `no agent has the id or name '${model}' (GET /v1/models lists them)`, 404);
    return named;
  }

  async function sessionFor(req: { headers: Record<string, unknown> }, orgId: string, userId: string, agent: Agent, body: CompletionBody): Promise<Session> {
    const header = req.headers[SESSION_HEADER];
    if (typeof header === 'string') {
      const session = await getSession(ctx.db, orgId, requireUuid(header, 'session'));
      if (!session) throw notFound('session');
      if (session.agentId !== agent.id) throw new SemibotError('CONFLICT', `session ${session.id} belongs to another agent than '${body.model}'`, 409);
      return session;
    }
    const first = body.messages.find((m) => m.role === 'user');
    const title = first ? `API: ${textOf(first).slice(0, 60)}` : 'API';
    const session = await createSession(ctx.db, { orgId, userId, agentId: agent.id, title, runtimeType: null });
    // the conversation so far becomes the session's history; the client's tool messages answer
    // tools of its own, which an agent does not have
    for (const m of body.messages.slice(0, -1)) {
      if (m.role === 'tool') continue;
      const role = m.role === 'developer' ? 'system' : m.role;
      await insertMessage(ctx.db, { orgId, sessionId: session.id, runId: null, role, content: textOf(m) });
    }
    return session;
  }

  app.get('/models', async (req) => {
    const agents = await listAgents(ctx.db, principal(req).orgId);
    return {
      object: 'list',
      data: agents.map((a) => ({ id: a.id, object: 'model', created: Math.floor(Date.parse(a.createdAt) / 1000), owned_by: 'semibot', name: a.name })),
    };
  });

  app.post('/chat/completions', { schema: { body: CompletionBody } }, async (req, reply) => {
    const p = principal(req);
    const body = req.body;
    if (body.tools?.length || body.functions?.length) {
      throw new SemibotError('VALIDATION_ERROR', '/tools: a Semibot agent brings its own tools; a request cannot add tools', 400);
    }
    const last = body.messages.at(-1)!;
    const content = last.role === 'user' ? textOf(last) : '';
    if (!content.trim()) throw new SemibotError('VALIDATION_ERROR', '/messages: the last message must be a user message with text', 400);
    const agent = await agentFor(p.orgId, body.model);
    const session = await sessionFor(req, p.orgId, p.userId, agent, body);
    const before = await ctx.events.lastId(session.id);
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const result = await ctx.runs.submit(p, session, content, key, req.id);
    const runId = result.run.id;
    const answer = new RunAnswer();
    const base = { id: `chatcmpl-${runId}`, created: Math.floor(Date.now() / 1000), model: body.model };
    const headers = { [SESSION_HEADER]: session.id, 'x-run-id': runId, 'x-request-id': req.id };

    if (!body.stream) {
      let ended!: () => void;
      const done = new Promise<void>((resolve) => (ended = resolve));
      const sub = await ctx.events.subscribe(session.id, result.duplicate ? 0 : before, (e) => (answer.add(e.event), e.event.type === 'done' && ended()), { runId });
      await done;
      sub.unsubscribe();
      if (answer.status !== 'completed') {
        const error = answer.error ?? { code: answer.status === 'cancelled' ? 'CONFLICT' : 'INTERNAL_ERROR', message: `the run was ${answer.status}` };
        return reply.status(statusOf(error.code)).headers(headers).send({ error: { ...error, type: 'server_error' } });
      }
      return reply.headers(headers).send({
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: answer.answer, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: { prompt_tokens: answer.tokensIn, completion_tokens: answer.tokensOut, total_tokens: answer.tokensIn + answer.tokensOut },
      });
    }

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => send(res, { ...base, object: 'chat.completion.chunk', choices, ...extra });
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    // comments keep proxies from closing a quiet stream (OpenAI's clients skip them)
    const heartbeat = setInterval(() => res.write(': hb\n\n'), ctx.config.sseHeartbeatMs);
    const sub = await ctx.events.subscribe(
      session.id,
      result.duplicate ? 0 : before,
      (e) => {
        if (res.writableEnded) return;
        answer.add(e.event);
        const text = answer.take();
        if (text) chunk([{ index: 0, delta: { content: text }, logprobs: null, finish_reason: null }]);
        if (e.event.type !== 'done') return;
        if (answer.status === 'completed') chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
        else send(res, { error: { ...(answer.error ?? { code: 'INTERNAL_ERROR', message: `the run ended ${answer.status}` }), type: 'server_error' } });
        if (body.stream_options?.include_usage) {
          chunk([], { usage: { prompt_tokens: answer.tokensIn, completion_tokens: answer.tokensOut, total_tokens: answer.tokensIn + answer.tokensOut } });
        }
        res.end('data: [DONE]\n\n');
      },
      { runId },
    );
    // a client that goes away stops its stream; its run goes on (the session keeps the answer)
    const stop = () => (clearInterval(heartbeat), sub.unsubscribe());
    if (res.writableEnded || res.destroyed) stop();
    else res.once('close', stop);
  });
};

function send(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}
