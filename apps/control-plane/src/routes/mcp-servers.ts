import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SemibotError, type McpServerView } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { principal } from '../http/auth-hook.js';
import { notFound, requireUuid } from '../http/errors.js';
import {
  deleteMcpServer,
  getMcpServer,
  insertMcpServer,
  listMcpServers,
  updateMcpServer,
  type McpServer,
  type McpServerInput,
} from '../store/mcp-servers.js';

const Base = z.object({
  name: z.string().min(1).max(200),
  transport: z.enum(['stdio', 'streamable_http']),
  command: z.string().min(1).max(1000).optional(),
  args: z.array(z.string().max(4000)).max(100),
  env: z.record(z.string(), z.string().max(10_000)),
  url: z.url({ protocol: /^https?$/ }).optional(),
  headers: z.record(z.string(), z.string().max(10_000)),
});
const Fields = Base.extend({ args: Base.shape.args.default([]), env: Base.shape.env.default({}), headers: Base.shape.headers.default({}) });
/** PATCH: only what the caller sent. (Fields.partial() would fill in the defaults and wipe the stored args, env and headers.) */
const PatchFields = Base.partial();

function checked(input: z.infer<typeof Fields>): McpServerInput {
  if (input.transport === 'stdio' && !input.command) throw new SemibotError('VALIDATION_ERROR', 'stdio servers need `command`', 400);
  if (input.transport === 'streamable_http' && !input.url) throw new SemibotError('VALIDATION_ERROR', 'streamable_http servers need `url`', 400);
  return { ...input, command: input.command ?? null, url: input.url ?? null };
}

/** Secrets are write-only: responses show which env vars and headers are set, never their values. */
function redacted(s: McpServer): McpServerView {
  const mask = (r: Record<string, string>) => Object.fromEntries(Object.keys(r).map((k) => [k, '***']));
  return { ...s, env: mask(s.env), headers: mask(s.headers) };
}

export const mcpServerRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  const Id = z.object({ id: z.string() });

  app.post('/mcp-servers', { schema: { body: Fields } }, async (req, reply) => {
    const p = principal(req);
    return reply.status(201).send(redacted(await insertMcpServer(ctx.db, p.orgId, p.userId, checked(req.body))));
  });

  app.get('/mcp-servers', async (req) => ({ data: (await listMcpServers(ctx.db, principal(req).orgId)).map(redacted) }));

  app.get('/mcp-servers/:id', { schema: { params: Id } }, async (req) => {
    const s = await getMcpServer(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'MCP server'));
    if (!s) throw notFound('MCP server');
    return redacted(s);
  });

  app.patch('/mcp-servers/:id', { schema: { params: Id, body: PatchFields } }, async (req) => {
    const orgId = principal(req).orgId;
    const current = await getMcpServer(ctx.db, orgId, requireUuid(req.params.id, 'MCP server'));
    if (!current) throw notFound('MCP server');
    const merged = Fields.parse({
      name: current.name,
      transport: current.transport,
      command: current.command ?? undefined,
      args: current.args,
      env: current.env,
      url: current.url ?? undefined,
      headers: current.headers,
      ...Object.fromEntries(Object.entries(req.body).filter(([, v]) => v !== undefined)),
    });
    const updated = await updateMcpServer(ctx.db, orgId, current.id, checked(merged));
    if (!updated) throw notFound('MCP server');
    return redacted(updated);
  });

  app.delete('/mcp-servers/:id', { schema: { params: Id } }, async (req, reply) => {
    if (!(await deleteMcpServer(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'MCP server')))) throw notFound('MCP server');
    return reply.status(204).send();
  });
};
