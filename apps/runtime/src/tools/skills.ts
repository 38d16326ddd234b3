import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync, accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { SkillIndexEntry, SkillPackage } from '@semibot/protocol';
import type { PlaneServices } from '../adapter.js';
import { runProcess } from './run-command.js';
import { capOutput, type Tool } from './tool.js';

/**
 * Skill packages cached on the plane's disk by content hash: fetched from the control plane the
 * first time an agent uses the skill (`get_skill_package`), then served from disk.
 */
export class SkillCache {
  private readonly inflight = new Map<string, Promise<string>>();
  fetches = 0;

  constructor(
    private readonly root: string,
    private readonly services: PlaneServices,
  ) {}

  /** The skill's directory on disk, fetching the package if this hash is not cached yet. */
  ensure(skill: SkillIndexEntry): Promise<string> {
    const dir = path.join(this.root, safeSegment(skill.hash));
    if (existsSync(path.join(dir, 'SKILL.md'))) return Promise.resolve(dir);
    let p = this.inflight.get(skill.hash);
    if (!p) {
      p = this.fetch(skill, dir).finally(() => this.inflight.delete(skill.hash));
      this.inflight.set(skill.hash, p);
    }
    return p;
  }

  private async fetch(skill: SkillIndexEntry, dir: string): Promise<string> {
    this.fetches++;
    const pkg = await this.services.request<SkillPackage>('get_skill_package', { skillId: skill.id });
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    for (const f of pkg.files) {
      const target = path.resolve(tmp, f.path);
      // the control plane validates paths at upload; the plane checks again before writing
      if (!target.startsWith(tmp + path.sep)) throw new Error(`skill ${skill.name}: refused path ${f.path}`);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, Buffer.from(f.contentBase64, 'base64'));
      if (f.executable) chmodSync(target, 0o755);
    }
    mkdirSync(this.root, { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir); // atomic: a crash never leaves a half-written skill under its hash
    return dir;
  }
}

function safeSegment(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/** Which of a skill's requirements this plane lacks (binaries on PATH, environment variables). */
export function missingRequirements(skill: SkillIndexEntry, env: NodeJS.ProcessEnv = process.env): string[] {
  const missing: string[] = [];
  for (const bin of skill.requires.bins) if (!onPath(bin, env.PATH ?? '')) missing.push(`binary ${bin}`);
  for (const name of skill.requires.env) if (!env[name]) missing.push(`env ${name}`);
  return missing;
}

function onPath(bin: string, pathVar: string): boolean {
  return pathVar.split(':').some((dir) => {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const INTERPRETERS: Record<string, string> = { '.js': 'node', '.mjs': 'node', '.py': 'python3', '.sh': 'sh' };

/** `use_skill`: read a skill's instructions, or run one of its scripts. */
export function skillTool(skills: SkillIndexEntry[], cache: SkillCache): Tool {
  const byName = new Map(skills.map((s) => [s.name, s]));
  return {
    kind: 'skill',
    spec: {
      name: 'use_skill',
      description:
        'Use one of your skills. Without `script`, returns the skill\'s instructions (SKILL.md) and its files; ' +
        'with `script` (a path inside the skill, e.g. scripts/run.py), runs it with `args` and returns its output.\n' +
        `Skills:\n${skills.map((s) => `- ${s.name}: ${s.description}`).join('\n')}`,
      parameters: {
        type: 'object',
        properties: {
          skill: { type: 'string', enum: skills.map((s) => s.name) },
          script: { type: 'string' },
          args: { type: 'array', items: { type: 'string' } },
        },
        required: ['skill'],
      },
    },
    async execute(args, ctx) {
      const skill = typeof args.skill === 'string' ? byName.get(args.skill) : undefined;
      if (!skill) return { content: `unknown skill: ${String(args.skill)}`, isError: true };
      const dir = await cache.ensure(skill);
      if (typeof args.script !== 'string') {
        return { content: readFileSync(path.join(dir, 'SKILL.md'), 'utf8'), display: { skill: skill.name, dir } };
      }
      const script = path.resolve(dir, args.script);
      if (!script.startsWith(dir + path.sep) || !existsSync(script)) return { content: `no script ${args.script} in skill ${skill.name}`, isError: true };
      const argv = Array.isArray(args.args) ? args.args.map(String) : [];
      const interpreter = INTERPRETERS[path.extname(script)];
      const r = await runProcess(interpreter ?? script, interpreter ? [script, ...argv] : argv, {
        cwd: ctx.workDir,
        timeoutMs: 60_000,
        signal: ctx.signal,
        env: { SKILL_DIR: dir },
      });
      return {
        content: capOutput(r.stdout + (r.stderr ? `\n--- stderr ---\n${r.stderr}` : '')),
        isError: r.timedOut || r.exitCode !== 0,
        display: { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut },
      };
    },
  };
}
