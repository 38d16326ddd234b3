import type { Skill, SkillIndexEntry, SkillPackage } from '@semibot/protocol';
import type { Queryable } from '../db/db.js';
import { timestamp } from './timestamps.js';
import { liveRowOfOrg } from './live-row.js';

export interface SkillFileInput {
  path: string;
  content: Buffer;
  executable: boolean;
}
export type { Skill } from '@semibot/protocol';
type Row = Record<string, unknown>;

const toSkill = (r: Row): Skill => ({
  id: r.id as string,
  name: r.name as string,
  description: r.description as string,
  requires: r.requires as Skill['requires'],
  hash: r.hash as string,
  sizeBytes: Number(r.size_bytes),
  createdAt: timestamp(r.created_at),
});

export async function insertSkill(
  q: Queryable,
  s: { orgId: string; userId: string; name: string; description: string; requires: Skill['requires']; hash: string; files: SkillFileInput[] },
): Promise<Skill> {
  const size = s.files.reduce((n, f) => n + f.content.length, 0);
  const [row] = await q.query(
    `INSERT INTO skills (org_id, created_by, name, description, requires, hash, size_bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [s.orgId, s.userId, s.name, s.description, JSON.stringify(s.requires), s.hash, size],
  );
  for (const f of s.files) {
    await q.query('INSERT INTO skill_files (skill_id, path, content, executable) VALUES ($1, $2, $3, $4)', [
      row!.id, f.path, f.content, f.executable,
    ]);
  }
  return toSkill(row!);
}

export async function listSkills(q: Queryable, orgId: string): Promise<Skill[]> {
  return (await q.query('SELECT * FROM skills WHERE org_id = $1 AND deleted_at IS NULL ORDER BY name', [orgId])).map(toSkill);
}

export async function getSkill(q: Queryable, orgId: string, id: string): Promise<(Skill & { files: { path: string; size: number; executable: boolean }[] }) | null> {
  const row = await liveRowOfOrg(q, 'skills', orgId, id);
  if (!row) return null;
  const files = await q.query(
    'SELECT path, octet_length(content) AS size, executable FROM skill_files WHERE skill_id = $1 ORDER BY path',
    [id],
  );
  return { ...toSkill(row), files: files.map((f) => ({ path: f.path as string, size: Number(f.size), executable: f.executable as boolean })) };
}

export async function deleteSkill(q: Queryable, orgId: string, id: string): Promise<boolean> {
  const rows = await q.query('UPDATE skills SET deleted_at = now() WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING id', [id, orgId]);
  return rows.length > 0;
}

/** The index a plane gets for an agent's skills (only those that still exist in the org). */
export async function skillIndex(q: Queryable, orgId: string, ids: string[]): Promise<SkillIndexEntry[]> {
  if (ids.length === 0) return [];
  const rows = await q.query(
    `SELECT * FROM skills WHERE org_id = $1 AND deleted_at IS NULL AND id::text = ANY($2::text[]) ORDER BY name`,
    [orgId, ids],
  );
  return rows.map((r) => {
    const s = toSkill(r);
    return { id: s.id, name: s.name, description: s.description, hash: s.hash, requires: s.requires };
  });
}

export async function skillPackage(q: Queryable, orgId: string, id: string): Promise<SkillPackage | null> {
  const [row] = await q.query('SELECT * FROM skills WHERE id = $1 AND org_id = $2', [id, orgId]);
  if (!row) return null;
  const files = await q.query('SELECT path, content, executable FROM skill_files WHERE skill_id = $1 ORDER BY path', [id]);
  return {
    skillId: id,
    name: row.name as string,
    hash: row.hash as string,
    files: files.map((f) => ({
      path: f.path as string,
      contentBase64: Buffer.from(f.content as Uint8Array).toString('base64'),
      executable: f.executable as boolean,
    })),
  };
}
