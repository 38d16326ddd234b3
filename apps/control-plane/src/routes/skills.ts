import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { SemibotError } from '@semibot/protocol';
import type { AppContext } from '../context.js';
import { isUniqueViolation } from '../db/db.js';
import { principal } from '../http/auth-hook.js';
import { notFound, requireUuid } from '../http/errors.js';
import { MAX_SKILL_BYTES } from '../skills/limits.js';
import { deleteSkill, getSkill, insertSkill, listSkills, type SkillFileInput } from '../store/skills.js';

const ARCHIVE_TYPES = ['application/gzip', 'application/x-gzip', 'application/x-tar', 'application/zip', 'application/octet-stream'];

const JsonSkillBody = z.object({
  name: z.string().max(100).optional(),
  files: z
    .array(
      z.object({
        path: z.string().min(1).max(500),
        content: z.string(),
        encoding: z.enum(['utf8', 'base64']).default('utf8'),
        executable: z.boolean().default(false),
      }),
    )
    .min(1)
    .max(500),
});

/** Skills in the AgentSkills format: JSON `{name?, files}` or a .tar/.tar.gz/.zip upload. */
export const skillRoutes = (ctx: AppContext): FastifyPluginAsyncZod => async (app) => {
  app.addContentTypeParser(ARCHIVE_TYPES, { parseAs: 'buffer', bodyLimit: MAX_SKILL_BYTES + 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  app.post('/skills', { bodyLimit: MAX_SKILL_BYTES * 2, schema: { querystring: z.object({ name: z.string().max(100).optional() }) } }, async (req, reply) => {
    const p = principal(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let files: SkillFileInput[];
    let name = req.query.name;
    // archive and YAML parsers load on the first upload, not at start-up
    const [{ filesFromTar, filesFromZip }, { parseSkillPackage }] = await Promise.all([
      import('../skills/archives.js'),
      import('../skills/package.js'),
    ]);
    if (Buffer.isBuffer(req.body)) {
      const body = req.body;
      files = type === 'application/zip' || (body[0] === 0x50 && body[1] === 0x4b) ? await filesFromZip(body) : await filesFromTar(body);
    } else {
      const parsed = JsonSkillBody.safeParse(req.body);
      if (!parsed.success) throw new SemibotError('VALIDATION_ERROR', z.prettifyError(parsed.error), 400);
      name ??= parsed.data.name;
      files = parsed.data.files.map((f) => ({ path: f.path, content: Buffer.from(f.content, f.encoding), executable: f.executable }));
    }
    const skill = parseSkillPackage(files, name);
    try {
      const created = await ctx.db.tx((q) => insertSkill(q, { orgId: p.orgId, userId: p.userId, ...skill }));
      return reply.status(201).send(created);
    } catch (err) {
      if (isUniqueViolation(err)) throw new SemibotError('CONFLICT', `a skill named ${skill.name} already exists`, 409);
      throw err;
    }
  });

  app.get('/skills', async (req) => ({ data: await listSkills(ctx.db, principal(req).orgId) }));

  app.get('/skills/:id', { schema: { params: z.object({ id: z.string() }) } }, async (req) => {
    const skill = await getSkill(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'skill'));
    if (!skill) throw notFound('skill');
    return skill;
  });

  app.delete('/skills/:id', { schema: { params: z.object({ id: z.string() }) } }, async (req, reply) => {
    if (!(await deleteSkill(ctx.db, principal(req).orgId, requireUuid(req.params.id, 'skill')))) throw notFound('skill');
    return reply.status(204).send();
  });
};
