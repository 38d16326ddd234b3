import { createHash } from 'node:crypto';
import { SemibotError } from '@semibot/protocol';
import { parse as parseYaml } from 'yaml';
import type { SkillFileInput } from '../store/skills.js';

import { MAX_SKILL_BYTES, MAX_SKILL_FILES } from './limits.js';

const invalid = (message: string) => new SemibotError('VALIDATION_ERROR', message, 400);

/**
 * A path inside a skill package: relative, forward slashes, no `..`, no empty or dot segments.
 * Anything else could write outside the skill's directory on a plane, so it is refused.
 */
export function checkSkillPath(raw: string): string {
  if (raw.includes('\\') || raw.includes('\0')) throw invalid(`file name ${JSON.stringify(raw)}: backslashes and NUL are not allowed`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw invalid(`file name ${JSON.stringify(raw)}: absolute paths are not allowed`);
  const parts = raw.split('/').filter((p, i, all) => !(p === '' && i === all.length - 1));
  if (parts.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw invalid(`file name ${JSON.stringify(raw)}: empty, '.' or '..' segments are not allowed`);
  }
  return parts.join('/');
}

export interface ParsedSkill {
  name: string;
  description: string;
  requires: { bins: string[]; env: string[] };
  hash: string;
  files: SkillFileInput[];
}

/**
 * Validates a package (SKILL.md at its root, with YAML frontmatter `name`, `description`,
 * optional `requires: {bins, env}`) and computes its content hash. An archive whose files all sit
 * under one top folder is taken from inside that folder.
 */
export function parseSkillPackage(input: SkillFileInput[], nameOverride?: string): ParsedSkill {
  if (input.length === 0) throw invalid('a skill needs at least SKILL.md');
  if (input.length > MAX_SKILL_FILES) throw invalid(`a skill has at most ${MAX_SKILL_FILES} files`);
  let files = input.map((f) => ({ ...f, path: checkSkillPath(f.path) }));
  const total = files.reduce((n, f) => n + f.content.length, 0);
  if (total > MAX_SKILL_BYTES) throw invalid(`a skill is at most ${MAX_SKILL_BYTES} bytes`);
  if (!files.some((f) => f.path === 'SKILL.md')) {
    const tops = new Set(files.map((f) => f.path.split('/')[0]));
    const [top] = tops;
    if (tops.size === 1 && files.some((f) => f.path === `${top}/SKILL.md`)) {
      files = files.map((f) => ({ ...f, path: f.path.slice(top!.length + 1) }));
    }
  }
  if (new Set(files.map((f) => f.path)).size !== files.length) throw invalid('duplicate file names');
  const skillMd = files.find((f) => f.path === 'SKILL.md');
  if (!skillMd) throw invalid('SKILL.md is missing at the root of the skill');
  const meta = frontmatter(skillMd.content.toString('utf8'));
  const name = nameOverride ?? str(meta.name, 'name');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/.test(name)) throw invalid('skill name: letters, digits, _ . - (at most 100)');
  const description = str(meta.description, 'description');
  const req = (meta.requires ?? {}) as { bins?: unknown; env?: unknown };
  const requires = { bins: strings(req.bins, 'requires.bins'), env: strings(req.env, 'requires.env') };
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) {
    hash.update(`${f.path}\0${f.executable ? 1 : 0}\0${f.content.length}\0`).update(f.content);
  }
  return { name, description, requires, hash: hash.digest('hex'), files };
}

function frontmatter(md: string): Record<string, unknown> {
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(md);
  if (!m) throw invalid('SKILL.md must start with YAML frontmatter (--- name/description ---)');
  try {
    const v: unknown = parseYaml(m[1]!);
    if (!v || typeof v !== 'object') throw new Error('not a mapping');
    return v as Record<string, unknown>;
  } catch (err) {
    throw invalid(`SKILL.md frontmatter is not valid YAML: ${(err as Error).message}`);
  }
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || !v.trim()) throw invalid(`SKILL.md frontmatter needs a non-empty \`${what}\``);
  return v.trim();
}

function strings(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(`\`${what}\` must be a list of strings`);
  return v as string[];
}
